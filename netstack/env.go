package netstack

import (
	"io"

	"github.com/petrel-io/petrel/core/env"
)

// Options configures NewEnv. The zero value logs everything to stderr and exits the process
// on a halt.
type Options struct {
	// LogWriter receives log lines; nil means os.Stderr.
	LogWriter io.Writer
	// LogLevel is the least important level written. The zero value is env.LevelTrace, so
	// a caller that wants less sets it explicitly.
	LogLevel env.Level
	// Halt is called after a function posted to an executor panicked with env.HaltError
	// (which has already been logged). nil means os.Exit(2). A hook that returns lets the
	// executor go on with its queue, which only tests should want.
	Halt func(error)
}

// NewEnv returns an Env backed by the operating system. Mono counts from this call.
func NewEnv(name string, opts Options) *env.Env {
	log := newLogger(opts.LogWriter, opts.LogLevel)
	clk := newClock()
	e := &env.Env{
		Name:  name,
		Clock: clk,
		Rand:  newRand(),
		FS:    osFS{},
		Net:   &osNet{log: log, chunks: newChunkPool()},
		Exec:  newExecutors(log, opts.Halt),
		Log:   log,
		Host:  newHost(clk),
		Probe: env.NopProbe{},
	}
	e.Validate()
	return e
}
