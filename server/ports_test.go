package server

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/netstack"
)

func TestListenURLs(t *testing.T) {
	if got := listenURLs("nats", "127.0.0.1", 4222); !slices.Equal(got, []string{"nats://127.0.0.1:4222"}) {
		t.Fatalf("one host: %q", got)
	}
	if got := listenURLs("http", "::1", 8222); !slices.Equal(got, []string{"http://[::1]:8222"}) {
		t.Fatalf("IPv6 host: %q", got)
	}
	for _, any := range []string{"0.0.0.0", "::", ""} {
		got := listenURLs("nats", any, 4222)
		if !slices.Contains(got, "nats://127.0.0.1:4222") {
			t.Fatalf("all interfaces (%q) should list loopback: %q", any, got)
		}
	}
}

// The ports file appears whole once the server listens, names its resolved ports, and is
// gone after shutdown; no temporary file is left behind.
func TestPortsFileInProcess(t *testing.T) {
	dir := t.TempDir()
	e := netstack.NewEnv("t", netstack.Options{LogWriter: io.Discard})
	s, err := New(Options{Core: core.Options{Host: "127.0.0.1"}, HTTPPort: -1, PortsFileDir: dir}, e)
	must(t, err)
	must(t, s.Start())
	files, err := os.ReadDir(dir)
	must(t, err)
	if len(files) != 1 || !strings.HasSuffix(files[0].Name(), ".ports") {
		t.Fatalf("directory holds %v", files)
	}
	name := filepath.Join(dir, files[0].Name())
	if want := portsFileName(dir); name != want {
		t.Fatalf("ports file %s, want %s", name, want)
	}
	raw, err := os.ReadFile(name)
	must(t, err)
	var doc map[string][]string
	must(t, json.Unmarshal(raw, &doc))
	if got := doc["nats"]; len(got) != 1 || got[0] != "nats://"+s.Addr() {
		t.Fatalf("nats %q, want the listener %s", got, s.Addr())
	}
	if got := doc["monitoring"]; len(got) != 1 || got[0] != "http://"+s.MonitorAddr() {
		t.Fatalf("monitoring %q, want %s", got, s.MonitorAddr())
	}
	if len(doc) != 2 {
		t.Fatalf("keys for listeners that are off: %s", raw)
	}
	s.Shutdown()
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Fatalf("ports file after shutdown: %v", err)
	}
}
