package server

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/server/conf"
)

// ClusterConfig is the cluster block (and the cluster flags) as read: the engine's options,
// plus the TLS files, which only the host loads.
type ClusterConfig struct {
	Core core.ClusterOptions
	// Set says a cluster block or flag was given; without a port it still configures
	// nothing (nats-server neither listens nor solicits routes then).
	Set bool

	TLSCert, TLSKey, TLSCACert string
	// TLSVerify is read for nats-server's sake: routes always verify their peer.
	TLSVerify bool
}

// clusterBlock remembers where the block's values were written, for the checks made once
// the whole file (and the command line) is read.
type clusterBlock struct {
	at, portAt, tlsAt *conf.Value
	// authPermissions are permissions written inside the block's authorization, which
	// nats-server still honours (with a warning) when the block has none of its own.
	authPermissions *core.RoutePermissions
}

// cluster reads the cluster block. Like nats-server, it refuses keys it does not know.
func (a *applier) cluster(v *conf.Value) error {
	m, err := v.AsMap()
	if err != nil {
		return &conf.Error{Pos: v.Pos, Msg: fmt.Sprintf("Expected cluster to be a map, got %s", describeKind(v)), Err: conf.ErrType}
	}
	c := &a.opts.Cluster
	o := &c.Core
	c.Set = true
	a.cl = &clusterBlock{at: v}
	handlers := map[string]handler{
		"name":              a.clusterName,
		"listen":            a.clusterListen,
		"port":              func(v *conf.Value) error { a.cl.portAt = v; return setPort(&o.Port)(v) },
		"host":              setString(&o.Host),
		"net":               setString(&o.Host),
		"advertise":         routeAdvertise(&o.Advertise),
		"cluster_advertise": routeAdvertise(&o.Advertise),
		"no_advertise":      setBool(&o.NoAdvertise),
		"connect_retries":   setInt(&o.ConnectRetries, "an integer"),
		"connect_backoff":   setBool(&o.ConnectBackoff),
		"routes":            a.clusterRoutes,
		"authorization":     a.clusterAuth,
		"permissions": func(v *conf.Value) error {
			p, err := a.routePermissions(v)
			o.Permissions = p
			return err
		},
		"tls":            func(v *conf.Value) error { a.cl.tlsAt = v; return a.clusterTLS(v) },
		"pool_size":      setInt(&o.PoolSize, "an integer"),
		"accounts":       setNames(&o.PinnedAccounts),
		"compression":    a.clusterCompression,
		"ping_interval":  a.clusterPingInterval,
		"ping_max":       setLimit(a, &o.MaxPingsOut, "an integer"),
		"write_deadline": setDurationText("write_deadline", &o.WriteDeadline),
		"write_timeout":  setWriteTimeout(&o.WriteTimeout),
	}
	return a.entries(m, handlers, unknownField)
}

func (a *applier) clusterName(v *conf.Value) error {
	o := &a.opts.Cluster.Core
	if err := setString(&o.Name)(v); err != nil {
		return err
	}
	if strings.ContainsAny(o.Name, " \t\r\n") {
		return errorAt(v.Pos, "cluster name cannot contain spaces")
	}
	return nil
}

// clusterListen reads "host:port", ":port" or a bare port, with nats-server's refusals.
func (a *applier) clusterListen(v *conf.Value) error {
	o := &a.opts.Cluster.Core
	a.cl.portAt = v
	if v.Kind == conf.KindInt {
		return setPort(&o.Port)(v)
	}
	var s string
	if err := setString(&s)(v); err != nil {
		return err
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Contains(s, "://") {
		return errorAt(v.Pos, "could not parse address string %q", s)
	}
	port, err := parsePort(s[i+1:])
	if err != nil {
		return errorAt(v.Pos, "could not parse port %q", s[i+1:])
	}
	o.Host, o.Port = strings.Trim(s[:i], "[]"), port
	return nil
}

// parsePort reads a port number: 0 to 65535, or -1 for any free one.
func parsePort(s string) (int, error) {
	var port int
	if _, err := fmt.Sscanf(s, "%d", &port); err != nil || fmt.Sprint(port) != s {
		return 0, fmt.Errorf("bad port %q", s)
	}
	if port < -1 || port > 65535 {
		return 0, fmt.Errorf("port %d out of range", port)
	}
	return port, nil
}

// routeAdvertise reads the address peers are told to connect to; nats-server refuses at
// start one that does not split into host and port.
func routeAdvertise(dst *string) handler {
	return func(v *conf.Value) error {
		if err := setString(dst)(v); err != nil {
			return err
		}
		if s := *dst; strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
			return errorAt(v.Pos, "Error setting route INFO with Cluster.Advertise value of %s, err=address %s: too many colons in address", s, s)
		}
		return nil
	}
}

