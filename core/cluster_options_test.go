package core_test

import (
	"crypto/tls"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
)

// Each expectation was observed on nats-server v2.15.2 (its /varz cluster section, its
// refusals when starting, its /routez compression between two servers).

func ms(list ...int) []time.Duration {
	out := make([]time.Duration, len(list))
	for i, n := range list {
		out[i] = time.Duration(n) * time.Millisecond
	}
	return out
}

func TestClusterCompressionRules(t *testing.T) {
	cases := []struct {
		name     string
		in       core.Compression
		wantMode string
		wantRTT  []time.Duration
		wantErr  string
	}{
		{name: "no mode is accept", in: core.Compression{}, wantMode: core.CompressionAccept},
		{name: "other modes drop thresholds", in: core.Compression{Mode: core.CompressionS2Fast, RTTThresholds: ms(10)}, wantMode: core.CompressionS2Fast},
		{name: "auto without thresholds takes the defaults", in: core.Compression{Mode: core.CompressionS2Auto}, wantMode: core.CompressionS2Auto, wantRTT: ms(10, 50, 100)},
		{name: "four thresholds", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(10, 20, 30, 40)}, wantMode: core.CompressionS2Auto, wantRTT: ms(10, 20, 30, 40)},
		{name: "five thresholds", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(10, 20, 30, 40, 50)},
			wantErr: `compression mode "s2_auto" should have no more than 4 RTT thresholds: [10ms 20ms 30ms 40ms 50ms]`},
		{name: "descending", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(10, 5)},
			wantErr: "RTT threshold values [10ms 5ms] should be in ascending order"},
		{name: "descending across a skipped step", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(20, 0, 10)},
			wantErr: "RTT threshold values [20ms 0s 10ms] should be in ascending order"},
		{name: "equal steps", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(5, 5)}, wantMode: core.CompressionS2Auto, wantRTT: ms(5, 5)},
		{name: "zero steps are skipped", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(0, 10)}, wantMode: core.CompressionS2Auto, wantRTT: ms(0, 10)},
		{name: "negative reads as zero", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(-1, 10)}, wantMode: core.CompressionS2Auto, wantRTT: ms(0, 10)},
		{name: "all zero", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(0, 0)},
			wantErr: `compression mode "s2_auto" requires at least one RTT threshold`},
		{name: "only negative", in: core.Compression{Mode: core.CompressionS2Auto, RTTThresholds: ms(-1)},
			wantErr: `compression mode "s2_auto" requires at least one RTT threshold`},
		{name: "unknown mode", in: core.Compression{Mode: "s2_uncompressed"}, wantErr: `unsupported compression mode "s2_uncompressed"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := core.CheckClusterOptions(core.ClusterOptions{Compression: tc.in}, core.Options{})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Compression.Mode != tc.wantMode || !slices.Equal(got.Compression.RTTThresholds, tc.wantRTT) {
				t.Fatalf("got %+v, %v; want %s %v", got.Compression, err, tc.wantMode, tc.wantRTT)
			}
		})
	}
}

func TestClusterDefaults(t *testing.T) {
	got, err := core.CheckClusterOptions(core.ClusterOptions{}, core.Options{})
	switch {
	case err != nil:
		t.Fatal(err)
	case got.PoolSize != core.DefaultRoutePoolSize || got.AuthTimeout != core.DefaultAuthTimeout || got.TLSTimeout != core.DefaultTLSTimeout:
		t.Fatalf("pool %d auth %v tls %v", got.PoolSize, got.AuthTimeout, got.TLSTimeout)
	case got.PingInterval != core.RoutePingIntervalMax || got.MaxPingsOut != core.DefaultMaxPingsOut || got.WriteDeadline != core.DefaultWriteDeadline:
		// Routes inherit the server's keepalive and deadline, the interval capped at 30s.
		t.Fatalf("ping %v max %d deadline %v", got.PingInterval, got.MaxPingsOut, got.WriteDeadline)
	case got.Compression.Mode != core.CompressionAccept || got.PinnedAccounts != nil:
		t.Fatalf("compression %+v pinned %v", got.Compression, got.PinnedAccounts)
	}
	// With TLS the auth timeout is the TLS timeout plus a second.
	got, _ = core.CheckClusterOptions(core.ClusterOptions{TLS: &tls.Config{}, TLSTimeout: 4 * time.Second}, core.Options{})
	if got.AuthTimeout != 5*time.Second {
		t.Fatalf("auth timeout with TLS %v", got.AuthTimeout)
	}
	got, _ = core.CheckClusterOptions(core.ClusterOptions{}, core.Options{PingInterval: 10 * time.Second, MaxPingsOut: 5})
	if got.PingInterval != 10*time.Second || got.MaxPingsOut != 5 {
		t.Fatalf("inherited ping %v max %d", got.PingInterval, got.MaxPingsOut)
	}
	got, _ = core.CheckClusterOptions(core.ClusterOptions{PoolSize: -1}, core.Options{})
	if got.PoolSize != -1 {
		t.Fatalf("a negative pool size (pooling off) became %d", got.PoolSize)
	}
}

func TestClusterPinnedAccounts(t *testing.T) {
	cases := []struct {
		name    string
		in      core.ClusterOptions
		system  string
		want    []string
		wantErr string
	}{
		{name: "the system account is pinned too", in: core.ClusterOptions{PinnedAccounts: []string{"A"}}, want: []string{"A", "$SYS"}},
		{name: "once", in: core.ClusterOptions{PinnedAccounts: []string{"$SYS", "A"}}, want: []string{"$SYS", "A"}},
		{name: "a configured system account", in: core.ClusterOptions{PinnedAccounts: []string{"A"}}, system: "SYS", want: []string{"A", "SYS"}},
		{name: "duplicates", in: core.ClusterOptions{PinnedAccounts: []string{"A", "A"}},
			wantErr: `found duplicate account name "A" in pinned accounts list ["A" "A" "$SYS"]`},
		{name: "without pooling", in: core.ClusterOptions{PoolSize: -1, PinnedAccounts: []string{"A"}},
			wantErr: "pool_size cannot be negative if pinned accounts are specified"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := core.CheckClusterOptions(tc.in, core.Options{SystemAccount: tc.system})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got.PinnedAccounts, tc.want) {
				t.Fatalf("pinned %q, %v; want %q", got.PinnedAccounts, err, tc.want)
			}
		})
	}
}

func TestClusterRefusals(t *testing.T) {
	for _, tc := range []struct {
		in   core.ClusterOptions
		want string
	}{
		{core.ClusterOptions{Port: 70000}, "cluster port 70000 out of range"},
		{core.ClusterOptions{Port: -1}, "cluster port -1 out of range"}, // the host maps -1 to 0
		{core.ClusterOptions{Name: "a b"}, "cluster name cannot contain spaces"},
	} {
		if _, err := core.CheckClusterOptions(tc.in, core.Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// /varz shows the cluster options with nats-server's keys; a generated name is 22
// characters and stays the same across reloads that leave the name out.
func TestClusterVarzAndGeneratedName(t *testing.T) {
	opts := core.Options{Cluster: &core.ClusterOptions{Host: "0.0.0.0", Port: 6222, PoolSize: 5,
		Routes: []*url.URL{mustURL(t, "nats-route://u:p@10.0.0.1:6222"), mustURL(t, "nats://10.0.0.2:6222")}}}
	r := newRig(t, opts)
	v := r.srv.Varz(core.VarzHost{}).Cluster
	if len(v.Name) != 22 || v.Host != "0.0.0.0" || v.Port != 6222 || v.PoolSize != 5 || v.AuthTimeout != 2 || v.TLSTimeout != 2 {
		t.Fatalf("varz cluster %+v", v)
	}
	if !slices.Equal(v.URLs, []string{"10.0.0.1:6222", "10.0.0.2:6222"}) || v.TLSRequired || v.WriteDeadline != 0 {
		t.Fatalf("varz cluster urls %v tls %v deadline %v", v.URLs, v.TLSRequired, v.WriteDeadline)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"` + v.Name + `","addr":"0.0.0.0","cluster_port":6222,"auth_timeout":2,"urls":["10.0.0.1:6222","10.0.0.2:6222"],"tls_timeout":2,"pool_size":5}`
	if string(raw) != want {
		t.Fatalf("varz cluster JSON\n got %s\nwant %s", raw, want)
	}
	generated := v.Name
	next := opts
	c := *opts.Cluster
	c.PoolSize = 4
	next.Cluster = &c
	if err := r.reload(next); err != nil {
		t.Fatal(err)
	}
	if v := r.srv.Varz(core.VarzHost{}).Cluster; v.Name != generated || v.PoolSize != 4 {
		t.Fatalf("after reload: name %q (was %q), pool %d", v.Name, generated, v.PoolSize)
	}
}

