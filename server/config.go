package server

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/server/conf"
)

// LoadConfig reads a configuration file as -c does without flags: the options and the
// warnings, or the first refusal (a *conf.Error, positioned in the file, for what the
// file says). For tools and the fuzz targets.
func LoadConfig(path string) (Options, []string, error) {
	return (&cli{opts: Options{ConfigFile: path}, set: map[string]bool{}}).resolve()
}

// resolve combines the configuration file (if any) with the command line, which wins, as
// with nats-server.
func (c *cli) resolve() (Options, []string, error) {
	if c.opts.ConfigFile == "" {
		opts := c.opts
		a := &applier{opts: &opts}
		if err := a.finishCluster(&opts, c.set["routes"]); err != nil {
			return Options{}, nil, err
		}
		return opts, a.warnings, nil
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
	if err := a.finishCluster(&opts, c.set["routes"]); err != nil {
		return Options{}, nil, err
	}
	if err := a.check(); err != nil {
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
		"host":             func() { o.Core.Host = f.Core.Host },
		"port":             func() { o.Core.Port = f.Core.Port },
		"server_name":      func() { o.Core.ServerName = f.Core.ServerName },
		"client_advertise": func() { o.Core.ClientAdvertise = f.Core.ClientAdvertise },
		"http_port":        func() { o.HTTPPort, o.HTTPHost = f.HTTPPort, f.HTTPHost },
		"debug":            func() { o.Debug = f.Debug },
		"trace":            func() { o.Trace = f.Trace },
		"jetstream":        func() { o.Core.JetStream = f.Core.JetStream },
		"store_dir":        func() { o.StoreDir = f.StoreDir },
		"log_file":         func() { o.LogFile = f.LogFile },
		"logtime":          func() { o.Logtime = f.Logtime },
		"pid_file":         func() { o.PidFile = f.PidFile },
		"ports_file_dir":   func() { o.PortsFileDir = f.PortsFileDir },
		"authorization":    func() { o.Core.Auth.Users, o.Core.Auth.Token = f.Core.Auth.Users, f.Core.Auth.Token },
		"tls": func() {
			o.TLSCert, o.TLSKey, o.TLSCACert, o.TLSVerify = f.TLSCert, f.TLSKey, f.TLSCACert, f.TLSVerify
		},
	}
	for name := range c.set {
		if cp, ok := copies[name]; ok {
			cp()
		}
	}
	c.overlayCluster(o)
}

// applier walks the parsed tree into Options, collecting warnings and where each option
// was written (for the checks that relate several options).
type applier struct {
	opts     *Options
	warnings []string
	seen     map[string]*conf.Value // by lower-case key path: "lame_duck_duration"
	// singleUser names the authorization block's single user, which a WebSocket override
	// replaces; ws is the websocket block, once read (config_ws.go).
	singleUser string
	ws         *wsBlock
	cl         *clusterBlock // the cluster block, once read (config_cluster.go)
}

func (a *applier) warn(v *conf.Value, format string, args ...any) {
	a.warnings = append(a.warnings, v.Pos.String()+": "+fmt.Sprintf(format, args...))
}

// notYet are nats-server options Petrel knows but does not implement yet: accepted with a
// warning so a nats-server file starts, rather than failing on them. Their contents are
// not checked.
var notYet = map[string]string{
	"gateway": "gateways", "leafnodes": "leaf nodes", "leaf": "leaf nodes",
	"mqtt": "MQTT", "resolver_tls": "account resolvers",
	"https": "HTTPS monitoring", "https_port": "HTTPS monitoring",
	"syslog": "syslog", "remote_syslog": "syslog", "ocsp": "OCSP", "ocsp_cache": "OCSP",
	"authorization_callout": "auth callout", "proxies": "proxy protocol", "default_js_domain": "JetStream domains",
	"resolver_pinned_accounts": "account resolvers", "default_sentinel": "operator JWTs",
}

// notYetKinds are the kinds of value nats-server takes for the options in notYet (it
// refuses others); an option not listed is a map.
var notYetKinds = map[string][]conf.Kind{
	"resolver_pinned_accounts": {conf.KindString, conf.KindArray}, "default_sentinel": {conf.KindString},
	"https": {conf.KindString, conf.KindInt}, "https_port": {conf.KindInt},
	"syslog": {conf.KindBool}, "remote_syslog": {conf.KindString},
	"ocsp": {conf.KindBool, conf.KindMap}, "ocsp_cache": {conf.KindBool, conf.KindMap},
}

// apply walks the top level. A key nats-server does not know is refused, as nats-server
// refuses it.
func (a *applier) apply(tree *conf.Map) error {
	if a.seen == nil {
		a.seen = map[string]*conf.Value{}
	}
	return a.entries(tree, a.topLevel(), func(e conf.Entry) error {
		key := strings.ToLower(e.Key)
		what := notYet[key]
		if what == "" {
			return unknownField(e)
		}
		kinds := notYetKinds[key]
		if kinds == nil {
			kinds = []conf.Kind{conf.KindMap}
		}
		if !slices.Contains(kinds, e.Value.Kind) {
			return e.Value.Errorf("expected a %s, got %s", kinds[0], describeKind(e.Value))
		}
		a.warn(e.Value, "%s: %s are not supported yet; ignored", e.Key, what)
		a.seen[key] = e.Value
		return nil
	})
}

func describeKind(v *conf.Value) string {
	if v.Kind == conf.KindMap || v.Kind == conf.KindArray {
		return "a " + v.Kind.String()
	}
	return v.Raw
}

// entries applies each key of m with its handler (keys match without regard to case, as
// in nats-server) and hands the others to unknown. Keys that serve as variables ($NAME) are
// definitions, not options, and are skipped.
func (a *applier) entries(m *conf.Map, handlers map[string]handler, unknown func(conf.Entry) error) error {
	for _, e := range m.Entries() {
		if e.Value.UsedAsVariable {
			continue
		}
		h, ok := handlers[strings.ToLower(e.Key)]
		if !ok {
			if err := unknown(e); err != nil {
				return err
			}
			continue
		}
		if err := h(e.Value); err != nil {
			return err
		}
		if a.seen != nil {
			a.seen[strings.ToLower(e.Value.Path)] = e.Value
		}
	}
	return nil
}

// topLevel maps each supported top-level key (lower case) to its handler, and the keys
// nats-server has that change nothing in Petrel to a check of their kind.
func (a *applier) topLevel() map[string]handler {
	o := a.opts
	return map[string]handler{
		"listen":                 a.listen,
		"host":                   setString(&o.Core.Host),
		"net":                    setString(&o.Core.Host),
		"port":                   setPort(&o.Core.Port),
		"server_name":            a.serverName,
		"debug":                  setBool(&o.Debug),
		"trace":                  setBool(&o.Trace),
		"logtime":                setBool(&o.Logtime),
		"log_file":               setString(&o.LogFile),
		"logfile":                setString(&o.LogFile),
		"pid_file":               setString(&o.PidFile),
		"pidfile":                setString(&o.PidFile),
		"ports_file_dir":         setString(&o.PortsFileDir),
		"http":                   a.httpListen,
		"http_port":              setPort(&o.HTTPPort),
		"monitor_port":           setPort(&o.HTTPPort),
		"max_connections":        setLimit(a, &o.Core.MaxConnections, "an integer"),
		"max_conn":               setLimit(a, &o.Core.MaxConnections, "an integer"),
		"max_payload":            setLimit(a, &o.Core.MaxPayload, "a size (like 1048576, 8MB or 1G)"),
		"max_control_line":       setLimit(a, &o.Core.MaxControlLine, "a size (like 4096 or 4KB)"),
		"max_pending":            setSize(&o.Core.MaxPending),
		"max_subscriptions":      setLimit(a, &o.Core.MaxSubscriptions, "an integer"),
		"max_subs":               setLimit(a, &o.Core.MaxSubscriptions, "an integer"),
		"ping_interval":          setDurationText("ping_interval", &o.Core.PingInterval),
		"ping_max":               setLimit(a, &o.Core.MaxPingsOut, "an integer"),
		"write_deadline":         setDurationText("write_deadline", &o.Core.WriteDeadline),
		"lame_duck_duration":     setDurationText("lame_duck_duration", &o.Core.LameDuckDuration),
		"lame_duck_grace_period": setDurationText("lame_duck_grace_period", &o.Core.LameDuckGrace),
		"authorization":          a.authorization,
		"no_auth_user":           setString(&o.Core.Auth.NoAuthUser),
		"tls":                    a.tls,
		"jetstream":              a.jetstream,
		"websocket":              a.websocket,
		"cluster":                a.cluster,
		"store_dir":              setString(&o.StoreDir),
		"accounts":               a.accounts,
		"operator":               a.operator,
		"operators":              a.operator,
		"trusted_keys":           a.trustedKeys,
		"trusted":                a.trustedKeys,
		"resolver":               a.resolver,
		"resolver_preload":       a.resolverPreload,
		"mappings":               a.topMappings,
		"system_account":         setString(&o.Core.SystemAccount),
		"system":                 setString(&o.Core.SystemAccount),
		// Accepted, changing nothing in Petrel.
		"logfile_size_limit":      ignoreKind(conf.KindInt),
		"log_size_limit":          ignoreKind(conf.KindInt),
		"logfile_max_num":         ignoreKind(conf.KindInt),
		"log_max_num":             ignoreKind(conf.KindInt),
		"prof_block_rate":         ignoreKind(conf.KindInt),
		"write_timeout":           writeTimeout,
		"no_fast_producer_stall":  setBool(&o.Core.NoFastProducerStall),
		"max_traced_msg_len":      ignoreKind(conf.KindInt),
		"trace_verbose":           ignoreKind(conf.KindBool),
		"logtime_utc":             ignoreKind(conf.KindBool),
		"connect_error_reports":   ignoreKind(conf.KindInt),
		"reconnect_error_reports": ignoreKind(conf.KindInt),
		"disable_sublist_cache":   ignoreKind(conf.KindBool),
		"no_sublist_cache":        ignoreKind(conf.KindBool),
		"no_header_support":       ignoreKind(conf.KindBool),
		"no_system_account":       ignoreKind(conf.KindBool),
		"http_base_path":          ignoreKind(conf.KindString),
		"prof_port":               ignoreKind(conf.KindInt),
		"max_closed_clients":      ignoreKind(conf.KindInt),
		"client_advertise":        a.clientAdvertise,
		"server_tags":             serverTags,
		"server_metadata":         ignoreKind(conf.KindMap),
	}
}

// serverName refuses a name with spaces, as nats-server does.
func (a *applier) serverName(v *conf.Value) error {
	if err := setString(&a.opts.Core.ServerName)(v); err != nil {
		return err
	}
	if strings.ContainsAny(a.opts.Core.ServerName, " \t\r\n") {
		return v.Errorf("server name cannot contain spaces")
	}
	return nil
}

// clientAdvertise is the address the cluster tells clients to connect to here, checked as
// nats-server checks it.
func (a *applier) clientAdvertise(v *conf.Value) error {
	var s string
	if err := setString(&s)(v); err != nil {
		return err
	}
	if host := s; strings.Count(host, ":") > 1 && !strings.HasPrefix(host, "[") {
		return v.Errorf("Error setting server INFO with ClientAdvertise value of %s, err=address %s: too many colons in address", s, s)
	}
	a.opts.Core.ClientAdvertise = s
	return nil
}

// writeTimeout is nats-server's policy for a write that passes write_deadline; Petrel's is
// nats-server's default (close the connection).
func writeTimeout(v *conf.Value) error {
	var s string
	if err := setString(&s)(v); err != nil {
		return err
	}
	switch strings.ToLower(s) {
	case "default", "close", "retry":
		return nil
	}
	return v.Errorf("write_timeout must be 'default', 'close' or 'retry'")
}

// serverTags accepts a string or a list of strings.
func serverTags(v *conf.Value) error {
	if v.Kind != conf.KindString && v.Kind != conf.KindArray {
		return v.Errorf("error parsing tags: unsupported type %s", v.Kind)
	}
	_, err := v.AsStringList()
	return err
}

// splitHostPort reads "host:port" or ":port" or "port".
func splitHostPort(v *conf.Value) (string, int, error) {
	if v.Kind == conf.KindInt {
		return "", int(v.Int), nil
	}
	var s string
	if err := setString(&s)(v); err != nil {
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
