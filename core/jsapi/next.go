package jsapi

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// ParseNextRequest reads a pull request body (CONSUMER.MSG.NEXT's, or what follows +NXT in
// an ack) the way nats-server does: empty means one message; a body starting with '{' is
// the JSON request; a bare integer is the batch size (taken as is, even 0 or negative);
// anything else also means one message. A JSON body whose idle_heartbeat is more than half
// its expires (or set without expires) is refused.
//
// The error is not an API error: a pull request is answered with a status message, so it
// carries Code 400 and the status description ("Bad Request - ..."), with no err_code.
func ParseNextRequest(body []byte) (NextRequest, *Error) {
	req := bytes.TrimSpace(body)
	switch {
	case len(req) == 0:
		return NextRequest{Batch: 1}, nil
	case req[0] == '{':
		return parseNextJSON(req)
	}
	if n, err := strconv.Atoi(string(req)); err == nil {
		return NextRequest{Batch: n}, nil
	}
	return NextRequest{Batch: 1}, nil
}

func parseNextJSON(req []byte) (NextRequest, *Error) {
	// The local type carries nats-server's type name, so that a decoding error reads the
	// same as there ("... Go struct field JSApiConsumerGetNextRequest.batch of type int").
	type JSApiConsumerGetNextRequest NextRequest
	var r JSApiConsumerGetNextRequest
	if err := json.Unmarshal(req, &r); err != nil {
		return NextRequest{}, badPullRequest(err.Error())
	}
	if r.Heartbeat > 0 && r.Heartbeat*2 > r.Expires {
		return NextRequest{}, badPullRequest("heartbeat value too large")
	}
	return NextRequest(r), nil
}

func badPullRequest(why string) *Error {
	return &Error{Code: 400, Description: "Bad Request - " + why}
}
