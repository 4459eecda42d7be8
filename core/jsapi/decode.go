package jsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

// DecodeRequest decodes an API request body into v as nats-server does in its default
// strict mode: unknown fields are refused, a syntax error names its offset, and several
// JSON values in a row are decoded in turn into v. An empty body leaves v as it is. The
// error is the invalid JSON error (10025) with the decoder's text.
func DecodeRequest(body []byte, v any) *Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	for {
		err := dec.Decode(v)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			var syntax *json.SyntaxError
			text := err.Error()
			if errors.As(err, &syntax) {
				text += " at offset " + strconv.FormatInt(syntax.Offset, 10)
			}
			return NewError(ErrInvalidJSON, text)
		}
	}
}
