package jsapi

import "strings"

// Error is the API's error envelope: an HTTP-like code, nats-server's err_code and a
// description. It is an error so that the layers below can return it as one.
type Error struct {
	Code        int     `json:"code"`
	ErrCode     ErrCode `json:"err_code,omitempty"`
	Description string  `json:"description,omitempty"`
}

func (e *Error) Error() string { return e.Description }

// Is matches another *Error with the same err_code, so errors.Is(err, jsapi.E(code)) works
// whatever the description says.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.ErrCode == e.ErrCode
}

// ErrCode is nats-server's numeric error code (10xxx).
type ErrCode uint16

// The error codes Petrel answers with (nats-server's numbers and texts).
const (
	ErrClusterNotAvailable     ErrCode = 10008
	ErrBadRequest              ErrCode = 10003
	ErrConsumerCreate          ErrCode = 10012
	ErrConsumerNameExists      ErrCode = 10013
	ErrConsumerNotFound        ErrCode = 10014
	ErrInsufficientResources   ErrCode = 10023
	ErrInvalidJSON             ErrCode = 10025
	ErrMaxConsumers            ErrCode = 10026
	ErrMaxStreams              ErrCode = 10027
	ErrMemoryResources         ErrCode = 10028
	ErrNoMessageFound          ErrCode = 10037
	ErrNotEmptyRequest         ErrCode = 10038
	ErrNotEnabledForAccount    ErrCode = 10039
	ErrStorageResources        ErrCode = 10047
	ErrStreamCreate            ErrCode = 10049
	ErrStreamInvalidConfig     ErrCode = 10052
	ErrStreamMessageTooBig     ErrCode = 10054
	ErrStreamMismatch          ErrCode = 10056
	ErrStreamNameExists        ErrCode = 10058
	ErrStreamNotFound          ErrCode = 10059
	ErrStreamNotMatch          ErrCode = 10060
	ErrStreamSnapshot          ErrCode = 10064
	ErrStreamSubjectOverlap    ErrCode = 10065
	ErrStreamUpdate            ErrCode = 10069
	ErrStreamWrongLastMsgID    ErrCode = 10070
	ErrStreamWrongLastSequence ErrCode = 10071
	ErrReplicasNotSupported    ErrCode = 10074
	ErrNotEnabled              ErrCode = 10076
	ErrStreamStoreFailed       ErrCode = 10077
	ErrConsumerFilterMismatch  ErrCode = 10131
	ErrConsumerBothFilters     ErrCode = 10136
	ErrConsumerOverlapFilters  ErrCode = 10138
	ErrConsumerEmptyFilter     ErrCode = 10139
	ErrConsumerAlreadyExists   ErrCode = 10148
	ErrConsumerDoesNotExist    ErrCode = 10149
	ErrMessageTTLInvalid       ErrCode = 10165
	ErrMessageTTLDisabled      ErrCode = 10166
	ErrRequiredAPILevel        ErrCode = 10185
)

// errorDefs, every code's HTTP-like code and text, is generated from nats-server's
// errors.json into errors_table.go together with constants for the codes not named above.
//go:generate go run ../../cmd/petrel-jserrors -in $GOMODCACHE/github.com/nats-io/nats-server/v2@v2.15.2/server/errors.json -names errors.go -out errors_table.go

type errorDef struct {
	code int
	text string // {name} placeholders are filled by NewError's arguments, in order
}

// NewError builds the error for code; args fill the text's {placeholders} in order.
func NewError(code ErrCode, args ...string) *Error {
	def, ok := errorDefs[code]
	if !ok {
		panic("jsapi: unknown error code " + itoa(uint64(code)))
	}
	text := def.text
	for _, a := range args {
		open := strings.IndexByte(text, '{')
		end := strings.IndexByte(text, '}')
		if open < 0 || end < open {
			break
		}
		text = text[:open] + a + text[end+1:]
	}
	return &Error{Code: def.code, ErrCode: code, Description: text}
}

// E is NewError for a code whose text takes no argument; it is what errors.Is compares
// against.
func E(code ErrCode) *Error { return NewError(code) }

func itoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}
