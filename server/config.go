package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/server/conf"
)

// resolve combines the configuration file (if any) with the command line, which wins, as
// with nats-server.
func (c *cli) resolve() (Options, []string, error) {
	if c.opts.ConfigFile == "" {
		return c.opts, nil, nil
	}
	tree, err := conf.ParseFile(c.opts.ConfigFile)
	if err != nil {
		return Options{}, nil, fmt.Errorf("config: %w", err)
	}
	opts := Options{ConfigFile: c.opts.ConfigFile, Core: core.Options{Host: DefaultHost, Port: core.DefaultPort}}
	a := &applier{opts: &opts}
	if err := a.apply(tree); err != nil {
		return Options{}, nil, err
	}
	c.overlay(&opts)
	single := a.singleUser
	if c.set["authorization"] {
		single = c.user
	}
	if err := a.finishWebSocket(&opts, single, trustsOperators(tree)); err != nil {
		return Options{}, nil, err
	}
	if opts.Core.Port == -1 {
		opts.Core.Port = 0 // nats-server's "any free port"
	}
	return opts, a.warnings, nil
}

// overlay copies what the command line set over the file's values.
func (c *cli) overlay(o *Options) {
	f := &c.opts
	copies := map[string]func(){
		"host":          func() { o.Core.Host = f.Core.Host },
		"port":          func() { o.Core.Port = f.Core.Port },
		"server_name":   func() { o.Core.ServerName = f.Core.ServerName },
		"http_port":     func() { o.HTTPPort, o.HTTPHost = f.HTTPPort, f.HTTPHost },
		"debug":         func() { o.Debug = f.Debug },
		"trace":         func() { o.Trace = f.Trace },
		"jetstream":     func() { o.Core.JetStream = f.Core.JetStream },
		"store_dir":     func() { o.StoreDir = f.StoreDir },
		"log_file":      func() { o.LogFile = f.LogFile },
		"logtime":       func() { o.Logtime = f.Logtime },
		"pid_file":      func() { o.PidFile = f.PidFile },
		"authorization": func() { o.Core.Auth.Users, o.Core.Auth.Token = f.Core.Auth.Users, f.Core.Auth.Token },
		"tls": func() {
			o.TLSCert, o.TLSKey, o.TLSCACert, o.TLSVerify = f.TLSCert, f.TLSKey, f.TLSCACert, f.TLSVerify
		},
	}
	for name := range c.set {
		if cp, ok := copies[name]; ok {
			cp()
		}
	}
}

// applier walks the parsed tree into Options, collecting warnings.
type applier struct {
	opts     *Options
	warnings []string
	// singleUser names the authorization block's single user, which a WebSocket override
	// replaces; ws is the websocket block, once read (config_ws.go).
	singleUser string
	ws         *wsBlock
}

func (a *applier) warn(v *conf.Value, format string, args ...any) {
	a.warnings = append(a.warnings, v.Pos.String()+": "+fmt.Sprintf(format, args...))
}

// notYet are nats-server options Petrel knows but does not implement yet: accepted with a
// warning so a nats-server file starts, rather than failing on them.
var notYet = map[string]string{
	"cluster": "clustering", "gateway": "gateways", "leafnodes": "leaf nodes", "leaf": "leaf nodes",
	"mqtt": "MQTT", "accounts": "multiple accounts", "system_account": "the system account",
	"operator": "operator JWTs", "resolver": "account resolvers", "resolver_preload": "account resolvers",
	"mappings": "subject mappings", "https": "HTTPS monitoring", "https_port": "HTTPS monitoring",
	"syslog": "syslog", "remote_syslog": "syslog", "ocsp": "OCSP",
}

// ignored are nats-server options that change nothing observable in Petrel.
var ignored = map[string]bool{
	"logfile_size_limit": true, "log_size_limit": true, "max_traced_msg_len": true, "trace_verbose": true,
	"connect_error_reports": true, "reconnect_error_reports": true, "disable_sublist_cache": true,
	"server_tags": true, "server_metadata": true, "ports_file_dir": true, "client_advertise": true,
	"no_header_support": true, "http_base_path": true, "prof_port": true, "max_closed_clients": true,
}

