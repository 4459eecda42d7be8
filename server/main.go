package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/netstack"
)

// Main runs a Petrel server with nats-server's command line until a signal stops it, and
// returns the exit code.
func Main(args []string, stderr io.Writer) int {
	c, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2 // the flag package's convention for a bad command line
	case err != nil:
		fmt.Fprintf(stderr, "petrel: %v\n", err)
		return 1
	}
	if c.signal != "" {
		if err := osSignaller().sendSignal(c.signal); err != nil {
			fmt.Fprintf(stderr, "petrel: %v\n", err)
			return 1
		}
		return 0
	}
	if c.showVersion {
		fmt.Fprintf(stderr, "petrel: v%s (nats-server %s compatible)\n", core.PetrelVersion, core.Version)
		return 0
	}
	opts, warnings, err := c.resolve()
	if err != nil {
		fmt.Fprintf(stderr, "petrel: %v\n", err)
		return 1
	}
	if c.testConfig {
		for _, w := range warnings {
			fmt.Fprintf(stderr, "petrel: warning: %s\n", w)
		}
		fmt.Fprintf(stderr, "petrel: configuration file %s is valid%s\n", opts.ConfigFile, digestNote(opts.ConfigFile))
		return 0
	}
	if c.cpuProfile != "" {
		stop, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "petrel: %v\n", err)
			return 1
		}
		defer stop()
	}
	tuneGC()
	beforeStop := func() {}
	if c.memProfile != "" {
		beforeStop = func() { writeHeapProfile(c.memProfile, stderr) }
	}
	return serve(opts, warnings, stderr, c.resolve, beforeStop)
}

// gcPercent is the collector's target for a server: the heap may grow to three times what is
// live before a collection, not Go's default of twice. The packed index leaves little live
// heap, so at the default the collector ran often enough to cost an async publisher about 7%
// (petrel-bench, 2026-12-03); at 200 every JetStream row's RSS stays below nats-server's.
const gcPercent = 200

// tuneGC sets gcPercent unless GOGC says otherwise.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
}

// writeHeapProfile writes what the heap holds, after a collection, so the profile shows live
// memory (go tool pprof -sample_index=inuse_space). It runs when a signal stops the server,
// before the shutdown lets go of everything.
func writeHeapProfile(path string, stderr io.Writer) {
	f, err := os.Create(path)
	if err == nil {
		runtime.GC()
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "petrel: heap profile: %v\n", err)
	}
}

// startCPUProfile profiles the process until the returned func runs.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// serve runs the server until SIGINT/SIGTERM (stop) or SIGUSR2 (lame duck) ends it;
// SIGHUP reloads the configuration (resolve reads the file and the command line again) and
// SIGUSR1 reopens the log file, as with nats-server. beforeStop runs when a signal stops it.
func serve(opts Options, warnings []string, stderr io.Writer, resolve func() (Options, []string, error), beforeStop func()) int {
	// Catch signals before starting, so one that arrives during start-up is handled
	// instead of killing the process.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGHUP)
	defer signal.Stop(sigs)

	logs := newLogOutput(stderr)
	if err := logs.Use(opts.LogFile); err != nil {
		fmt.Fprintf(stderr, "petrel: %v\n", err)
		return 1
	}
	defer logs.Close()
	e := netstack.NewEnv(envName(opts), netstack.Options{LogWriter: logs, LogLevel: env.LevelTrace})
	level := newLevelLogger(e.Log, LogLevel(opts))
	e.Log = level // netstack's own lines are warnings and errors, which every level writes
	for _, w := range warnings {
		e.Log.Logf(env.LevelWarn, "%s", w)
	}
	s, err := New(opts, e)
	if err == nil {
		s.useLogging(logs, level)
		s.core.SetReloader(func(done func(error)) { go func() { done(s.reloadFromFile(resolve)) }() })
		err = s.Start()
	}
	if err != nil {
		e.Log.Logf(env.LevelError, "%v", err)
		return 1
	}
	return s.handleSignals(sigs, resolve, beforeStop)
}

// handleSignals serves signals until the server has stopped.
func (s *Server) handleSignals(sigs <-chan os.Signal, resolve func() (Options, []string, error), beforeStop func()) int {
	lameDuck := make(chan struct{})
	inLameDuck := false
	for {
		select {
		case <-lameDuck:
			return 0
		case sig := <-sigs:
			s.log.Logf(env.LevelInfo, "Trapped %q signal", sig)
			switch sig {
			case syscall.SIGHUP:
				s.reloadFromFile(resolve)
			case syscall.SIGUSR1:
				s.ReopenLogFile()
			case syscall.SIGUSR2:
				if !inLameDuck {
					inLameDuck = true
					go func() { s.LameDuck(); close(lameDuck) }()
				}
			case syscall.SIGTERM:
				if !inLameDuck { // nats-server lets lame duck finish on SIGTERM
					beforeStop()
					s.Shutdown()
					return 0
				}
			default: // SIGINT
				beforeStop()
				s.Shutdown()
				return 0
			}
		}
	}
}

// reloadFromFile reads the configuration again and reloads it, logging a refusal.
func (s *Server) reloadFromFile(resolve func() (Options, []string, error)) error {
	next, warnings, err := resolve()
	if err == nil {
		for _, w := range warnings {
			s.log.Logf(env.LevelWarn, "%s", w)
		}
		err = s.Reload(next)
	}
	if err != nil {
		s.log.Logf(env.LevelError, "Failed to reload server configuration: %v", err)
	}
	return err
}

// envName names the node in logs: the server name when given, else the host's name.
func envName(opts Options) string {
	if opts.Core.ServerName != "" {
		return opts.Core.ServerName
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		return host
	}
	return "petrel"
}
