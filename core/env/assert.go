package env

import "fmt"

// Assertf panics with the formatted message when cond is false. Use it for programmer errors
// and invariants: states that must never happen, whatever the input. Operating errors (a bad
// request, a failed write) are returned, never asserted.
func Assertf(cond bool, format string, args ...any) {
	if !cond {
		panic(AssertionError(fmt.Sprintf(format, args...)))
	}
}

// AssertionError is the panic value of a failed Assertf, so hosts can tell a broken
// invariant from other panics.
type AssertionError string

func (a AssertionError) Error() string { return "assertion failed: " + string(a) }