// handler applies one key's value.
type handler = func(*conf.Value) error

func (a *applier) apply(tree *conf.Map) error {
	return a.entries(tree, a.topLevel(), func(e conf.Entry) {
		key := strings.ToLower(e.Key)
		switch {
		case notYet[key] != "":
			a.warn(e.Value, "%s: %s are not supported yet; ignored", e.Key, notYet[key])
		case ignored[key]:
		default:
			a.warn(e.Value, "unknown option %q; ignored", e.Key)
		}
	})
}

// entries applies each key of m with its handler (keys match without regard to case, as
// in nats-server) and hands the others to unknown. Keys that serve as variables ($NAME) are
// definitions, not options, and are skipped.
func (a *applier) entries(m *conf.Map, handlers map[string]handler, unknown func(conf.Entry)) error {
	for _, e := range m.Entries() {
		if e.Value.UsedAsVariable {
			continue
		}
		h, ok := handlers[strings.ToLower(e.Key)]
		if !ok {
			unknown(e)
			continue
		}
		if err := h(e.Value); err != nil {
			return err
		}
	}
	return nil
}

// topLevel maps each supported top-level key (lower case) to its handler.
func (a *applier) topLevel() map[string]handler {
	o := a.opts
	return map[string]handler{
		"listen":                 a.listen,
		"host":                   setString(&o.Core.Host),
		"net":                    setString(&o.Core.Host),
		"port":                   setInt(&o.Core.Port),
		"server_name":            setString(&o.Core.ServerName),
		"debug":                  setBool(&o.Debug),
		"trace":                  setBool(&o.Trace),
		"logtime":                setBool(&o.Logtime),
		"log_file":               setString(&o.LogFile),
		"logfile":                setString(&o.LogFile),
		"pid_file":               setString(&o.PidFile),
		"pidfile":                setString(&o.PidFile),
		"http":                   a.httpListen,
		"http_port":              setInt(&o.HTTPPort),
		"monitor_port":           setInt(&o.HTTPPort),
		"max_connections":        setInt(&o.Core.MaxConnections),
		"max_conn":               setInt(&o.Core.MaxConnections),
		"max_payload":            setSizeInt(&o.Core.MaxPayload),
		"max_control_line":       setSizeInt(&o.Core.MaxControlLine),
		"max_pending":            nonNegative(setSize(&o.Core.MaxPending), &o.Core.MaxPending),
		"max_subscriptions":      setInt(&o.Core.MaxSubscriptions),
		"max_subs":               setInt(&o.Core.MaxSubscriptions),
		"ping_interval":          setDuration(&o.Core.PingInterval),
		"ping_max":               setInt(&o.Core.MaxPingsOut),
		"write_deadline":         setDuration(&o.Core.WriteDeadline),
		"lame_duck_duration":     setDuration(&o.Core.LameDuckDuration),
		"lame_duck_grace_period": setDuration(&o.Core.LameDuckGrace),
		"authorization":          a.authorization,
		"no_auth_user":           setString(&o.Core.Auth.NoAuthUser),
		"tls":                    a.tls,
		"jetstream":              a.jetstream,
		"websocket":              a.websocket,
		"store_dir":              setString(&o.StoreDir),
	}
}

// splitHostPort reads "host:port" or ":port" or "port".
func splitHostPort(v *conf.Value) (string, int, error) {
	if v.Kind == conf.KindInt {
		return "", int(v.Int), nil
	}
	s, err := v.AsString()
	if err != nil {
		return "", 0, err
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return "", 0, v.Errorf("want host:port, got %q", s)
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return "", 0, v.Errorf("bad port in %q", s)
	}
	return strings.Trim(s[:i], "[]"), port, nil
}

func (a *applier) listen(v *conf.Value) error {
	host, port, err := splitHostPort(v)
	if err != nil {
		return err
	}
	if host != "" {
		a.opts.Core.Host = host
	}
	a.opts.Core.Port = port
	return nil
}

func (a *applier) httpListen(v *conf.Value) error {
	host, port, err := splitHostPort(v)
	if err != nil {
		return err
	}
	a.opts.HTTPHost, a.opts.HTTPPort = host, port
	return nil
}
