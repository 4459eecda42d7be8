package conf

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors checks that each kind of malformed input fails with the right class
// and the file, line and column of the culprit (the opening of what is unterminated).
func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1)
	cases := []struct {
		name  string
		src   string
		class error
		want  string
	}{
		{"unterminated double-quoted string", "a: 1\nb: \"abc\nc: 2", ErrSyntax,
			`t.conf:2:4: b: unterminated string: no closing " on its line`},
		{"unterminated double-quoted string at the end", `a: "abc`, ErrSyntax,
			`t.conf:1:4: a: unterminated string: no closing " on its line`},
		{"unterminated single-quoted string", "x {\n  a: 'abc\n}", ErrSyntax,
			`t.conf:2:6: x.a: unterminated string: no closing ' on its line`},
		{"unterminated quoted key", "\"abc: 1", ErrSyntax,
			`t.conf:1:1: unterminated string: no closing " on its line`},
		{"unterminated block string", "a: 1\npem: (\nabc\n  ) x\n", ErrSyntax,
			`t.conf:2:6: pem: unterminated block string: the closing ')' must stand alone on a later line`},
		{"block string closed on its own line only", "a: (abc)", ErrSyntax,
			`t.conf:1:4: a: unterminated block string: the closing ')' must stand alone on a later line`},
		{"unterminated map", "a: 1\nb {\n  c: 2\n", ErrSyntax,
			`t.conf:2:3: b: unterminated map: no '}' closes the '{' opened here`},
		{"unterminated nested map", "a {\n  b {\n    c: 1\n  }\n", ErrSyntax,
			`t.conf:1:3: a: unterminated map: no '}' closes the '{' opened here`},
		{"unterminated top-level braces", "{\n  a: 1\n", ErrSyntax,
			`t.conf:1:1: unterminated map: no '}' closes the '{' opened here`},
		{"unterminated array", "a: [1,\n2\n", ErrSyntax,
			`t.conf:1:4: a: unterminated array: no ']' closes the '[' opened here`},
		{"stray closing brace", "a: 1\n}\n", ErrSyntax, `t.conf:2:1: unexpected '}': no map is open`},
		{"stray closing bracket", "a { b: 1 ]", ErrSyntax, `t.conf:1:10: a: unexpected ']': no array is open`},
		{"brace closing an array", "a: [1, 2}", ErrSyntax, `t.conf:1:9: a: unexpected '}' inside an array`},
		{"content after top-level braces", "{ a: 1 }\nb: 2", ErrSyntax,
			`t.conf:2:1: unexpected "b:" after the '}' that closes the file's top-level '{'`},
		{"unknown escape", `a: "x\qy"`, ErrSyntax, `t.conf:1:6: a: unknown escape \q (known: \t \n \r \" \\ \uXXXX)`},
		{"short unicode escape", `a: "\u12"`, ErrSyntax, `t.conf:1:5: a: \u must be followed by four hex digits`},
		{"lone surrogate", `a: "\ud83dx"`, ErrSyntax, `t.conf:1:5: a: \uD83D is half of a surrogate pair without its other half`},
		{"integer out of range", "a: 9223372036854775808", ErrSyntax, `t.conf:1:4: a: integer 9223372036854775808 is out of range`},
		{"size out of range", "x { y: [8EB] }", ErrSyntax, `t.conf:1:9: x.y[0]: size 8EB is out of range`},
		{"float out of range", "a: 1e999", ErrSyntax, `t.conf:1:4: a: number 1e999 is out of range`},
		{"missing value at end of line", "a:\nb: 1", ErrSyntax, `t.conf:1:3: a: missing value`},
		{"missing value before a comment", "a = # nothing", ErrSyntax, `t.conf:1:5: a: missing value`},
		{"missing value at end of file", "a", ErrSyntax, `t.conf:1:2: a: missing value`},
		{"unquoted value with a blank", "name: my server", ErrSyntax,
			`t.conf:1:10: name: unexpected "server" after the value (a value ends at a newline, ',' or ';'; quote text that has blanks)`},
		{"text after a quoted value", `a: "x" y`, ErrSyntax,
			`t.conf:1:8: a: unexpected "y" after the value (a value ends at a newline, ',' or ';'; quote text that has blanks)`},
		{"text after an array element", "a: [1 2]", ErrSyntax,
			`t.conf:1:7: a[0]: unexpected "2]" after the value (a value ends at a newline, ',' or ';'; quote text that has blanks)`},
		{"column counts characters", `a: "日本" b`, ErrSyntax,
			`t.conf:1:9: a: unexpected "b" after the value (a value ends at a newline, ',' or ';'; quote text that has blanks)`},
		{"dollar without a name", "a: $", ErrSyntax, `t.conf:1:4: a: '$' must be followed by a variable name`},
		{"undefined variable", "a: 1\nb {\n  c: $NOPE\n}", ErrUndefined,
			`t.conf:3:6: b.c: undefined variable $NOPE: no enclosing block defines NOPE and the environment has no NOPE`},
		{"empty key", `"": 1`, ErrSyntax, `t.conf:1:1: empty key`},
		{"key starting with equals", "= 1", ErrSyntax, `t.conf:1:1: expected a key, found '='`},
		{"key starting with a bracket", "a {\n [x]\n}", ErrSyntax, `t.conf:2:2: a: expected a key, found '['`},
		{"control character in a word", "a: b\x01c", ErrSyntax, `t.conf:1:5: a: control character '\x01' is not allowed here`},
		{"control character in a key", "a\x00: 1", ErrSyntax, `t.conf:1:2: control character '\x00' is not allowed here`},
		{"nesting too deep", "a: " + deep, ErrLimit,
			"t.conf:1:104: a" + strings.Repeat("[0]", maxDepth) + ": maps and arrays nest deeper than 100 levels"},
		{"include without a name", "include\n", ErrSyntax, `t.conf:1:1: include: include needs a file name`},
		{"include of a map", "include {a: 1}", ErrSyntax, `t.conf:1:9: include: include needs a file name, found '{'`},
		{"include with trailing text", "include a.conf b", ErrSyntax,
			`t.conf:1:16: include: unexpected "b" after the value (a value ends at a newline, ',' or ';'; quote text that has blanks)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := parseErr(t, nil, tc.src)
			if got := e.Error(); got != tc.want {
				t.Errorf("parse %q:\n got: %s\nwant: %s", tc.src, got, tc.want)
			}
			if !errors.Is(e, tc.class) {
				t.Errorf("parse %q: error %v is not %v", tc.src, e, tc.class)
			}
		})
	}
}

// TestParseFileMissing checks that failing to read the named file is a wrapped error
// that still classifies.
func TestParseFileMissing(t *testing.T) {
	w := &world{}
	_, err := w.parser().ParseFile("nope.conf")
	if err == nil || !strings.Contains(err.Error(), "nope.conf") {
		t.Fatalf("ParseFile(nope.conf) = %v, want an error naming the file", err)
	}
	var e *Error
	if errors.As(err, &e) {
		t.Errorf("a file that cannot be read has no position, got %v", e)
	}
}

// TestErrorFormat checks Error's rendering with and without a key and a file name.
func TestErrorFormat(t *testing.T) {
	cases := []struct {
		err  *Error
		want string
	}{
		{&Error{Pos: Pos{"a.conf", 12, 3}, Key: "max_payload", Msg: `expected a size, got "lots"`},
			`a.conf:12:3: max_payload: expected a size, got "lots"`},
		{&Error{Pos: Pos{"a.conf", 1, 1}, Msg: "oops"}, "a.conf:1:1: oops"},
		{&Error{Pos: Pos{"", 2, 5}, Key: "k", Msg: "oops"}, "2:5: k: oops"},
	}
	for _, tc := range cases {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