// What a reload may change in the cluster options: not the listener's address (nor
// turning clustering on or off), nor turning pooling on or off, nor the pinned accounts
// (which nats-server reloads, Petrel not yet), everything else.
func TestClusterReloadRules(t *testing.T) {
	base := core.ClusterOptions{Name: "c1", Host: "0.0.0.0", Port: 6222}
	cases := []struct {
		name   string
		change func(*core.Options)
		want   string // "" accepted
	}{
		{"port", func(o *core.Options) { o.Cluster.Port = 6223 }, "config reload not supported for cluster port: old=6222, new=6223"},
		{"host", func(o *core.Options) { o.Cluster.Host = "127.0.0.1" }, "config reload not supported for cluster host: old=0.0.0.0, new=127.0.0.1"},
		{"turned off", func(o *core.Options) { o.Cluster = nil }, "config reload not supported for cluster host: old=0.0.0.0, new="},
		{"name", func(o *core.Options) { o.Cluster.Name = "c2" }, ""},
		{"routes", func(o *core.Options) { o.Cluster.Routes = []*url.URL{{Scheme: "nats", Host: "h:1"}} }, ""},
		{"pool size", func(o *core.Options) { o.Cluster.PoolSize = 2 }, ""},
		{"pooling off", func(o *core.Options) { o.Cluster.PoolSize = -1 }, "config reload not supported for cluster pooling: old=true, new=false"},
		{"pinned accounts", func(o *core.Options) { o.Cluster.PinnedAccounts = []string{"A"} }, "config reload not supported for cluster accounts: old=[], new=[A $SYS]"},
		{"compression", func(o *core.Options) { o.Cluster.Compression.Mode = core.CompressionS2Fast }, ""},
		{"authorization", func(o *core.Options) { o.Cluster.Username, o.Cluster.Password = "a", "b" }, ""},
		{"tls", func(o *core.Options) { o.Cluster.TLS = &tls.Config{} }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := base
			r := newRig(t, core.Options{Cluster: &b})
			nb := base
			next := core.Options{Cluster: &nb}
			tc.change(&next)
			err := r.reload(next)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || err.Error() != tc.want):
				t.Fatalf("reload: %v, want %q", err, tc.want)
			}
		})
	}
	// Turning clustering on is refused too, by the host first (nats-server's order).
	r := newRig(t, core.Options{})
	b := base
	if err := r.reload(core.Options{Cluster: &b}); err == nil || err.Error() != "config reload not supported for cluster host: old=, new=0.0.0.0" {
		t.Fatalf("turning clustering on: %v", err)
	}
}
