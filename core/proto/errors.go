package proto

import "errors"

// Errors the parser reports. The first three texts are the -ERR strings clients match on;
// ErrBadArguments has no -ERR: nats-server closes such a connection without one.
var (
	ErrUnknownOp      = errors.New("Unknown Protocol Operation")
	ErrMaxControlLine = errors.New("maximum control line exceeded")
	ErrMaxPayload     = errors.New("Maximum Payload Violation")
	// ErrBadArguments: a known op with arguments of the wrong number or form.
	ErrBadArguments = errors.New("malformed arguments")
)
