package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

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
}

func (a *applier) warn(v *conf.Value, format string, args ...any) {
	a.warnings = append(a.warnings, v.Pos.String()+": "+fmt.Sprintf(format, args...))
}

// option applies one top-level key.
type option func(a *applier, v *conf.Value) error

// notYet are nats-server options Petrel knows but does not implement yet: accepted with a
// warning so a nats-server file starts, rather than failing on them.
var notYet = map[string]string{
	"cluster": "clustering", "gateway": "gateways", "leafnodes": "leaf nodes", "leaf": "leaf nodes",
	"websocket": "WebSocket", "mqtt": "MQTT", "accounts": "multiple accounts", "system_account": "the system account",
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

func (a *applier) apply(tree *conf.Map) error {
	for _, e := range tree.Entries() {
		key := strings.ToLower(e.Key)
		if e.Value.UsedAsVariable {
			continue
		}
		if fn, ok := topLevel[key]; ok {
			if err := fn(a, e.Value); err != nil {
				return err
			}
			continue
		}
		switch {
		case notYet[key] != "":
			a.warn(e.Value, "%s: %s are not supported yet; ignored", e.Key, notYet[key])
		case ignored[key]:
		default:
			a.warn(e.Value, "unknown option %q; ignored", e.Key)
		}
	}
	return nil
}

// topLevel maps each supported key (lower case) to its applier.
var topLevel = map[string]option{
	"listen":                 func(a *applier, v *conf.Value) error { return a.listen(v) },
	"host":                   str(func(o *Options) *string { return &o.Core.Host }),
	"net":                    str(func(o *Options) *string { return &o.Core.Host }),
	"port":                   integer(func(o *Options) *int { return &o.Core.Port }),
	"server_name":            str(func(o *Options) *string { return &o.Core.ServerName }),
	"debug":                  boolean(func(o *Options) *bool { return &o.Debug }),
	"trace":                  boolean(func(o *Options) *bool { return &o.Trace }),
	"logtime":                boolean(func(o *Options) *bool { return &o.Logtime }),
	"log_file":               str(func(o *Options) *string { return &o.LogFile }),
	"logfile":                str(func(o *Options) *string { return &o.LogFile }),
	"pid_file":               str(func(o *Options) *string { return &o.PidFile }),
	"pidfile":                str(func(o *Options) *string { return &o.PidFile }),
	"http":                   func(a *applier, v *conf.Value) error { return a.httpListen(v) },
	"http_port":              integer(func(o *Options) *int { return &o.HTTPPort }),
	"monitor_port":           integer(func(o *Options) *int { return &o.HTTPPort }),
	"max_connections":        integer(func(o *Options) *int { return &o.Core.MaxConnections }),
	"max_conn":               integer(func(o *Options) *int { return &o.Core.MaxConnections }),
	"max_payload":            size(func(o *Options) *int { return &o.Core.MaxPayload }),
	"max_control_line":       size(func(o *Options) *int { return &o.Core.MaxControlLine }),
	"max_pending":            size64(func(o *Options) *int64 { return &o.Core.MaxPending }),
	"max_subscriptions":      integer(func(o *Options) *int { return &o.Core.MaxSubscriptions }),
	"max_subs":               integer(func(o *Options) *int { return &o.Core.MaxSubscriptions }),
	"ping_interval":          duration(func(o *Options) *time.Duration { return &o.Core.PingInterval }),
	"ping_max":               integer(func(o *Options) *int { return &o.Core.MaxPingsOut }),
	"write_deadline":         duration(func(o *Options) *time.Duration { return &o.Core.WriteDeadline }),
	"lame_duck_duration":     duration(func(o *Options) *time.Duration { return &o.Core.LameDuckDuration }),
	"lame_duck_grace_period": duration(func(o *Options) *time.Duration { return &o.Core.LameDuckGrace }),
	"authorization":          func(a *applier, v *conf.Value) error { return a.authorization(v) },
	"no_auth_user":           str(func(o *Options) *string { return &o.Core.Auth.NoAuthUser }),
	"tls":                    func(a *applier, v *conf.Value) error { return a.tls(v) },
	"jetstream":              func(a *applier, v *conf.Value) error { return a.jetstream(v) },
	"store_dir":              str(func(o *Options) *string { return &o.StoreDir }),
}

func str(field func(*Options) *string) option {
	return func(a *applier, v *conf.Value) error {
		s, err := v.AsString()
		*field(a.opts) = s
		return err
	}
}

func integer(field func(*Options) *int) option {
	return func(a *applier, v *conf.Value) error {
		n, err := v.AsInt64()
		if err == nil && (n < -1 || n > 1<<31) {
			err = v.Errorf("%d is out of range", n)
		}
		*field(a.opts) = int(n)
		return err
	}
}

func size(field func(*Options) *int) option {
	return func(a *applier, v *conf.Value) error {
		n, err := v.AsSize()
		if err == nil && (n < 0 || n > 1<<31) {
			err = v.Errorf("%d is out of range", n)
		}
		*field(a.opts) = int(n)
		return err
	}
}

func size64(field func(*Options) *int64) option {
	return func(a *applier, v *conf.Value) error {
		n, err := v.AsSize()
		if err == nil && n < 0 {
			err = v.Errorf("must not be negative")
		}
		*field(a.opts) = n
		return err
	}
}

func boolean(field func(*Options) *bool) option {
	return func(a *applier, v *conf.Value) error {
		b, err := v.AsBool()
		*field(a.opts) = b
		return err
	}
}

func duration(field func(*Options) *time.Duration) option {
	return func(a *applier, v *conf.Value) error {
		d, err := v.AsDuration()
		*field(a.opts) = d
		return err
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
