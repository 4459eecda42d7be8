package fuzz

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/server"
	"github.com/petrel-io/petrel/server/conf"
)

// confFiles is the little file system includes see while fuzzing: a plain file, a
// self-include (a cycle), a file of variables and a broken one. Anything else is missing.
var confFiles = map[string]string{
	"inc.conf":    "included: 1\nnested { deep: [1, 2] }",
	"self.conf":   "x: 1\ninclude self.conf",
	"vars.conf":   "V = 42\nW = { a: b }",
	"broken.conf": "a: \"unterminated",
}

func confParser() conf.Parser {
	return conf.Parser{
		ReadFile: func(name string) ([]byte, error) {
			if text, ok := confFiles[name]; ok {
				return []byte(text), nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
		LookupEnv: func(name string) (string, bool) {
			v, ok := map[string]string{"PORT": "4222", "TEXT": "two words", "SIZE": "8MB"}[name]
			return v, ok
		},
	}
}

// FuzzConfParse feeds arbitrary bytes to the configuration parser: it must never panic;
// every error must be a *conf.Error positioned inside a file the parse read; every value
// of a successful parse must carry such a position and a path; and parsing twice must
// give the same tree.
func FuzzConfParse(f *testing.F) {
	seeds, _ := filepath.Glob("../server/conf/testdata/*.conf") // no seeds is not an error: the fuzzer still runs
	more, _ := filepath.Glob("../server/conf/testdata/*/*.conf")
	for _, path := range append(seeds, more...) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"include inc.conf\nport: $PORT",
		"include self.conf",
		"include vars.conf\na: $V\nb: $W\nc: [$V, {d: $W}]",
		"a { include broken.conf }",
		"{ a: 1, b: [x, 'y', \"z\\u00e9\"], c: (\nblock\n) }",
		"p: $2a$11$abc\nsize: 10GiB\nd: 1h30m\nf: 1e3\nb: yes",
		"x: $TEXT\ny: $SIZE\nz: $NOPE",
		"cluster { name: east, listen: \"127.0.0.1:-1\", routes: [nats-route://u:p@h:6222], compression: { mode: s2_auto, rtt_thresholds: [10ms, 50ms] } }",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := confParser()
		m, err := p.Parse("fuzz.conf", data)
		if err != nil {
			var e *conf.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *conf.Error", err, err)
			}
			checkPos(t, "error", e.Pos, data)
			return
		}
		walkConf(t, m, data)
		again, err := p.Parse("fuzz.conf", data)
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		if a, b := conf.Dump(m), conf.Dump(again); a != b {
			t.Fatalf("two parses differ:\n%s\n---\n%s", a, b)
		}
	})
}

// checkPos asserts that pos lies inside the file it names: the fuzzed input or one of
// the include files.
func checkPos(t *testing.T, what string, pos conf.Pos, data []byte) {
	t.Helper()
	text := data
	if pos.File != "fuzz.conf" {
		included, ok := confFiles[pos.File]
		if !ok {
			t.Fatalf("%s at %v: no such file was read", what, pos)
		}
		text = []byte(included)
	}
	lines := bytes.Count(text, []byte("\n")) + 1
	if pos.Line < 1 || pos.Line > lines || pos.Col < 1 || pos.Col > len(text)+1 {
		t.Fatalf("%s at %v: outside the file (%d lines, %d bytes)", what, pos, lines, len(text))
	}
}

// walkConf checks every key and value position, without expanding values reached
// through variables (their definitions are walked where they stand).
func walkConf(t *testing.T, m *conf.Map, data []byte) {
	for _, e := range m.Entries() {
		checkPos(t, "key "+e.Key, e.KeyPos, data)
		walkValue(t, e.Value, data)
	}
}

func walkValue(t *testing.T, v *conf.Value, data []byte) {
	checkPos(t, "value "+v.Path, v.Pos, data)
	if v.Path == "" {
		t.Fatalf("value at %v has no path", v.Pos)
	}
	if v.Var != "" {
		return
	}
	switch v.Kind {
	case conf.KindMap:
		walkConf(t, v.Map, data)
	case conf.KindArray:
		for _, elem := range v.Array {
			walkValue(t, elem, data)
		}
	}
}

// FuzzClusterConfig feeds arbitrary bytes as the body of a cluster block to the whole
// configuration reader: it must never panic; a refusal must be a *conf.Error positioned
// inside the file; and what the host accepts the engine must accept too (its checks and
// defaults run again on the options built). Inputs naming files (certificates, includes)
// are skipped: the fuzzer must not read the machine's files.
func FuzzClusterConfig(f *testing.F) {
	for _, s := range []string{
		"port: 6222",
		"name: east\nlisten: \"127.0.0.1:-1\"\nroutes: [\"nats-route://u:p@h:6222\", \"nats://h2:6222\"]",
		"port: 6222\npool_size: -1\naccounts: [A]",
		"port: 6222\naccounts: [A, B]\npool_size: 0",
		"port: 6222\ncompression: { mode: s2_auto, rtt_thresholds: [10ms, 0ms, 50ms] }",
		"port: 6222\ncompression: { mode: s2_auto, rtt_thresholds: [50ms, 10ms] }",
		"port: 6222\ncompression: off\nping_interval: \"1m\"\nping_max: 3\nwrite_deadline: \"2s\"\nwrite_timeout: retry",
		"port: 6222\nauthorization { user: a, password: b, timeout: 0.5, permissions { import: \">\" } }",
		"port: 6222\npermissions { import: { allow: \"a.>\", deny: \"a.b\" }, export: \"c\" }\nadvertise: \"[::1]:7222\"",
		"port: 4222",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("_file")) || bytes.Contains(data, []byte("include")) {
			return
		}
		text := append([]byte("port: 4222\naccounts { A {}, B {} }\ncluster {\n"), data...)
		text = append(text, "\n}\n"...)
		path := filepath.Join(dir, "cluster.conf")
		if err := os.WriteFile(path, text, 0o600); err != nil {
			t.Fatal(err)
		}
		opts, _, err := server.LoadConfig(path)
		if err != nil {
			var e *conf.Error
			if !errors.As(err, &e) {
				t.Fatalf("refusal %v (%T) is not a *conf.Error", err, err)
			}
			if e.Pos.File != path {
				t.Fatalf("refusal at %v, not in the file", e.Pos)
			}
			checkPosIn(t, "refusal", e.Pos, text)
			return
		}
		if c := opts.Core.Cluster; c != nil {
			if _, err := core.CheckClusterOptions(*c, opts.Core); err != nil {
				t.Fatalf("the host accepted cluster options the engine refuses: %v\n%s", err, text)
			}
		}
	})
}

// checkPosIn asserts that pos lies inside text.
func checkPosIn(t *testing.T, what string, pos conf.Pos, text []byte) {
	t.Helper()
	lines := bytes.Count(text, []byte("\n")) + 1
	if pos.Line < 1 || pos.Line > lines || pos.Col < 1 || pos.Col > len(text)+1 {
		t.Fatalf("%s at %v: outside the file (%d lines)", what, pos, lines)
	}
}
