package conf

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden from the current parser")

// goldenEnv is the environment the golden configurations see.
var goldenEnv = map[string]string{"PETREL_PORT": "4333", "MONITOR_PASSWORD": "m0n"}

// TestGolden parses each realistic configuration in testdata/*.conf (real files, read
// with the default reader, includes and all) and compares the Dump of the tree, with
// every position, to testdata/NAME.golden. `go test ./server/conf -rewrite` rewrites the
// golden files; review the diff.
func TestGolden(t *testing.T) {
	confs, err := filepath.Glob("testdata/*.conf")
	if err != nil || len(confs) == 0 {
		t.Fatalf("no testdata/*.conf: %v", err)
	}
	for _, path := range confs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p := Parser{LookupEnv: func(name string) (string, bool) {
				v, ok := goldenEnv[name]
				return v, ok
			}}
			m, err := p.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := Dump(m)
			golden := strings.TrimSuffix(path, ".conf") + ".golden"
			if *rewrite {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./server/conf -rewrite to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s; got:\n%s", path, golden, got)
			}
		})
	}
}

// TestGoldenMeaning spot-checks the golden configurations through the helpers, the way
// the server reads them, so the golden files are not the only judge.
func TestGoldenMeaning(t *testing.T) {
	p := Parser{LookupEnv: func(name string) (string, bool) {
		v, ok := goldenEnv[name]
		return v, ok
	}}
	parse := func(name string) *Map {
		m, err := p.ParseFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	single := parse("single.conf")
	mustInt(t, get(t, single, "max_payload").AsSize, 1<<20)
	mustInt(t, get(t, single, "max_connections").AsInt64, 10000)
	users, _ := get(t, single, "authorization", "users").AsArray()
	if len(users) != 3 {
		t.Fatalf("%d users", len(users))
	}
	admin := users[0].Map
	if pw, _ := admin.Get("password"); pw.Str != "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG" {
		t.Errorf("admin password %q", pw.Str)
	}
	perms, _ := admin.Get("permissions")
	if pub, _ := perms.Map.Get("publish"); pub.Str != ">" || perms.Var != "ADMIN_PERMS" {
		t.Errorf("admin permissions %v from %s", pub, perms.Var)
	}
	if v, _ := get(t, single, "authorization").Map.Get("REQUESTOR"); !v.UsedAsVariable {
		t.Error("REQUESTOR is not marked as used")
	}
	if d, err := get(t, single, "ping_interval").AsDuration(); err != nil || d.Minutes() != 2 {
		t.Errorf("ping_interval %v %v", d, err)
	}

	js := parse("jetstream.conf")
	mustInt(t, get(t, js, "jetstream", "max_mem").AsSize, 1e9)
	mustInt(t, get(t, js, "jetstream", "max_file").AsSize, 10<<30)
	if d, err := get(t, js, "lame_duck_grace_period").AsDuration(); err != nil || d.Seconds() != 10 {
		t.Errorf("lame_duck_grace_period %v %v", d, err)
	}

	inc := parse("include.conf")
	mustInt(t, get(t, inc, "port").AsInt64, 4333)
	if s, _ := get(t, inc, "jetstream", "store_dir").AsString(); s != "/data/$NAME" {
		t.Errorf("quoted $NAME was expanded: %q", s)
	}
	if b, err := get(t, parse("accounts.conf"), "accounts", "ORDERS", "jetstream").AsBool(); err != nil || !b {
		t.Errorf("jetstream: enabled = %v, %v", b, err)
	}
}

func mustInt(t *testing.T, as func() (int64, error), want int64) {
	t.Helper()
	if got, err := as(); err != nil || got != want {
		t.Errorf("got %d, %v; want %d", got, err, want)
	}
}
