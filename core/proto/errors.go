package proto

import "errors"

// Errors the parser reports. Their texts are the -ERR strings clients match on.
var (
	ErrUnknownOp      = errors.New("Unknown Protocol Operation")
	ErrMaxControlLine = errors.New("maximum control line exceeded")
	ErrMaxPayload     = errors.New("Maximum Payload Violation")
)