// clusterRoutes reads the seed routes: a list of URLs. nats-server dials any scheme's
// host and port, so a scheme other than nats-route or nats only warns.
func (a *applier) clusterRoutes(v *conf.Value) error {
	if v.Kind != conf.KindArray {
		return wrongKind(v, "a list of route URLs")
	}
	var routes []*url.URL
	for _, elem := range v.Array {
		var s string
		if err := setString(&s)(elem); err != nil {
			return err
		}
		u, err := parseRouteURL(s)
		if err != nil {
			return errorAt(elem.Pos, "%v", err)
		}
		if u == nil {
			a.warn(elem, "an empty route URL is ignored")
			continue
		}
		if warning := routeURLWarning(u); warning != "" {
			a.warn(elem, "%s", warning)
		}
		routes = append(routes, u)
	}
	a.opts.Cluster.Core.Routes = routes
	return nil
}

// parseRouteURL parses one seed route with nats-server's refusal; "" is no route (nil).
func parseRouteURL(s string) (*url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("error parsing route url [%q]", s)
	}
	return u, nil
}

// routeURLWarning is what is odd about a route URL nats-server accepts anyway, or "".
func routeURLWarning(u *url.URL) string {
	switch {
	case !core.RouteScheme(u.Scheme):
		return fmt.Sprintf("route %s: scheme %q is not nats-route or nats; its host and port are dialled as given", u.Redacted(), u.Scheme)
	case u.Port() == "":
		return fmt.Sprintf("route %s has no port: it cannot be dialled", u.Redacted())
	}
	return ""
}

// clusterAuth reads the block's authorization: one user and password, and a timeout.
func (a *applier) clusterAuth(v *conf.Value) error {
	o := &a.opts.Cluster.Core
	refuse := func(msg string) handler {
		return func(*conf.Value) error { return errorAt(v.Pos, "%s", msg) }
	}
	permissions := func() handler {
		return func(pv *conf.Value) error {
			a.warn(v, "invalid use of field \"authorization\": setting %q within cluster authorization block is deprecated", "permissions")
			p, err := a.routePermissions(pv)
			a.cl.authPermissions = p
			return err
		}
	}
	return a.block(v, map[string]handler{
		"user":                setString(&o.Username),
		"username":            setString(&o.Username),
		"password":            setString(&o.Password),
		"pass":                setString(&o.Password),
		"timeout":             setSeconds(&o.AuthTimeout),
		"token":               refuse("Cluster authorization does not support tokens"),
		"users":               refuse("Cluster authorization does not allow multiple users"),
		"permissions":         permissions(),
		"default_permissions": permissions(),
	})
}

// routePermissions reads {import, export}, each a subject list or {allow, deny}. Other
// keys change nothing in nats-server; they warn here.
func (a *applier) routePermissions(v *conf.Value) (*core.RoutePermissions, error) {
	if v.Kind != conf.KindMap {
		return nil, errorAt(v.Pos, "Expected permissions to be a map/struct, got %s", describeKind(v))
	}
	p := &core.RoutePermissions{}
	err := a.block(v, map[string]handler{
		"import": subjectPermission(&p.Import),
		"export": subjectPermission(&p.Export),
	}, func(e conf.Entry) error {
		a.warn(e.Value, "route permissions: %q is neither import nor export; ignored", e.Key)
		return nil
	})
	return p, err
}

