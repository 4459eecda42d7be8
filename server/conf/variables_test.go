package conf

import (
	"errors"
	"testing"
)

// TestVariables checks where $NAME finds its value: the nearest earlier definition in the
// current or an enclosing block, else the (injected) environment, typed as a bare word.
func TestVariables(t *testing.T) {
	env := map[string]string{"PORT": "4222", "SIZE": "8MB", "FLAG": "yes", "TEXT": "two words",
		"LOOP": "$LOOP", "SHADOWED": "from env", "PAD": " 7 ", "HASH": "$2a$1"}
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"top-level definition", "P = 4222\nport: $P", "P int 4222 (used as variable)\nport int 4222 from $P\n"},
		{"definition with any separator", "A: x\nB y\na: $A\nb: $B",
			"A string \"x\" (used as variable)\nB string \"y\" (used as variable)\na string \"x\" from $A\nb string \"y\" from $B\n"},
		{"enclosing block", "V = 1\na { b { c: $V } }",
			"V int 1 (used as variable)\na map (1)\n  b map (1)\n    c int 1 from $V\n"},
		{"nearest block wins", "V = outer\na { V = inner\n  b: $V }\nc: $V",
			"V string \"outer\" (used as variable)\na map (2)\n  V string \"inner\" (used as variable)\n  b string \"inner\" from $V\nc string \"outer\" from $V\n"},
		{"inner definitions are not seen outside", "a { V = inner }\nV = outer\nb: $V",
			"a map (1)\n  V string \"inner\"\nV string \"outer\" (used as variable)\nb string \"outer\" from $V\n"},
		{"maps inside arrays see enclosing blocks", "PASS = s3cret\nusers: [ {user: a, password: $PASS} ]",
			"PASS string \"s3cret\" (used as variable)\nusers array (1)\n  [0] map (2)\n    user string \"a\"\n    password string \"s3cret\" from $PASS\n"},
		{"array elements", "A = 1\nl: [$A, 2, $A]",
			"A int 1 (used as variable)\nl array (3)\n  [0] int 1 from $A\n  [1] int 2\n  [2] int 1 from $A\n"},
		{"the latest earlier definition", "V = 1\na: $V\nV = 2\nb: $V",
			"a int 1 from $V\nV int 2 (used as variable)\nb int 2 from $V\n"},
		{"variable to variable", "A = 1\nB = $A\nc: $B",
			"A int 1 (used as variable)\nB int 1 from $A (used as variable)\nc int 1 from $B\n"},
		{"map variable is shared, not expanded again", "TLS = { cert: c.pem }\ntls: $TLS",
			"TLS map (1) (used as variable)\n  cert string \"c.pem\"\ntls map (1) from $TLS\n"},
		{"variable keeps its size raw text", "S = 10m\nd: $S", "S int 10000000 raw \"10m\" (used as variable)\nd int 10000000 raw \"10m\" from $S\n"},
		{"a definition before its own block closes", "a { V = 1, b { c: $V } }",
			"a map (2)\n  V int 1 (used as variable)\n  b map (1)\n    c int 1 from $V\n"},
		{"a key is not defined while its value is parsed", "SHADOWED { x: $SHADOWED }",
			"SHADOWED map (1)\n  x string \"from env\" from $SHADOWED (environment)\n"},
		{"environment integer", "port: $PORT", "port int 4222 from $PORT (environment)\n"},
		{"environment size", "max: $SIZE", "max int 8388608 raw \"8MB\" from $SIZE (environment)\n"},
		{"environment boolean", "debug: $FLAG", "debug bool true raw \"yes\" from $FLAG (environment)\n"},
		{"environment text with blanks", "name: $TEXT", "name string \"two words\" from $TEXT (environment)\n"},
		{"environment text is not expanded again", "x: $LOOP", "x string \"$LOOP\" from $LOOP (environment)\n"},
		{"environment number with blanks around", "x: $PAD", "x int 7 raw \" 7 \" from $PAD (environment)\n"},
		{"environment bcrypt-looking text", "x: $HASH", "x string \"$2a$1\" from $HASH (environment)\n"},
		{"a config definition shadows the environment", "PORT = 1\nport: $PORT", "PORT int 1 (used as variable)\nport int 1 from $PORT\n"},
		{"quoted dollars are text", "A = 1\na: \"$A\"\nb: '$A'", "A int 1\na string \"$A\"\nb string \"$A\"\n"},
		{"bcrypt is not a variable", "2a = x\np: $2a$11$abc", "2a string \"x\"\np string \"$2a$11$abc\"\n"},
		{"a used definition replaced keeps its mark", "V = 1\na: $V\nV = 2", "a int 1 from $V\nV int 2 (used as variable)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &world{env: env}
			m, err := w.parser().Parse("t.conf", []byte(tc.src))
			if err != nil {
				t.Fatalf("parse %q: %v", tc.src, err)
			}
			if got := shape(m); got != tc.want {
				t.Errorf("parse %q:\n got:\n%s\nwant:\n%s", tc.src, got, tc.want)
			}
		})
	}
}

// TestVariablePositions checks that a referenced value sits where it is used and
// remembers where it was defined.
func TestVariablePositions(t *testing.T) {
	w := &world{env: map[string]string{"E": "5"}}
	m, err := w.parser().Parse("t.conf", []byte("V = 1\nx {\n  y: $V\n  z: $E\n}"))
	if err != nil {
		t.Fatal(err)
	}
	y := get(t, m, "x", "y")
	if y.Pos.String() != "t.conf:3:6" || y.VarPos.String() != "t.conf:1:5" || y.Path != "x.y" || y.Var != "V" {
		t.Errorf("y at %s from %s path %s var %s", y.Pos, y.VarPos, y.Path, y.Var)
	}
	z := get(t, m, "x", "z")
	if z.Pos.String() != "t.conf:4:6" || z.VarPos != (Pos{}) || z.Var != "E" {
		t.Errorf("z at %s from %v var %s", z.Pos, z.VarPos, z.Var)
	}
}

// TestUndefinedVariable checks the error names the variable and the position of its use,
// and that a definition later in the file does not count.
func TestUndefinedVariable(t *testing.T) {
	e := parseErr(t, &world{env: map[string]string{"OTHER": "1"}}, "a {\n  b: 1\n}\nc: [1,\n  $LATER]\nLATER = 2")
	if e.Pos.String() != "t.conf:5:3" || e.Key != "c[1]" || !errors.Is(e, ErrUndefined) {
		t.Errorf("got %v (class %v)", e, e.Err)
	}
}

// TestDefaultLookupIsTheEnvironment checks that the zero Parser falls back to the
// process environment.
func TestDefaultLookupIsTheEnvironment(t *testing.T) {
	t.Setenv("PETREL_CONF_TEST_PORT", "4333")
	m, err := Parse("t.conf", []byte("port: $PETREL_CONF_TEST_PORT"))
	if err != nil {
		t.Fatal(err)
	}
	if v := get(t, m, "port"); v.Kind != KindInt || v.Int != 4333 {
		t.Errorf("port = %v", v)
	}
}
