package server

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Monitoring parity: for each scenario (a way to start the server, and the same clients
// doing the same things), every key path nats-server v2.15.2's monitoring documents carry
// must be in Petrel's with the same JSON type. The key paths of nats-server are kept in
// testdata/monitor/<scenario>.txt, written from the real server by
// TestMonitorGoldenFromNatsServer (NATS_SERVER_BIN=/path/to/nats-server go test -run
// TestMonitorGoldenFromNatsServer ./server/ -update-monitor-golden).

var updateMonitorGolden = flag.Bool("update-monitor-golden", false, "rewrite testdata/monitor from NATS_SERVER_BIN")

const monitorGoldenDir = "../testdata/monitor"

// monitorScenario is one server setup and the endpoints fetched under it.
type monitorScenario struct {
	name string
	// setup returns the server's extra flags and the client options (credentials, TLS).
	setup     func(t *testing.T) (args []string, scheme string, opts []nats.Option)
	endpoints []string
}

var connzEndpoints = []string{
	"/connz", "/connz?subs=1", "/connz?subs=detail", "/connz?state=closed",
	"/connz?state=any&subs=detail&auth=1", "/connz?sort=rtt&limit=1&offset=1",
}

var subszEndpoints = []string{"/subsz", "/subsz?subs=1", "/subsz?subs=1&test=watched.y&limit=2&offset=1"}

func monitorScenarios() []monitorScenario {
	all := append(append([]string{"/varz", "/healthz"}, connzEndpoints...), subszEndpoints...)
	return []monitorScenario{
		{name: "plain", endpoints: all, setup: func(*testing.T) ([]string, string, []nats.Option) {
			return nil, "nats", nil
		}},
		{name: "auth", endpoints: all, setup: func(*testing.T) ([]string, string, []nats.Option) {
			return []string{"--user", "alice", "--pass", "s3cret"}, "nats", []nats.Option{nats.UserInfo("alice", "s3cret")}
		}},
		{name: "tls", endpoints: []string{"/varz", "/connz?state=any"}, setup: func(t *testing.T) ([]string, string, []nats.Option) {
			pki := newTestPKI(t)
			return []string{"--tls", "--tlscert", pki.serverCert, "--tlskey", pki.serverKey}, "tls", []nats.Option{nats.RootCAs(pki.caFile)}
		}},
		{name: "websocket", endpoints: []string{"/varz", "/connz?subs=1"}, setup: func(t *testing.T) ([]string, string, []nats.Option) {
			conf := filepath.Join(t.TempDir(), "ws.conf")
			must(t, os.WriteFile(conf, []byte("websocket { port: -1, no_tls: true, compression: true }\n"), 0o644))
			return []string{"-c", conf}, "nats", nil
		}},
		{name: "cluster", endpoints: []string{"/varz"}, setup: func(t *testing.T) ([]string, string, []nats.Option) {
			// A fixed route port: Petrel does not listen on routes yet, so it could not
			// report the port "any free port" would pick.
			conf := filepath.Join(t.TempDir(), "cluster.conf")
			text := "cluster { name: parity, port: " + freePort(t) + ", pool_size: 4, routes: [\"nats://127.0.0.1:1\"] }\n"
			must(t, os.WriteFile(conf, []byte(text), 0o644))
			return []string{"-c", conf}, "nats", nil
		}},
		{name: "jetstream", endpoints: []string{"/varz", "/healthz", "/healthz?js-enabled-only=true"},
			setup: func(t *testing.T) ([]string, string, []nats.Option) {
				return []string{"-js", "-sd", t.TempDir()}, "nats", nil
			}},
	}
}

// monitorWorkload is what the clients do before the documents are read: a subscriber
// with a plain and a queue subscription that stays, a publisher that publishes to both,
// makes a request nobody answers, and leaves (a closed connection).
func monitorWorkload(t *testing.T, url, monitor string, opts []nats.Option) {
	t.Helper()
	sub := connect(t, url, append([]nats.Option{nats.Name("watcher")}, opts...)...)
	plain, err := sub.SubscribeSync("watched.*")
	must(t, err)
	queued, err := sub.QueueSubscribeSync("work", "workers")
	must(t, err)
	must(t, sub.Flush())
	pub := connect(t, url, append([]nats.Option{nats.Name("publisher")}, opts...)...)
	must(t, pub.Publish("watched.x", []byte("12345")))
	must(t, pub.Publish("work", []byte("job")))
	if _, err := pub.Request("nobody.home", nil, testTimeout); err == nil {
		t.Fatal("a request nobody subscribed to was answered")
	}
	next(t, plain)
	next(t, queued)
	pub.Close()
	// The server records the closed connection once it has seen the close, which no round
	// trip on another connection promises: wait for it to show.
	deadline := time.Now().Add(testTimeout)
	for {
		_, body := httpGet(t, monitor+"/connz?state=closed")
		if strings.Contains(body, `"publisher"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed connection never showed in /connz: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keyPaths flattens a JSON document into "path type" pairs: object keys joined by dots,
// array elements as [] (the union over elements), and for maps keyed by data (mapPaths)
// the children as *.
func keyPaths(v any, path string, out map[string]string) {
	kind := jsonKind(v)
	if path != "" {
		out[path] = mergeKind(out[path], kind)
	}
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			if mapPaths[path] {
				k = "*"
			}
			keyPaths(child, joinPath(path, k), out)
		}
	case []any:
		for _, child := range x {
			keyPaths(child, path+"[]", out)
		}
	}
}

// mapPaths are objects whose keys are data, not schema: which endpoints were requested,
// nats-server's own feature flags (in /varz and in a system reply's server).
var mapPaths = map[string]bool{"http_req_stats": true, "feature_flags": true, "server.feature_flags": true}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	default:
		return "null"
	}
}

func mergeKind(old, kind string) string {
	if old == "" || old == kind {
		return kind
	}
	return "mixed"
}

// monitorDocs fetches every endpoint of the scenario from a monitoring base URL. The
// status is not checked: an unhealthy /healthz is a document too.
func monitorDocs(t *testing.T, base string, endpoints []string) map[string]map[string]string {
	t.Helper()
	docs := map[string]map[string]string{}
	for _, ep := range endpoints {
		code, body := httpGet(t, base+ep)
		var v any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s: status %d: %v: %s", ep, code, err, body)
		}
		paths := map[string]string{}
		keyPaths(v, "", paths)
		docs[ep] = paths
	}
	return docs
}

// formatGolden renders documents as "== endpoint" sections of sorted "path type" lines.
func formatGolden(sc monitorScenario, docs map[string]map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Key paths and JSON types of nats-server v2.15.2's monitoring documents, scenario %q.\n", sc.name)
	b.WriteString("# Written by TestMonitorGoldenFromNatsServer; Petrel must carry each with the same type.\n")
	for _, ep := range sc.endpoints {
		fmt.Fprintf(&b, "== %s\n", ep)
		paths := docs[ep]
		keys := make([]string, 0, len(paths))
		for k := range paths {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s %s\n", k, paths[k])
		}
	}
	return b.String()
}

func parseGolden(t *testing.T, text string) map[string]map[string]string {
	t.Helper()
	docs := map[string]map[string]string{}
	var cur map[string]string
	for i, line := range strings.Split(text, "\n") {
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "== "):
			cur = map[string]string{}
			docs[strings.TrimPrefix(line, "== ")] = cur
		default:
			path, kind, ok := strings.Cut(line, " ")
			if !ok || cur == nil {
				t.Fatalf("golden line %d: %q", i+1, line)
			}
			cur[path] = kind
		}
	}
	return docs
}

// TestMonitorGoldenFromNatsServer checks (or with -update-monitor-golden, rewrites) the
// golden key paths against the real nats-server named by NATS_SERVER_BIN.
func TestMonitorGoldenFromNatsServer(t *testing.T) {
	bin := os.Getenv("NATS_SERVER_BIN")
	if bin == "" {
		t.Skip("NATS_SERVER_BIN is not set")
	}
	for _, sc := range monitorScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			args, scheme, opts := sc.setup(t)
			port, mport := freePort(t), freePort(t)
			startNatsServer(t, bin, append([]string{"-a", "127.0.0.1", "-p", port, "-m", mport}, args...))
			monitorWorkload(t, scheme+"://127.0.0.1:"+port, "http://127.0.0.1:"+mport, opts)
			got := formatGolden(sc, monitorDocs(t, "http://127.0.0.1:"+mport, sc.endpoints))
			file := filepath.Join(monitorGoldenDir, sc.name+".txt")
			if *updateMonitorGolden {
				must(t, os.MkdirAll(monitorGoldenDir, 0o755))
				must(t, os.WriteFile(file, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(file)
			must(t, err)
			if string(want) != got {
				t.Fatalf("%s is out of date with %s; rerun with -update-monitor-golden\ngot:\n%s", file, bin, got)
			}
		})
	}
}

// startNatsServer runs the reference server until the test ends; its output is logged if
// the test fails.
func startNatsServer(t *testing.T, bin string, args []string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	must(t, err)
	must(t, cmd.Start())
	ready := make(chan struct{})
	exited := make(chan struct{})
	var out strings.Builder // written by the reader until exited is closed
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), "Server is ready") {
				close(ready)
				signalled = true
			}
		}
		_ = cmd.Wait() // killed at cleanup; its status says nothing
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // a no-op once it has exited
		<-exited
		if t.Failed() {
			t.Logf("nats-server output:\n%s", out.String())
		}
	})
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("%s exited before it was ready", bin)
	case <-time.After(testTimeout):
		t.Fatalf("%s was not ready in time", bin)
	}
}

// monitorDepartures are key paths (with everything under them) Petrel leaves out on
// purpose, each with the reason; DESIGN.md (Monitoring) says more.
var monitorDepartures = map[string]string{
	"jetstream.stats":  "JetStream is not built: started with -js, Petrel shows the configuration it accepted and no statistics of a JetStream that does not run",
	"jetstream.limits": "the same: no JetStream, no limits in force",
}

func departure(path string) bool {
	for p := range monitorDepartures {
		if path == p || strings.HasPrefix(path, p+".") {
			return true
		}
	}
	return false
}

// TestMonitorParity runs each scenario against the Petrel binary and checks that every
// key path of nats-server's documents is there with the same JSON type.
func TestMonitorParity(t *testing.T) {
	for _, sc := range monitorScenarios() {
		t.Run(sc.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(monitorGoldenDir, sc.name+".txt"))
			must(t, err)
			want := parseGolden(t, string(raw))
			args, scheme, opts := sc.setup(t)
			mport := freePort(t)
			p := startPetrel(t, append([]string{"-m", mport}, args...)...)
			monitorWorkload(t, scheme+"://127.0.0.1:"+p.port, "http://127.0.0.1:"+mport, opts)
			got := monitorDocs(t, "http://127.0.0.1:"+mport, sc.endpoints)
			for _, ep := range sc.endpoints {
				for _, miss := range missingPaths(want[ep], got[ep]) {
					t.Errorf("%s: %s", ep, miss)
				}
			}
		})
	}
}

// missingPaths lists what of want is absent from got or has another type. A path under a
// data-keyed map (a * segment) need not be present, but where it is its type must agree.
func missingPaths(want, got map[string]string) []string {
	var out []string
	for path, kind := range want {
		if departure(path) {
			continue
		}
		g, ok := got[path]
		switch {
		case !ok && strings.Contains(path, "*"):
		case !ok:
			out = append(out, fmt.Sprintf("%s (%s) is missing", path, kind))
		case g != kind:
			out = append(out, fmt.Sprintf("%s is %s, nats-server's is %s", path, g, kind))
		}
	}
	sort.Strings(out)
	return out
}
