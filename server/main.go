package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
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
		fmt.Fprintf(stderr, "petrel: configuration file %s test is successful\n", opts.ConfigFile)
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
	return serve(opts, warnings, stderr)
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

// serve runs the server until SIGINT/SIGTERM (stop) or SIGUSR2 (lame duck).
func serve(opts Options, warnings []string, stderr io.Writer) int {
	// Catch signals before starting, so one that arrives during start-up shuts down
	// cleanly instead of killing the process.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	logOut := stderr
	if opts.LogFile != "" {
		f, err := os.OpenFile(opts.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "petrel: open log file: %v\n", err)
			return 1
		}
		defer f.Close()
		logOut = f
	}
	e := netstack.NewEnv(envName(opts), netstack.Options{LogWriter: logOut, LogLevel: LogLevel(opts)})
	for _, w := range warnings {
		e.Log.Logf(env.LevelWarn, "%s", w)
	}
	s, err := New(opts, e)
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		e.Log.Logf(env.LevelError, "%v", err)
		return 1
	}
	if opts.PidFile != "" {
		if err := os.WriteFile(opts.PidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			e.Log.Logf(env.LevelWarn, "write pid file: %v", err)
		}
		defer os.Remove(opts.PidFile)
	}
	sig := <-sigs
	e.Log.Logf(env.LevelDebug, "Trapped %q signal", sig)
	if sig == syscall.SIGUSR2 {
		s.LameDuck()
	} else {
		s.Shutdown()
	}
	return 0
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
