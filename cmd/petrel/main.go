// Command petrel runs a Petrel server. It accepts nats-server's flag spellings so that
// existing scripts and habits keep working.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/netstack"
	"github.com/petrel-io/petrel/server"
)

// defaultPort is the NATS client port.
const defaultPort = 4222

const usage = `Usage: petrel [options]

Server options:
  -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
  -p, --port <port>                Use port for clients (default: 4222)
  -n, --name, --server_name <name> Server name (default: the host's)
  -m, --http_port <port>           HTTP monitoring port (not supported yet; ignored)
  -c, --config <file>              Configuration file (not supported yet)

Logging options:
  -D                               Enable debug output
  -V                               Enable trace output
  -DV                              Enable debug and trace output

JetStream options:
  -js, --jetstream                 Enable JetStream (not supported yet)
  -sd, --store_dir <dir>           JetStream storage directory
`

// errUsage marks a command line the flag package has already reported, with the usage.
var errUsage = errors.New("invalid command line")

// cliFlags is what the command line asked for, beyond server.Options.
type cliFlags struct {
	opts       server.Options
	debugTrace bool
	config     string
	httpPort   int
}

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run is main without the exit, so its exit code is explicit.
func run(args []string, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2 // the flag package's convention for a bad command line
	}
	if err != nil {
		fmt.Fprintf(stderr, "petrel: %v\n", err)
		return 1
	}
	// Catch signals before starting, so one that arrives during start-up shuts down
	// cleanly instead of killing the process.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	e := netstack.NewEnv(envName(f.opts), netstack.Options{
		LogWriter: stderr,
		LogLevel:  server.LogLevel(f.opts),
	})
	if f.httpPort != 0 {
		e.Log.Logf(env.LevelWarn, "HTTP monitoring is not supported yet; ignoring port %d", f.httpPort)
	}
	s, err := server.New(f.opts, e)
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		e.Log.Logf(env.LevelError, "%v", err)
		return 1
	}
	sig := <-sigs
	e.Log.Logf(env.LevelDebug, "Trapped %q signal", sig)
	s.Shutdown()
	return 0
}

// parseFlags reads the command line into options. Several spellings share one variable;
// Go's flag package accepts each with one dash or two.
func parseFlags(args []string, output io.Writer) (cliFlags, error) {
	var f cliFlags
	fs := flag.NewFlagSet("petrel", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() { fmt.Fprint(output, usage) }
	for _, name := range []string{"a", "addr", "net"} {
		fs.StringVar(&f.opts.Host, name, server.DefaultHost, "")
	}
	for _, name := range []string{"p", "port"} {
		fs.IntVar(&f.opts.Port, name, defaultPort, "")
	}
	for _, name := range []string{"n", "name", "server_name"} {
		fs.StringVar(&f.opts.ServerName, name, "", "")
	}
	for _, name := range []string{"js", "jetstream"} {
		fs.BoolVar(&f.opts.JetStream, name, false, "")
	}
	for _, name := range []string{"sd", "store_dir"} {
		fs.StringVar(&f.opts.StoreDir, name, "", "")
	}
	for _, name := range []string{"c", "config"} {
		fs.StringVar(&f.config, name, "", "")
	}
	for _, name := range []string{"m", "http_port"} {
		fs.IntVar(&f.httpPort, name, 0, "")
	}
	fs.BoolVar(&f.opts.Debug, "D", false, "")
	fs.BoolVar(&f.opts.Trace, "V", false, "")
	// -DV is its own flag: Go's flag package does not combine single-letter flags.
	fs.BoolVar(&f.debugTrace, "DV", false, "")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, err
		}
		return f, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if f.debugTrace {
		f.opts.Debug, f.opts.Trace = true, true
	}
	if f.config != "" {
		return f, fmt.Errorf("config file %q: config files are not supported yet", f.config)
	}
	return f, nil
}

// envName names the node in the Env: the server name when given, else the host's name,
// which is what tells nodes apart in a log collected from many machines.
func envName(opts server.Options) string {
	if opts.ServerName != "" {
		return opts.ServerName
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		return host
	}
	return "petrel"
}
