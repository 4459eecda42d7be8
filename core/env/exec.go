package env

import "fmt"

// Executor runs posted functions one at a time, in the order they were posted. Functions
// posted to different executors may run concurrently (in netstack) or interleaved in a seeded
// order (in sim); functions on one executor never overlap.
type Executor interface {
	// Post queues fn to run after everything posted before it. It never blocks and never
	// runs fn (or anything else) on the caller's goroutine, so a caller may post while
	// holding a lock the posted function takes.
	Post(fn func())
}

// Executors makes serial executors. The engine gives each independent actor (a client
// connection, a stream, a raft group) its own, so production runs them in parallel while the
// simulator runs them all on one goroutine.
type Executors interface {
	// New returns a new serial executor; name appears in traces and panics.
	New(name string) Executor
}

// HaltError is the panic value of Halt. Hosts recover it: netstack logs it and exits the
// process; sim crashes the node (losing unsynced state) and restarts it later.
type HaltError struct{ Err error }

func (h HaltError) Error() string { return fmt.Sprintf("halt: %v", h.Err) }

func (h HaltError) Unwrap() error { return h.Err }

// Halt stops the node because it cannot continue safely (fail-stop), for example after a
// failed fsync whose data it has promised to keep. It panics with a HaltError and never
// returns. Recovery happens on restart, from what the disk holds.
func Halt(err error) {
	panic(HaltError{Err: err})
}