// clusterTLS reads the block's tls, as the client tls block is read. Routes always verify
// their peer and use the CA for both directions (nats-server's rule).
func (a *applier) clusterTLS(v *conf.Value) error {
	c := &a.opts.Cluster
	warnNotYet := func(key string) handler {
		return func(v *conf.Value) error { a.warn(v, "%s is not supported yet; ignored", key); return nil }
	}
	err := a.block(v, map[string]handler{
		"cert_file":                        setString(&c.TLSCert),
		"key_file":                         setString(&c.TLSKey),
		"ca_file":                          setString(&c.TLSCACert),
		"verify":                           setTLSVerify(&c.TLSVerify),
		"timeout":                          setSeconds(&c.Core.TLSTimeout),
		"handshake_first":                  ignore, // routes always start with INFO
		"cipher_suites":                    cipherSuites,
		"curve_preferences":                ignore,
		"insecure":                         ignore,
		"verify_and_map":                   warnNotYet("verify_and_map"),
		"pinned_certs":                     warnNotYet("pinned_certs"),
		"verify_cert_and_check_known_urls": warnNotYet("verify_cert_and_check_known_urls"),
	}, func(e conf.Entry) error {
		return errorAt(e.KeyPos, "error parsing tls config, unknown field %q", e.Key)
	})
	if err != nil {
		return err
	}
	switch {
	case c.TLSCert != "" && c.TLSKey == "":
		return errorAt(v.Pos, "missing 'key_file' in TLS configuration")
	case c.TLSCert == "" && c.TLSKey != "":
		return errorAt(v.Pos, "missing 'cert_file' in TLS configuration")
	case c.TLSCert == "":
		a.warn(v, "cluster tls without cert_file and key_file: routes stay plain (nats-server would require TLS it cannot serve)")
	}
	return nil
}

// clusterPingInterval reads the routes' ping interval; above the routes' maximum it is
// capped, with nats-server's warning.
func (a *applier) clusterPingInterval(v *conf.Value) error {
	d := &a.opts.Cluster.Core.PingInterval
	if err := setDurationText("ping_interval", d)(v); err != nil {
		return err
	}
	if *d > core.RoutePingIntervalMax {
		a.warn(v, "Cluster 'ping_interval' will reset to %v which is the max for routes", core.RoutePingIntervalMax)
		*d = core.RoutePingIntervalMax
	}
	return nil
}

// setInt reads a plain integer (nats-server reads these without range checks).
func setInt(dst *int, want string) handler {
	return func(v *conf.Value) error {
		n, err := integer(v, want)
		if err == nil && (n > 1<<31 || n < -(1<<31)) {
			err = v.Errorf("%d is out of range", n)
		}
		*dst = int(n)
		return err
	}
}

// setNames reads one name or a list of names (the pinned accounts).
func setNames(dst *[]string) handler {
	return func(v *conf.Value) error {
		if v.Kind != conf.KindString && v.Kind != conf.KindArray {
			return errorAt(v.Pos, "error parsing accounts: unsupported type %s", describeKind(v))
		}
		list, err := v.AsStringList()
		*dst = list
		return err
	}
}

// setWriteTimeout reads write_timeout's policy ("default" is kept as "").
func setWriteTimeout(dst *string) handler {
	return func(v *conf.Value) error {
		if err := writeTimeout(v); err != nil {
			return err
		}
		*dst = strings.ToLower(v.Str)
		if *dst == "default" {
			*dst = ""
		}
		return nil
	}
}

