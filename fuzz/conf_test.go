package fuzz

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

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
