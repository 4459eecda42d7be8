package conf

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestInclude checks that an included file's keys join the block that includes it, in
// place, with names relative to the including file and positions in the included file.
func TestInclude(t *testing.T) {
	w := &world{files: map[string]string{
		"etc/auth.conf":          "authorization {\n  user: a\n  password: $PASS\n}\ninclude more/users.conf\n",
		"etc/more/users.conf":    "{ extra: 1 }",
		"etc/vars.conf":          "PASS = s3cret\nPORT = 4222",
		"etc/js.conf":            "store_dir: \"/data\"\nmax_mem: 1G",
		"etc/quoted name.conf":   "q: 1",
		"/abs/where.conf":        "abs: yes",
		"etc/nested/inner.conf":  "inner: $PORT\ninclude ../leaf.conf",
		"etc/leaf.conf":          "leaf: true",
		"etc/jetstream/top.conf": "",
	}}
	src := "include vars.conf\n" +
		"port: $PORT\n" +
		"include auth.conf # comment\n" +
		"jetstream {\n  include 'js.conf'\n  max_file: 10GiB\n}\n" +
		"include \"quoted name.conf\"; include /abs/where.conf\n" +
		"n { include nested/inner.conf }\n" +
		"include: not-a-directive\n"
	m, err := w.parser().Parse("etc/main.conf", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		`PASS string "s3cret" @etc/vars.conf:1:8 (used as variable)`,
		`PORT int 4222 @etc/vars.conf:2:8 (used as variable)`,
		`port int 4222 @etc/main.conf:2:7 from $PORT@etc/vars.conf:2:8`,
		`authorization map (2) @etc/auth.conf:1:15`,
		`  user string "a" @etc/auth.conf:2:9`,
		`  password string "s3cret" @etc/auth.conf:3:13 from $PASS@etc/vars.conf:1:8`,
		`extra int 1 @etc/more/users.conf:1:10`,
		`jetstream map (3) @etc/main.conf:4:11`,
		`  store_dir string "/data" @etc/js.conf:1:12`,
		`  max_mem int 1000000000 raw "1G" @etc/js.conf:2:10`,
		`  max_file int 10737418240 raw "10GiB" @etc/main.conf:6:13`,
		`q int 1 @etc/quoted name.conf:1:4`,
		`abs bool true raw "yes" @/abs/where.conf:1:6`,
		`n map (2) @etc/main.conf:9:3`,
		`  inner int 4222 @etc/nested/inner.conf:1:8 from $PORT@etc/vars.conf:2:8`,
		`  leaf bool true @etc/leaf.conf:1:7`,
		`include string "not-a-directive" @etc/main.conf:10:10`,
	}, "\n") + "\n"
	if got := Dump(m); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got, want := get(t, m, "jetstream", "max_mem").Path, "jetstream.max_mem"; got != want {
		t.Errorf("path in an included file %q, want %q", got, want)
	}
}

// TestIncludeErrors checks cycles, missing files and errors inside included files, each
// at the right position and with the right class.
func TestIncludeErrors(t *testing.T) {
	files := map[string]string{
		"self.conf":    "a: 1\ninclude self.conf",
		"a.conf":       "include b.conf",
		"b.conf":       "x: 1\n  include ./a.conf",
		"bad.conf":     "ok: 1\nbroken: \"abc",
		"missing.conf": "include sub/none.conf",
		"undef.conf":   "x: $NOWHERE",
	}
	cases := []struct {
		name  string
		src   string
		class error
		want  string
	}{
		{"self include", "include self.conf", ErrIncludeCycle,
			"self.conf:2:9: include: include cycle: t.conf -> self.conf -> self.conf"},
		{"including the top file", "include t.conf", ErrIncludeCycle,
			"t.conf:1:9: include: include cycle: t.conf -> t.conf"},
		{"two-file cycle", "include a.conf", ErrIncludeCycle,
			"b.conf:2:11: include: include cycle: t.conf -> a.conf -> b.conf -> a.conf"},
		{"missing file", "a: 1\ninclude none.conf", fs.ErrNotExist,
			"t.conf:2:9: include: cannot read none.conf: open none.conf: file does not exist"},
		{"missing file in an included file", "include missing.conf", fs.ErrNotExist,
			"missing.conf:1:9: include: cannot read sub/none.conf: open sub/none.conf: file does not exist"},
		{"syntax error inside an included file", "x {\n  include bad.conf\n}", ErrSyntax,
			`bad.conf:2:9: x.broken: unterminated string: no closing " on its line`},
		{"undefined variable inside an included file", "include undef.conf", ErrUndefined,
			"undef.conf:1:4: x: undefined variable $NOWHERE: no enclosing block defines NOWHERE and the environment has no NOWHERE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := parseErr(t, &world{files: files}, tc.src)
			if got := e.Error(); got != tc.want {
				t.Errorf("parse %q:\n got: %s\nwant: %s", tc.src, got, tc.want)
			}
			if !errors.Is(e, tc.class) {
				t.Errorf("error %v is not %v", e, tc.class)
			}
		})
	}
}

// TestIncludeLimits checks that include chains of distinct files and include fan-out
// stop at their limits with ErrLimit instead of running away.
func TestIncludeLimits(t *testing.T) {
	// chain: f0 includes f1 includes f2 ... beyond maxIncludeDepth.
	chain := map[string]string{}
	for i := range maxIncludeDepth + 5 {
		chain[name(i)] = "include " + name(i+1)
	}
	e := parseErr(t, &world{files: chain}, "include "+name(0))
	if !errors.Is(e, ErrLimit) || !strings.Contains(e.Msg, "includes nest deeper than 32 files") {
		t.Errorf("chain: got %v", e)
	}
	// fan-out: each level includes the next twice; 2^12 includes would be read.
	fan := map[string]string{}
	for i := range 12 {
		fan[name(i)] = "include " + name(i+1) + "\ninclude " + name(i+1)
	}
	fan[name(12)] = "leaf: 1"
	w := &world{files: fan}
	e = parseErr(t, w, "include "+name(0))
	if !errors.Is(e, ErrLimit) || !strings.Contains(e.Msg, "more than 1000 includes") {
		t.Errorf("fan-out: got %v", e)
	}
	if len(w.reads) != maxIncludes {
		t.Errorf("fan-out read %d files, want the limit %d", len(w.reads), maxIncludes)
	}
}

func name(i int) string { return "f" + strings.Repeat("x", i) + ".conf" }

// TestParseFileRealFiles checks the default reader on real files: relative includes
// from the including file's directory, and a file over the size limit.
func TestParseFileRealFiles(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.conf"), "include sub/a.conf\nport: $P")
	write(t, filepath.Join(dir, "sub", "a.conf"), "P = 4222")
	m, err := ParseFile(filepath.Join(dir, "main.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if v := get(t, m, "port"); v.Int != 4222 || v.VarPos.File != filepath.Join(dir, "sub", "a.conf") {
		t.Errorf("port = %d defined at %s", v.Int, v.VarPos)
	}

	big := filepath.Join(dir, "big.conf")
	write(t, big, "a: 1\n"+strings.Repeat("#", maxFileBytes))
	write(t, filepath.Join(dir, "inc-big.conf"), "include big.conf")
	_, err = ParseFile(filepath.Join(dir, "inc-big.conf"))
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrLimit) || e.Pos.Line != 1 {
		t.Errorf("including a file over the limit: %v", err)
	}
	if _, err := ParseFile(big); !errors.Is(err, ErrLimit) {
		t.Errorf("parsing a file over the limit: %v", err)
	}
}
