package conf

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// world is an in-memory file system and environment for a parse, so that tests touch no
// real files or variables.
type world struct {
	files map[string]string
	env   map[string]string
	reads []string
}

func (w *world) parser() Parser {
	return Parser{
		ReadFile: func(name string) ([]byte, error) {
			w.reads = append(w.reads, name)
			if text, ok := w.files[name]; ok {
				return []byte(text), nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
		LookupEnv: func(name string) (string, bool) {
			v, ok := w.env[name]
			return v, ok
		},
	}
}

// parseText parses src as t.conf in an empty world.
func parseText(t *testing.T, src string) *Map {
	t.Helper()
	w := &world{}
	m, err := w.parser().Parse("t.conf", []byte(src))
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return m
}

// parseErr parses src expecting an *Error.
func parseErr(t *testing.T, w *world, src string) *Error {
	t.Helper()
	if w == nil {
		w = &world{}
	}
	m, err := w.parser().Parse("t.conf", []byte(src))
	if err == nil {
		t.Fatalf("parse %q: no error; got\n%s", src, Dump(m))
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("parse %q: error %v (%T) is not an *Error", src, err, err)
	}
	return e
}

var positions = regexp.MustCompile(` ?@\S+`)

// shape is Dump without positions: what a value is, not where. (Test inputs keep '@' out
// of their strings.)
func shape(m *Map) string { return positions.ReplaceAllString(Dump(m), "") }

// get walks a dotted path of map keys from m.
func get(t *testing.T, m *Map, path ...string) *Value {
	t.Helper()
	var v *Value
	for i, key := range path {
		var ok bool
		if v, ok = m.Get(key); !ok {
			t.Fatalf("no key %q in %v; have %v", key, path[:i], m.Keys())
		}
		if i < len(path)-1 {
			m = v.Map
		}
	}
	return v
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