// durationList reads a list of durations (rtt_thresholds): text like "10ms", or bare
// durations, which the conf package reads as text too.
func durationList(v *conf.Value) ([]time.Duration, error) {
	if v.Kind != conf.KindArray {
		return nil, wrongKind(v, "a list of durations")
	}
	out := make([]time.Duration, 0, len(v.Array))
	for _, elem := range v.Array {
		if elem.Kind != conf.KindString {
			return nil, wrongKind(elem, "a duration (like \"10ms\")")
		}
		d, err := time.ParseDuration(elem.Str)
		if err != nil {
			return nil, errorAt(elem.Pos, "%v", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// compressionModes maps each spelling nats-server accepts (lower case) to its mode.
var compressionModes = map[string]string{
	"":         core.CompressionAccept,
	"accept":   core.CompressionAccept,
	"off":      core.CompressionOff,
	"disabled": core.CompressionOff,
	"false":    core.CompressionOff,
	"on":       core.CompressionS2Fast,
	"enabled":  core.CompressionS2Fast,
	"true":     core.CompressionS2Fast,
	"s2_fast":  core.CompressionS2Fast, "fast": core.CompressionS2Fast,
	"s2_better": core.CompressionS2Better, "better": core.CompressionS2Better,
	"s2_best": core.CompressionS2Best, "best": core.CompressionS2Best,
	"s2_auto": core.CompressionS2Auto, "auto": core.CompressionS2Auto,
}

// clusterCompression reads compression: a boolean, a mode, or {mode, rtt_thresholds}.
func (a *applier) clusterCompression(v *conf.Value) error {
	c := &a.opts.Cluster.Core.Compression
	switch v.Kind {
	case conf.KindBool:
		c.Mode = compressionModes[fmt.Sprint(v.Bool)]
		return nil
	case conf.KindString:
		return compressionMode(v, &c.Mode)
	case conf.KindMap:
	default:
		return errorAt(v.Pos, "field \"compression\" should be a boolean or a structure, got %s", describeKind(v))
	}
	*c = core.Compression{Mode: core.CompressionAccept}
	err := a.block(v, map[string]handler{
		"mode": func(v *conf.Value) error { return compressionMode(v, &c.Mode) },
		"rtt_thresholds": func(v *conf.Value) error {
			list, err := durationList(v)
			c.RTTThresholds = list
			return err
		},
	})
	if err != nil {
		return err
	}
	// The engine's check, at the block's position (nats-server makes it when starting).
	if err := (&core.ClusterOptions{Compression: *c}).CheckCompression(); err != nil {
		return errorAt(v.Pos, "%v", err)
	}
	return nil
}

// compressionMode reads a mode by any of its spellings, refusing others as nats-server
// does when it starts.
func compressionMode(v *conf.Value, dst *string) error {
	var s string
	if err := setString(&s)(v); err != nil {
		return err
	}
	mode, ok := compressionModes[strings.ToLower(s)]
	if !ok {
		return errorAt(v.Pos, "unsupported compression mode %q", s)
	}
	*dst = mode
	return nil
}

// finishCluster checks the cluster options against the rest (the command line applied)
// and builds the engine's: none without a port, as nats-server neither listens nor
// solicits routes then. routesFlag says --routes set the routes, which nats-server refuses
// without a cluster port.
func (a *applier) finishCluster(o *Options, routesFlag bool) error {
	c := &o.Cluster
	o.Core.Cluster = nil
	if !c.Set {
		return nil
	}
	b := a.cl
	if b == nil {
		b = &clusterBlock{} // from flags only: errors carry no position
	}
	if c.Core.Port == 0 {
		if routesFlag && len(c.Core.Routes) > 0 {
			return fmt.Errorf("solicited routes require cluster capabilities, e.g. --cluster")
		}
		if b.at != nil && len(c.Core.Routes) > 0 {
			a.warn(b.at, "cluster has no port: routes are neither accepted nor solicited")
		}
		return nil
	}
	if err := clusterPortConflict(o, b); err != nil {
		return err
	}
	opts := c.Core
	if opts.Port == -1 {
		opts.Port = 0 // nats-server's "any free port"
	}
	if opts.Host == "" {
		opts.Host = DefaultHost
	}
	if opts.Permissions == nil {
		opts.Permissions = b.authPermissions
	}
	check := opts // the engine's own checks, run now so that -t makes them
	if _, err := core.CheckClusterOptions(check, o.Core); err != nil {
		return positioned(b.at, err)
	}
	o.Core.Cluster = &opts
	probe := *o // load the certificates now, as nats-server does when it reads the file
	if err := loadClusterTLS(&probe); err != nil {
		o.Core.Cluster = nil
		return positioned(b.tlsAt, err)
	}
	return nil
}

// clusterPortConflict refuses a cluster port that is the client port on a shared
// interface: nats-server fails to bind it when starting.
func clusterPortConflict(o *Options, b *clusterBlock) error {
	c := o.Cluster.Core
	if c.Port <= 0 || c.Port != o.Core.Port {
		return nil
	}
	wild := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	if c.Host != o.Core.Host && !wild(c.Host) && !wild(o.Core.Host) {
		return nil
	}
	return positioned(b.portAt, fmt.Errorf("cluster port %d is the client port: both cannot listen on it", c.Port))
}

// positioned is err at v's position, or err alone when v is nil (a flag set it).
func positioned(v *conf.Value, err error) error {
	if v == nil {
		return err
	}
	return errorAt(v.Pos, "%s", strings.TrimPrefix(err.Error(), "core: "))
}

// loadClusterTLS builds the routes' tls.Config from the block's files: the peer's
// certificate is always required and checked, and the CA serves both directions, since a
// server both accepts and solicits routes.
func loadClusterTLS(o *Options) error {
	c := &o.Cluster
	if o.Core.Cluster == nil || c.TLSCert == "" && c.TLSKey == "" {
		return nil
	}
	files := Options{TLSCert: c.TLSCert, TLSKey: c.TLSKey, TLSCACert: c.TLSCACert, TLSVerify: true}
	if err := loadTLS(&files); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	cfg := files.Core.TLS
	cfg.RootCAs = cfg.ClientCAs
	opts := *o.Core.Cluster // a copy: the options read from the file stay as read
	opts.TLS = cfg
	o.Core.Cluster = &opts
	return nil
}
