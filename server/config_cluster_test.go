package server

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
)

// What nats-server v2.15.2 refuses in a cluster block, refused at load with the file, line
// and column and nats-server's message (it refuses some only when starting: compression
// modes and thresholds, pinned accounts, advertise addresses; Petrel's -t checks them).
func TestClusterConfigRefusals(t *testing.T) {
	tls := tlsPairText(t)
	cases := []struct{ name, text, want string }{
		{"not a map", "cluster: 5\n", "ws.conf:1:10: Expected cluster to be a map, got 5"},
		{"unknown field", "cluster {\n  port: 6222\n  bogus: 1\n}\n", `ws.conf:3:3: unknown field "bogus"`},
		{"name with a space", "cluster { name: \"a b\", port: 6222 }\n", "ws.conf:1:17: cluster name cannot contain spaces"},
		{"name not a string", "cluster { name: 5 }\n", "cluster.name: expected a string, got 5"},
		{"quoted port", "cluster { port: \"6222\" }\n", "cluster.port: expected a port"},
		{"port out of range", "cluster { port: 70000 }\n", "cluster.port: 70000 is out of range"},
		{"listen without a port", "cluster { listen: \"127.0.0.1\" }\n", `ws.conf:1:19: could not parse address string "127.0.0.1"`},
		{"listen as a URL", "cluster { listen: \"nats://127.0.0.1:6222\" }\n", `could not parse address string "nats://127.0.0.1:6222"`},
		{"listen with a bad port", "cluster { listen: \"127.0.0.1:abc\" }\n", `could not parse port "abc"`},
		{"the client port", "port: 14222\ncluster { port: 14222 }\n", "ws.conf:2:17: cluster port 14222 is the client port"},
		{"advertise with too many colons", "cluster { port: 6222, advertise: \"nats://a:1\" }\n",
			"Error setting route INFO with Cluster.Advertise value of nats://a:1, err=address nats://a:1: too many colons in address"},
		{"advertise not a string", "cluster { advertise: 5 }\n", "cluster.advertise: expected a string"},
		{"no_advertise not a boolean", "cluster { no_advertise: \"yes\" }\n", "cluster.no_advertise: expected a boolean"},
		{"connect_retries not an integer", "cluster { connect_retries: \"3\" }\n", "cluster.connect_retries: expected an integer"},
		{"connect_backoff not a boolean", "cluster { connect_backoff: 1 }\n", "cluster.connect_backoff: expected a boolean"},
		{"routes not a list", "cluster { routes: \"nats://h:1\" }\n", "cluster.routes: expected a list of route URLs"},
		{"route not a URL", "cluster { port: 6222, routes: [\"127.0.0.1:6222\"] }\n", `ws.conf:1:32: error parsing route url ["127.0.0.1:6222"]`},
		{"route with a bad port", "cluster { routes: [\"nats://h:abc\"] }\n", `error parsing route url ["nats://h:abc"]`},
		{"authorization token", "cluster { authorization { token: t } }\n", "ws.conf:1:25: Cluster authorization does not support tokens"},
		{"authorization users", "cluster { authorization { users: [{user: a, password: b}] } }\n", "Cluster authorization does not allow multiple users"},
		{"authorization nkey", "cluster { authorization { nkey: UDXU } }\n", `unknown field "nkey"`},
		{"authorization account", "cluster { authorization { user: a, password: b, account: A } }\n", `unknown field "account"`},
		{"permissions not a map", "cluster { permissions: 5 }\n", "Expected permissions to be a map/struct, got 5"},
		{"permission subject", "cluster { permissions { import: \"a..b\" } }\n", `subject "a..b" is not a valid subject`},
		{"permission key", "cluster { permissions { import: { allow: a, dney: b } } }\n",
			`Unknown field name "dney" parsing subject permissions, only 'allow' or 'deny' are permitted`},
		{"tls without a key", "cluster { port: 6222, tls { cert_file: c.pem } }\n", "ws.conf:1:27: missing 'key_file' in TLS configuration"},
		{"tls without a certificate", "cluster { port: 6222, tls { key_file: k.pem } }\n", "missing 'cert_file' in TLS configuration"},
		{"tls unknown field", "cluster { tls { " + tls + ", verfy: true } }\n", `error parsing tls config, unknown field "verfy"`},
		{"tls verify not a boolean", "cluster { tls { verify: maybe } }\n", "error parsing tls config, expected 'verify' to be a boolean"},
		{"tls files missing", "cluster { port: 6222, tls { cert_file: /nonexistent/c.pem, key_file: /nonexistent/k.pem } }\n",
			"/nonexistent/c.pem: no such file or directory"},
		{"pool_size not an integer", "cluster { pool_size: \"3\" }\n", "cluster.pool_size: expected an integer"},
		{"pinned accounts without pooling", "cluster { port: 6222, pool_size: -1, accounts: [A] }\n",
			"ws.conf:1:9: pool_size cannot be negative if pinned accounts are specified"},
		{"duplicate pinned account", "cluster { port: 6222, accounts: [A, A] }\n", `found duplicate account name "A" in pinned accounts list ["A" "A" "$SYS"]`},
		{"accounts of the wrong kind", "cluster { accounts: { A: 1 } }\n", "error parsing accounts: unsupported type a map"},
		{"compression of the wrong kind", "cluster { compression: 1 }\n", `field "compression" should be a boolean or a structure, got 1`},
		{"unknown compression mode", "cluster { compression: bogus }\n", `ws.conf:1:24: unsupported compression mode "bogus"`},
		{"s2_uncompressed is no mode", "cluster { compression: s2_uncompressed }\n", `unsupported compression mode "s2_uncompressed"`},
		{"unknown mode in the object", "cluster { compression: { mode: none } }\n", `unsupported compression mode "none"`},
		{"unknown compression field", "cluster { compression: { mode: s2_auto, bogus: 1 } }\n", `unknown field "bogus"`},
		{"too many thresholds", "cluster { compression: { mode: s2_auto, rtt_thresholds: [10ms, 20ms, 30ms, 40ms, 50ms] } }\n",
			`compression mode "s2_auto" should have no more than 4 RTT thresholds: [10ms 20ms 30ms 40ms 50ms]`},
		{"descending thresholds", "cluster { compression: { mode: s2_auto, rtt_thresholds: [10ms, 5ms] } }\n",
			"RTT threshold values [10ms 5ms] should be in ascending order"},
		{"no threshold above zero", "cluster { compression: { mode: s2_auto, rtt_thresholds: [0ms] } }\n",
			`compression mode "s2_auto" requires at least one RTT threshold`},
		{"threshold not a duration", "cluster { compression: { mode: s2_auto, rtt_thresholds: [\"abc\"] } }\n", `time: invalid duration "abc"`},
		{"thresholds not a list", "cluster { compression: { mode: s2_auto, rtt_thresholds: \"10ms\" } }\n", "expected a list of durations"},
		{"ping_interval bare number", "cluster { ping_interval: 10 }\n", `invalid use of field "ping_interval": ping_interval should be converted to a duration`},
		{"write_deadline bare number", "cluster { write_deadline: 5 }\n", `invalid use of field "write_deadline"`},
		{"write_timeout", "cluster { write_timeout: bogus }\n", "write_timeout must be 'default', 'close' or 'retry'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := resolveText(t, c.text)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// Each field of the block, accepted as nats-server accepts it, lands in the engine's
// options with nats-server's defaults filled by the engine.
func TestClusterConfigFields(t *testing.T) {
	cases := []struct {
		name, text string
		check      func(c *core.ClusterOptions) bool
	}{
		{"listen", `listen: "127.0.0.1:6223"`, func(c *core.ClusterOptions) bool { return c.Host == "127.0.0.1" && c.Port == 6223 }},
		{"listen port only", `listen: ":6224"`, func(c *core.ClusterOptions) bool { return c.Host == DefaultHost && c.Port == 6224 }},
		{"listen bare port", `listen: 6225`, func(c *core.ClusterOptions) bool { return c.Port == 6225 }},
		{"any free port", `listen: "127.0.0.1:-1"`, func(c *core.ClusterOptions) bool { return c.Port == 0 && c.Host == "127.0.0.1" }},
		{"host and port", "host: 10.0.0.1\n port: 6222", func(c *core.ClusterOptions) bool { return c.Host == "10.0.0.1" && c.Port == 6222 }},
		{"net", "net: 10.0.0.2\n port: 6222", func(c *core.ClusterOptions) bool { return c.Host == "10.0.0.2" }},
		{"name", "name: east\n port: 6222", func(c *core.ClusterOptions) bool { return c.Name == "east" }},
		{"advertise", "port: 6222\n advertise: \"east.example:7222\"", func(c *core.ClusterOptions) bool { return c.Advertise == "east.example:7222" }},
		{"cluster_advertise", "port: 6222\n cluster_advertise: \"[::1]:7222\"", func(c *core.ClusterOptions) bool { return c.Advertise == "[::1]:7222" }},
		{"no_advertise", "port: 6222\n no_advertise: true", func(c *core.ClusterOptions) bool { return c.NoAdvertise }},
		{"connect_retries", "port: 6222\n connect_retries: 5", func(c *core.ClusterOptions) bool { return c.ConnectRetries == 5 }},
		{"connect_backoff", "port: 6222\n connect_backoff: true", func(c *core.ClusterOptions) bool { return c.ConnectBackoff }},
		{"routes", "port: 6222\n routes: [\"nats-route://u:p@10.0.0.1:6222\", \"nats://10.0.0.2:6222\"]", func(c *core.ClusterOptions) bool {
			return len(c.Routes) == 2 && c.Routes[0].User.Username() == "u" && c.Routes[0].Host == "10.0.0.1:6222" && c.Routes[1].Scheme == "nats"
		}},
		{"authorization", "port: 6222\n authorization { user: ru, password: rp, timeout: 0.5 }", func(c *core.ClusterOptions) bool {
			return c.Username == "ru" && c.Password == "rp" && c.AuthTimeout == 500*time.Millisecond
		}},
		{"permissions", "port: 6222\n permissions { import: \">\", export: { allow: [\"a.>\"], deny: \"a.b\" } }", func(c *core.ClusterOptions) bool {
			p := c.Permissions
			return p != nil && slices.Equal(p.Import.Allow, []string{">"}) && slices.Equal(p.Export.Deny, []string{"a.b"})
		}},
		{"pool_size", "port: 6222\n pool_size: 5", func(c *core.ClusterOptions) bool { return c.PoolSize == 5 }},
		{"pool_size 0 takes the default", "port: 6222\n pool_size: 0", func(c *core.ClusterOptions) bool { return c.PoolSize == 0 }},
		{"pool_size -1 turns pooling off", "port: 6222\n pool_size: -1", func(c *core.ClusterOptions) bool { return c.PoolSize == -1 }},
		{"accounts", "port: 6222\n accounts: [A, B]", func(c *core.ClusterOptions) bool { return slices.Equal(c.PinnedAccounts, []string{"A", "B"}) }},
		{"one account", "port: 6222\n accounts: A", func(c *core.ClusterOptions) bool { return slices.Equal(c.PinnedAccounts, []string{"A"}) }},
		{"compression mode", "port: 6222\n compression: S2_Better", func(c *core.ClusterOptions) bool { return c.Compression.Mode == core.CompressionS2Better }},
		{"compression true", "port: 6222\n compression: true", func(c *core.ClusterOptions) bool { return c.Compression.Mode == core.CompressionS2Fast }},
		{"compression on", "port: 6222\n compression: on", func(c *core.ClusterOptions) bool { return c.Compression.Mode == core.CompressionS2Fast }},
		{"compression enabled", "port: 6222\n compression: enabled", func(c *core.ClusterOptions) bool { return c.Compression.Mode == core.CompressionS2Fast }},
		{"compression false", "port: 6222\n compression: false", func(c *core.ClusterOptions) bool { return c.Compression.Mode == core.CompressionOff }},
		{"compression disabled", "port: 6222\n compression: disabled", func(c *core.ClusterOptions) bool { return c.Compression.Mode == core.CompressionOff }},
		{"compression auto", "port: 6222\n compression: auto", func(c *core.ClusterOptions) bool { return c.Compression.Mode == core.CompressionS2Auto }},
		{"compression object", "port: 6222\n compression: { mode: s2_auto, rtt_thresholds: [5ms, 15ms, 50ms] }", func(c *core.ClusterOptions) bool {
			return c.Compression.Mode == core.CompressionS2Auto && slices.Equal(c.Compression.RTTThresholds, ms(5, 15, 50))
		}},
		{"compression object without mode", "port: 6222\n compression: { rtt_thresholds: [10ms] }", func(c *core.ClusterOptions) bool {
			return c.Compression.Mode == core.CompressionAccept
		}},
		{"ping_interval", "port: 6222\n ping_interval: \"10s\"", func(c *core.ClusterOptions) bool { return c.PingInterval == 10*time.Second }},
		{"ping_interval capped", "port: 6222\n ping_interval: \"1m\"", func(c *core.ClusterOptions) bool { return c.PingInterval == core.RoutePingIntervalMax }},
		{"ping_max", "port: 6222\n ping_max: 4", func(c *core.ClusterOptions) bool { return c.MaxPingsOut == 4 }},
		{"write_deadline", "port: 6222\n write_deadline: \"3s\"", func(c *core.ClusterOptions) bool { return c.WriteDeadline == 3*time.Second }},
		{"write_timeout", "port: 6222\n write_timeout: retry", func(c *core.ClusterOptions) bool { return c.WriteTimeout == "retry" }},
		{"write_timeout default", "port: 6222\n write_timeout: default", func(c *core.ClusterOptions) bool { return c.WriteTimeout == "" }},
		{"tls", "port: 6222\n tls { " + tlsPairText(t) + ", timeout: 4, verify: false }", func(c *core.ClusterOptions) bool {
			return c.TLS != nil && c.TLSTimeout == 4*time.Second && c.TLS.ClientAuth == 4 // tls.RequireAndVerifyClientCert: routes always verify
		}},
		{"permissions in authorization (deprecated)", "port: 6222\n authorization { user: a, password: b, permissions { import: \"x\" } }", func(c *core.ClusterOptions) bool {
			return c.Permissions != nil && slices.Equal(c.Permissions.Import.Allow, []string{"x"})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, _, err := resolveText(t, "port: 4222\ncluster {\n "+tc.text+"\n}\n")
			if err != nil {
				t.Fatal(err)
			}
			if err := loadClusterTLS(&opts); err != nil {
				t.Fatal(err)
			}
			c := opts.Core.Cluster
			if c == nil || !tc.check(c) {
				t.Fatalf("cluster options %+v", c)
			}
		})
	}
}

// What nats-server accepts with a warning, or with no cluster at all.
func TestClusterConfigWarnings(t *testing.T) {
	cases := []struct{ name, text, warning string }{
		{"ping_interval above the routes' maximum", "cluster { port: 6222, ping_interval: \"1m\" }", "Cluster 'ping_interval' will reset to 30s which is the max for routes"},
		{"a scheme nats-server dials anyway", "cluster { port: 6222, routes: [\"http://h:1\"] }", `scheme "http" is not nats-route or nats`},
		{"a route without a port", "cluster { port: 6222, routes: [\"nats://h\"] }", "has no port"},
		{"an empty route", "cluster { port: 6222, routes: [\"\"] }", "an empty route URL is ignored"},
		{"routes without a port", "cluster { routes: [\"nats://h:1\"] }", "cluster has no port: routes are neither accepted nor solicited"},
		{"deprecated route permissions", "cluster { port: 6222, authorization { default_permissions { import: a } } }", "is deprecated"},
		{"unknown route permission", "cluster { port: 6222, permissions { publish: a } }", `"publish" is neither import nor export`},
		{"tls without files", "cluster { port: 6222, tls {} }", "cluster tls without cert_file and key_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, warnings, err := resolveText(t, tc.text+"\n")
			if err != nil || !strings.Contains(strings.Join(warnings, "\n"), tc.warning) {
				t.Fatalf("error %v, warnings %q; want one containing %q", err, warnings, tc.warning)
			}
		})
	}
	// A block without a port configures no cluster (nats-server neither listens nor
	// solicits then).
	opts, _, err := resolveText(t, "cluster { name: x, routes: [\"nats://h:1\"] }\n")
	if err != nil || opts.Core.Cluster != nil {
		t.Fatalf("portless block: %v %+v", err, opts.Core.Cluster)
	}
}

func ms(list ...int) []time.Duration {
	out := make([]time.Duration, len(list))
	for i, n := range list {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

// tlsFiles is a tls block's certificate and key keys for a fresh test PKI.
func tlsPairText(t *testing.T) string {
	t.Helper()
	pki := newTestPKI(t)
	return "cert_file: \"" + pki.serverCert + "\", key_file: \"" + pki.serverKey + "\", ca_file: \"" + pki.caFile + "\""
}

// The cluster flags, as nats-server reads them; each was run against nats-server.
func TestClusterFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		check   func(c *core.ClusterOptions) bool
		wantErr string
	}{
		{name: "cluster URL", args: []string{"--cluster", "nats://127.0.0.1:6223"},
			check: func(c *core.ClusterOptions) bool { return c.Host == "127.0.0.1" && c.Port == 6223 && c.Username == "" }},
		{name: "cluster_listen", args: []string{"--cluster_listen", "nats://127.0.0.1:6224"},
			check: func(c *core.ClusterOptions) bool { return c.Port == 6224 }},
		{name: "credentials in the URL", args: []string{"--cluster", "nats-route://ru:rp@127.0.0.1:6223"},
			check: func(c *core.ClusterOptions) bool { return c.Username == "ru" && c.Password == "rp" }},
		{name: "any scheme", args: []string{"--cluster", "http://127.0.0.1:6223"}, check: func(c *core.ClusterOptions) bool { return c.Port == 6223 }},
		{name: "any port", args: []string{"--cluster", "nats://127.0.0.1:-1"}, check: func(c *core.ClusterOptions) bool { return c.Port == 0 }},
		{name: "all interfaces", args: []string{"--cluster", "nats://:6223"}, check: func(c *core.ClusterOptions) bool { return c.Host == DefaultHost }},
		{name: "routes", args: []string{"--cluster", "nats://:6223", "--routes", "nats://10.0.0.1:6222,nats-route://u:p@10.0.0.2:6222"},
			check: func(c *core.ClusterOptions) bool { return len(c.Routes) == 2 && c.Routes[1].User.Username() == "u" }},
		{name: "empty route items are skipped", args: []string{"--cluster", "nats://:6223", "--routes", "nats://a:1,,nats://b:2"},
			check: func(c *core.ClusterOptions) bool { return len(c.Routes) == 2 }},
		{name: "name, advertise, no_advertise, connect_retries",
			args: []string{"--cluster", "nats://:6223", "--cluster_name", "east", "--cluster_advertise", "east.example:7222", "--no_advertise", "--connect_retries", "3"},
			check: func(c *core.ClusterOptions) bool {
				return c.Name == "east" && c.Advertise == "east.example:7222" && c.NoAdvertise && c.ConnectRetries == 3
			}},
		{name: "not a URL", args: []string{"--cluster", "127.0.0.1:6223"}, wantErr: `first path segment in URL cannot contain colon`},
		{name: "no port", args: []string{"--cluster", "nats://127.0.0.1"}, wantErr: "address 127.0.0.1: missing port in address"},
		{name: "user without password", args: []string{"--cluster", "nats://u@127.0.0.1:6223"}, wantErr: "expected cluster password to be set"},
		{name: "routes without a cluster", args: []string{"--routes", "nats://10.0.0.1:6222"}, wantErr: "solicited routes require cluster capabilities, e.g. --cluster"},
		{name: "a bad route", args: []string{"--cluster", "nats://:6223", "--routes", "10.0.0.1:6222"}, wantErr: `error parsing route url ["10.0.0.1:6222"]`},
		{name: "a name with a space", args: []string{"--cluster", "nats://:6223", "--cluster_name", "a b"}, wantErr: "cluster name cannot contain spaces"},
		{name: "the client port", args: []string{"-p", "6223", "--cluster", "nats://:6223"}, wantErr: "cluster port 6223 is the client port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseFlags(tc.args, io.Discard)
			var opts Options
			if err == nil {
				opts, _, err = c.resolve()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || opts.Core.Cluster == nil || !tc.check(opts.Core.Cluster) {
				t.Fatalf("error %v, cluster %+v", err, opts.Core.Cluster)
			}
		})
	}
}

// The cluster flags override the file's cluster block, field by field; --cluster ""
// turns the file's cluster off and --routes "" drops its routes.
func TestClusterFlagsOverrideFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.conf")
	must(t, os.WriteFile(path, []byte("cluster { name: filec, port: 16250, routes: [\"nats://127.0.0.1:1\"], pool_size: 4, authorization { user: fu, password: fp } }\n"), 0o600))
	resolveArgs := func(args ...string) *core.ClusterOptions {
		t.Helper()
		c, err := parseFlags(append([]string{"-c", path}, args...), io.Discard)
		must(t, err)
		opts, _, err := c.resolve()
		must(t, err)
		return opts.Core.Cluster
	}
	if c := resolveArgs(); c == nil || c.Name != "filec" || c.Port != 16250 || len(c.Routes) != 1 || c.Username != "fu" {
		t.Fatalf("file alone: %+v", c)
	}
	if c := resolveArgs("--cluster", "nats://127.0.0.1:16251", "--cluster_name", "flagc"); c.Port != 16251 || c.Host != "127.0.0.1" ||
		c.Name != "flagc" || c.PoolSize != 4 || len(c.Routes) != 1 || c.Username != "fu" {
		t.Fatalf("--cluster over the file: %+v", c)
	}
	if c := resolveArgs("--cluster", "nats://a:b@127.0.0.1:16251"); c.Username != "a" || c.Password != "b" {
		t.Fatalf("--cluster credentials over the file's: %+v", c)
	}
	if c := resolveArgs("--routes", "nats://127.0.0.1:2"); len(c.Routes) != 1 || c.Routes[0].Host != "127.0.0.1:2" {
		t.Fatalf("--routes over the file: %+v", c.Routes)
	}
	if c := resolveArgs("--routes", ""); len(c.Routes) != 0 {
		t.Fatalf("--routes \"\": %+v", c.Routes)
	}
	if c := resolveArgs("--cluster", ""); c != nil {
		t.Fatalf("--cluster \"\" left a cluster: %+v", c)
	}
}

// Reload with the binary, as nats-server v2.15.2 reloads the cluster block: the routes and
// other options reload and are logged; the listen port does not, nor turning clustering
// off, nor (in Petrel) pooling on or off. A file without a name keeps the generated name (no
// change logged).
func TestE2EReloadCluster(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "c.conf")
	port := freePort(t)
	base := "cluster { port: " + port + " }\n"
	writeConf(t, cfg, base)
	p := startPetrel(t, "-c", cfg)
	if !strings.Contains(p.log(), "Cluster name was dynamically generated, consider setting one") {
		t.Fatal("no warning for the generated cluster name")
	}
	p.reloadWith(cfg, "cluster { port: "+port+", routes: [\"nats://127.0.0.1:1\"] }\n", "Reloaded: cluster routes")
	p.reloadWith(cfg, "cluster { port: "+port+", connect_retries: 5, routes: [\"nats://127.0.0.1:1\"] }\n", "Reloaded: cluster")
	p.reloadWith(cfg, "cluster { port: "+port+", connect_retries: 5, pool_size: 5, routes: [\"nats://127.0.0.1:1\"] }\n", "Reloaded: cluster")
	// nats-server turns pooling off on reload too; Petrel refuses it (DESIGN.md, Routes: pools).
	p.reloadWith(cfg, "cluster { port: "+port+", connect_retries: 5, pool_size: -1, routes: [\"nats://127.0.0.1:1\"] }\n",
		"Failed to reload server configuration: config reload not supported for cluster pooling: old=true, new=false")
	other := freePort(t)
	p.reloadWith(cfg, "cluster { port: "+other+" }\n",
		"Failed to reload server configuration: config reload not supported for cluster port: old="+port+", new="+other)
	p.reloadWith(cfg, "port: -1\n",
		"Failed to reload server configuration: config reload not supported for cluster host: old=0.0.0.0, new=")
}
