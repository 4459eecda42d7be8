package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/auth"
)

const usage = `Usage: petrel [options]

Server options:
  -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
  -p, --port <port>                Use port for clients (default: 4222, -1 for any)
  -n, --name, --server_name <name> Server name (default: the server id)
  --client_advertise <host:port>   Client URL to advertise to other servers
  -m, --http_port <port>           Use port for HTTP monitoring
  -c, --config <file>              Configuration file
  -t                               Test the configuration and exit
  -P, --pid <file>                 File to store the process id
  -sl, --signal <signal>[=<pid>]   Send a signal to a running petrel (ldm, stop, quit, term,
                                   reopen, reload); <pid> is a pid or a pid file's path
  --ports_file_dir <dir>           Write <dir>/<executable>_<pid>.ports with the listen URLs
  -v, --version                    Show the version and exit
  --profile_cpu <file>             Write a CPU profile to file until exit
  --profile_mem <file>             Write a heap profile to file at exit

Logging options:
  -l, --log <file>                 File to redirect log output to
  -T, --logtime                    Timestamp log entries (default: true)
  -D, --debug                      Enable debug output
  -V, --trace                      Trace the raw protocol
  -DV                              Debug and trace
  -VV, -DVV                        Verbose trace (same as -V, -DV here)

Authorization options:
  --user <user>                    User required for connections
  --pass <password>                Password required for connections
  --auth <token>                   Authorization token required for connections

TLS options:
  --tls                            Enable TLS, do not verify clients
  --tlscert <file>                 Server certificate file
  --tlskey <file>                  Private key for the server certificate
  --tlsverify                      Enable TLS, verify client certificates
  --tlscacert <file>               Client certificate CA for verification

Cluster options:
  --cluster <url>                  Listen for routes on nats://host:port (-1: any port)
  --cluster_listen <url>           Same as --cluster
  --routes <url,url,...>           Routes to solicit (nats-route://[user:pass@]host:port)
  --cluster_name <name>            Cluster name (default: a generated one)
  --cluster_advertise <host:port>  Route address to advertise to other servers
  --no_advertise                   Do not advertise the cluster's servers to clients
  --connect_retries <n>            Reconnect attempts for implicit routes

JetStream options:
  -js, --jetstream                 Enable JetStream
  -sd, --store_dir <dir>           JetStream storage directory
`

// errUsage marks a command line the flag package has already reported.
var errUsage = errors.New("invalid command line")

// cli is what the command line said, including which options it set, since those override
// the configuration file.
type cli struct {
	opts        Options
	set         map[string]bool
	user, pass  string
	token       string
	tls         bool
	testConfig  bool
	showVersion bool
	cpuProfile  string // write a CPU profile here until exit (for performance work)
	memProfile  string // write a heap profile here at exit (for memory work)
	signal      string // --signal: send it to a running server instead of serving
	// clusterURL and routes are --cluster and --routes as given (cli_cluster.go).
	clusterURL, routes string
}

// parseFlags reads the command line. Several spellings share one variable; Go's flag
// package accepts each with one dash or two.
func parseFlags(args []string, output io.Writer) (*cli, error) {
	c := &cli{set: map[string]bool{}}
	o := &c.opts
	fs := flag.NewFlagSet("petrel", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.Usage = func() { fmt.Fprint(output, usage) }
	str := func(p *string, def string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, def, "")
		}
	}
	num := func(p *int, def int, names ...string) {
		for _, n := range names {
			fs.IntVar(p, n, def, "")
		}
	}
	boolean := func(p *bool, names ...string) {
		for _, n := range names {
			fs.BoolVar(p, n, false, "")
		}
	}
	str(&o.Core.Host, DefaultHost, "a", "addr", "net")
	num(&o.Core.Port, core.DefaultPort, "p", "port")
	str(&o.Core.ServerName, "", "n", "name", "server_name")
	str(&o.ConfigFile, "", "c", "config")
	num(&o.HTTPPort, 0, "m", "http_port")
	str(&o.PidFile, "", "P", "pid")
	str(&o.PortsFileDir, "", "ports_file_dir")
	str(&c.signal, "", "sl", "signal")
	str(&o.LogFile, "", "l", "log")
	boolean(&o.Logtime, "T", "logtime")
	boolean(&o.Debug, "D", "debug")
	boolean(&o.Trace, "V", "trace", "VV")
	var debugTrace bool
	boolean(&debugTrace, "DV", "DVV")
	str(&c.user, "", "user")
	str(&c.pass, "", "pass")
	str(&c.token, "", "auth")
	boolean(&c.tls, "tls")
	str(&o.TLSCert, "", "tlscert")
	str(&o.TLSKey, "", "tlskey")
	boolean(&o.TLSVerify, "tlsverify")
	str(&o.TLSCACert, "", "tlscacert")
	boolean(&o.Core.JetStream, "js", "jetstream")
	str(&o.StoreDir, "", "sd", "store_dir")
	c.defineClusterFlags(fs)
	boolean(&c.testConfig, "t")
	str(&c.cpuProfile, "", "profile_cpu")
	str(&c.memProfile, "", "profile_mem")
	boolean(&c.showVersion, "v", "version")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	fs.Visit(func(f *flag.Flag) { c.set[canonicalFlag(f.Name)] = true })
	if debugTrace {
		o.Debug, o.Trace = true, true
		c.set["debug"], c.set["trace"] = true, true
	}
	if o.Core.Port == -1 {
		o.Core.Port = 0 // nats-server's spelling of "any free port"
	}
	c.applyAuth()
	return c, c.applyCluster()
}

// canonicalFlag maps every spelling of a flag to one name, for override bookkeeping.
func canonicalFlag(name string) string {
	switch name {
	case "a", "addr", "net":
		return "host"
	case "p", "port":
		return "port"
	case "n", "name", "server_name":
		return "server_name"
	case "m", "http_port":
		return "http_port"
	case "D", "debug":
		return "debug"
	case "V", "trace", "VV":
		return "trace"
	case "js", "jetstream":
		return "jetstream"
	case "sd", "store_dir":
		return "store_dir"
	case "l", "log":
		return "log_file"
	case "T", "logtime":
		return "logtime"
	case "P", "pid":
		return "pid_file"
	case "cluster", "cluster_listen":
		return "cluster"
	}
	return strings.TrimLeft(name, "-")
}

// applyAuth turns --user/--pass/--auth into the engine's auth config.
func (c *cli) applyAuth() {
	if c.user != "" || c.pass != "" {
		c.opts.Core.Auth.Users = []auth.User{{Name: c.user, Password: c.pass}}
		c.set["authorization"] = true
	}
	if c.token != "" {
		c.opts.Core.Auth.Token = c.token
		c.set["authorization"] = true
	}
	if c.tls || c.opts.TLSVerify || c.opts.TLSCert != "" {
		c.set["tls"] = true
	}
}
