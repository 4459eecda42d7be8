package conf

import (
	"strings"
	"testing"
)

// TestSyntax parses one example of each syntax element and compares what it means
// (Dump without positions; positions have their own tests).
func TestSyntax(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want string
	}{
		{"separators equals colon and blank", "a = 1\nb: 2\nc 3\nd=4\ne:5\nf\t6",
			"a int 1\nb int 2\nc int 3\nd int 4\ne int 5\nf int 6\n"},
		{"values end at semicolon and comma", "a: 1; b: 2, c: 3;;\n,d: 4",
			"a int 1\nb int 2\nc int 3\nd int 4\n"},
		{"hash and slash comments", "# top\na: 1 # after\n  // slashes\nb: 2 // after\n#last",
			"a int 1\nb int 2\n"},
		{"comment markers inside words are text", "url: nats://h:4222 # real comment\npass: a#b//c",
			"url string \"nats://h:4222\"\npass string \"a#b//c\"\n"},
		{"comment markers inside quotes are text", `a: "x # y // z"`, "a string \"x # y // z\"\n"},
		{"map with blank before brace", "a { b: 1 }", "a map (1)\n  b int 1\n"},
		{"map with no blank before brace", "a{b:1}", "a map (1)\n  b int 1\n"},
		{"map with equals and colon", "a = { b: 1 }\nc: {d = 2}", "a map (1)\n  b int 1\nc map (1)\n  d int 2\n"},
		{"map entries on lines and with separators", "a {\n  b: 1\n  c: 2; d: 3, e: 4\n}",
			"a map (4)\n  b int 1\n  c int 2\n  d int 3\n  e int 4\n"},
		{"empty map", "a {}", "a map (0)\n"},
		{"nested maps", "a { b { c { d: deep } } }",
			"a map (1)\n  b map (1)\n    c map (1)\n      d string \"deep\"\n"},
		{"array with commas", "a: [1, 2, 3]", "a array (3)\n  [0] int 1\n  [1] int 2\n  [2] int 3\n"},
		{"array with newlines and a trailing comma", "a: [\n  x\n  y,\n  z,\n]",
			"a array (3)\n  [0] string \"x\"\n  [1] string \"y\"\n  [2] string \"z\"\n"},
		{"array without separator", "a [x, y]", "a array (2)\n  [0] string \"x\"\n  [1] string \"y\"\n"},
		{"empty array", "a: []", "a array (0)\n"},
		{"array of mixed kinds", `a: [1, "two", 3.5, true, {k: v}, [x]]`,
			"a array (6)\n  [0] int 1\n  [1] string \"two\"\n  [2] float 3.5\n  [3] bool true\n" +
				"  [4] map (1)\n    k string \"v\"\n  [5] array (1)\n    [0] string \"x\"\n"},
		{"array of maps inline", "users: [ {user: a, password: b}, {user: c, password: d} ]",
			"users array (2)\n  [0] map (2)\n    user string \"a\"\n    password string \"b\"\n" +
				"  [1] map (2)\n    user string \"c\"\n    password string \"d\"\n"},
		{"array of maps on lines", "users = [\n  {user: a}\n  {\n    user: b\n  }\n]",
			"users array (2)\n  [0] map (1)\n    user string \"a\"\n  [1] map (1)\n    user string \"b\"\n"},
		{"array with comments", "a: [ # c\n  1 // c\n  # c\n  2\n]", "a array (2)\n  [0] int 1\n  [1] int 2\n"},
		{"top-level braces", "{\n  a: 1\n  b { c: 2 }\n}\n# done\n", "a int 1\nb map (1)\n  c int 2\n"},
		{"top-level braces on one line", "{a:1, b:2}", "a int 1\nb int 2\n"},
		{"empty file", "", ""},
		{"only comments and blanks", "\n# x\n\n  // y\n", ""},
		{"byte order mark", "\xEF\xBB\xBFa: 1", "a int 1\n"},
		{"windows line ends", "a: 1\r\nb: x\r\n", "a int 1\nb string \"x\"\n"},
		{"bare strings", "a: hello\nb: /var/lib/nats\nc: 127.0.0.1:4222\nd: ::1\ne: foo.*.>",
			"a string \"hello\"\nb string \"/var/lib/nats\"\nc string \"127.0.0.1:4222\"\nd string \"::1\"\ne string \"foo.*.>\"\n"},
		{"double-quoted escapes", `a: "t\tn\nr\rq\"b\\u\u00e9"`, "a string \"t\\tn\\nr\\rq\\\"b\\\\u\u00e9\"\n"},
		{"double-quoted surrogate pair", `a: "\ud83d\ude00"`, "a string \"\U0001F600\"\n"},
		{"double-quoted keeps blanks and dollars", `a: "  two words $NOTVAR "`, "a string \"  two words $NOTVAR \"\n"},
		{"single-quoted is raw", `a: 'C:\path\n "q" $X'`, "a string \"C:\\\\path\\\\n \\\"q\\\" $X\"\n"},
		{"empty strings", `a: ""` + "\n" + `b: ''`, "a string \"\"\nb string \"\"\n"},
		{"block string", "pem: (\n-----BEGIN-----\n  abc\n-----END-----\n)\nnext: 1",
			"pem string \"-----BEGIN-----\\n  abc\\n-----END-----\"\nnext int 1\n"},
		{"block string with text on the paren line", "a = (first\nsecond\n  )  \nb: 2",
			"a string \"first\\nsecond\"\nb int 2\n"},
		{"block string keeps inner parens and blank lines", "a (\nf(x)\n\n )x\n)",
			"a string \"f(x)\\n\\n )x\"\n"},
		{"empty block string", "a: (\n)", "a string \"\"\n"},
		{"block string with crlf drops only the last line break", "a: (\r\nx\r\ny\r\n)\r\n", "a string \"x\\r\\ny\"\n"},
		{"quoted keys", `"a b": 1` + "\n'c=d': 2\n\"e\\tf\" = 3",
			"\"a b\" int 1\n\"c=d\" int 2\n\"e\\tf\" int 3\n"},
		{"bare key characters", "$SYS: 1\nfoo.*: 2\na-b_c.d: 3\n4222: 4\nfoo.>: 5",
			"$SYS int 1\nfoo.* int 2\na-b_c.d int 3\n4222 int 4\nfoo.> int 5\n"},
		{"keys keep their case", "Port: 1\nport: 2", "Port int 1\nport int 2\n"},
		{"integers", "a: 0\nb: 42\nc: -7\nd: +3\ne: 007\nf: 9223372036854775807\ng: -9223372036854775808",
			"a int 0\nb int 42\nc int -7\nd int 3 raw \"+3\"\ne int 7 raw \"007\"\nf int 9223372036854775807\ng int -9223372036854775808\n"},
		{"floats", "a: 1.5\nb: -0.25\nc: 1e3\nd: 2.5E-3\ne: 1.0",
			"a float 1.5\nb float -0.25\nc float 1000 raw \"1e3\"\nd float 0.0025 raw \"2.5E-3\"\ne float 1 raw \"1.0\"\n"},
		{"number-like words are strings", "a: 1.2.3\nb: 1h30m\nc: 10.5MB\nd: 1.\ne: .5\nf: 0x10\ng: 1_000\nh: 5x\ni: -",
			"a string \"1.2.3\"\nb string \"1h30m\"\nc string \"10.5MB\"\nd string \"1.\"\ne string \".5\"\n" +
				"f string \"0x10\"\ng string \"1_000\"\nh string \"5x\"\ni string \"-\"\n"},
		{"sizes", "a: 8MB\nb: 10G\nc: 1k\nd: 512KiB\ne: -1kb",
			"a int 8388608 raw \"8MB\"\nb int 10000000000 raw \"10G\"\nc int 1000 raw \"1k\"\nd int 524288 raw \"512KiB\"\ne int -1024 raw \"-1kb\"\n"},
		{"booleans", "a: true\nb: FALSE\nc: Yes\nd: no\ne: on\nf: OFF\ng: enabled\nh: \"true\"",
			"a bool true\nb bool false raw \"FALSE\"\nc bool true raw \"Yes\"\nd bool false raw \"no\"\n" +
				"e bool true raw \"on\"\nf bool false raw \"OFF\"\ng string \"enabled\"\nh string \"true\"\n"},
		{"durations stay strings", "a: \"2m\"\nb: 1h\nc: 500ms\nd: 1h30m",
			"a string \"2m\"\nb string \"1h\"\nc string \"500ms\"\nd string \"1h30m\"\n"},
		{"bcrypt hashes are text", "a: $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG\nb: $2b$10$x\nc: $2y$10$y",
			"a string \"$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG\"\nb string \"$2b$10$x\"\nc string \"$2y$10$y\"\n"},
		{"dollar inside a word is text", "a: pa$$word", "a string \"pa$$word\"\n"},
		{"include with a separator is a key", "include: 5\n'include' x", "include string \"x\"\n"},
		{"duplicate key: later wins and moves", "a: 1\nb: 2\na: 3", "b int 2\na int 3\n"},
		{"duplicate map is replaced, not merged", "a { x: 1 }\na { y: 2 }", "a map (1)\n  y int 2\n"},
		{"value then comment then close", "a { b: 1 # c\n}", "a map (1)\n  b int 1\n"},
		{"closing brace right after a bare value", "a {b: c}\nd [e]", "a map (1)\n  b string \"c\"\nd array (1)\n  [0] string \"e\"\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := shape(parseText(t, tc.src))
			if got != tc.want {
				t.Errorf("parse %q:\n got:\n%s\nwant:\n%s", tc.src, got, tc.want)
			}
		})
	}
}

// TestPositions checks that keys and values carry the line and column they start at,
// counting characters, through nesting, arrays and both kinds of strings.
func TestPositions(t *testing.T) {
	src := "port: 4222\n" +
		"authorization {\n" +
		"  users = [\n" +
		"    {user: \"é\", password: x}\n" +
		"  ]\n" +
		"}\n" +
		"\tpem (\n" +
		"a\n" +
		")\n"
	m := parseText(t, src)
	users := get(t, m, "authorization", "users")
	tests := []struct {
		what string
		got  Pos
		want string
	}{
		{"port value", get(t, m, "port").Pos, "t.conf:1:7"},
		{"port key", m.Entries()[0].KeyPos, "t.conf:1:1"},
		{"authorization map", get(t, m, "authorization").Pos, "t.conf:2:15"},
		{"users array", users.Pos, "t.conf:3:11"},
		{"users key", get(t, m, "authorization").Map.Entries()[0].KeyPos, "t.conf:3:3"},
		{"first user map", users.Array[0].Pos, "t.conf:4:5"},
		{"user value", users.Array[0].Map.entries[0].Value.Pos, "t.conf:4:12"},
		{"password after a two-byte character", users.Array[0].Map.entries[1].Value.Pos, "t.conf:4:27"},
		{"block string after a tab", get(t, m, "pem").Pos, "t.conf:7:6"},
		{"top-level map", m.Pos(), "t.conf:1:1"},
	}
	for _, tc := range tests {
		if tc.got.String() != tc.want {
			t.Errorf("%s: at %s, want %s", tc.what, tc.got, tc.want)
		}
	}
	if got, want := users.Array[0].Map.entries[1].Value.Path, "authorization.users[0].password"; got != want {
		t.Errorf("path %q, want %q", got, want)
	}
}

// TestMapLookup checks exact and case-insensitive lookup and that Entries and Keys keep
// file order and hand out copies.
func TestMapLookup(t *testing.T) {
	m := parseText(t, "Max_Payload: 1\nport: 2\nPORT: 3\nzeta: 4\nalpha: 5")
	if _, ok := m.Get("max_payload"); ok {
		t.Error("Get matched a key of a different case")
	}
	if v, ok := m.GetFold("MAX_PAYLOAD"); !ok || v.Int != 1 {
		t.Errorf("GetFold(MAX_PAYLOAD) = %v, %v", v, ok)
	}
	if v, ok := m.GetFold("port"); !ok || v.Int != 3 {
		t.Errorf("GetFold(port) should find the last matching key (3), got %v", v)
	}
	if v, ok := m.Get("port"); !ok || v.Int != 2 {
		t.Errorf("Get(port) = %v", v)
	}
	if _, ok := m.GetFold("missing"); ok {
		t.Error("GetFold found a missing key")
	}
	if got, want := strings.Join(m.Keys(), ","), "Max_Payload,port,PORT,zeta,alpha"; got != want {
		t.Errorf("Keys = %s, want %s", got, want)
	}
	entries := m.Entries()
	entries[0].Key = "changed"
	if m.Keys()[0] != "Max_Payload" || m.Len() != 5 {
		t.Error("changing the slice Entries returned changed the map")
	}
}

// TestDuplicateIndex checks the Map invariant (index matches the live entries) after
// replacements of the first, middle and last keys, with and without compaction.
func TestDuplicateIndex(t *testing.T) {
	cases := []struct {
		src  string
		keys string
		vals map[string]int64
	}{
		{"a: 1\nb: 2\nc: 3\na: 4\nc: 5\nb: 6\nb: 7", "a,c,b", map[string]int64{"a": 4, "b": 7, "c": 5}},
		{"a: 1\nb: 2\nc: 3\nd: 4\nb: 5", "a,c,d,b", map[string]int64{"a": 1, "b": 5, "c": 3, "d": 4}},
		{strings.Repeat("x: 1\ny: 2\n", 50) + "z: 3\nx: 4", "y,z,x", map[string]int64{"x": 4, "y": 2, "z": 3}},
	}
	for _, tc := range cases {
		m := parseText(t, tc.src)
		if got := strings.Join(m.Keys(), ","); got != tc.keys || m.Len() != len(tc.vals) {
			t.Errorf("Keys = %s (Len %d), want %s", got, m.Len(), tc.keys)
		}
		live := 0
		for i, e := range m.entries {
			if e.Value == nil {
				continue
			}
			live++
			if m.index[e.Key] != i {
				t.Errorf("index[%s] = %d, want %d", e.Key, m.index[e.Key], i)
			}
		}
		if len(m.index) != live || live+m.dead != len(m.entries) {
			t.Errorf("index has %d keys, %d live entries, %d dead of %d", len(m.index), live, m.dead, len(m.entries))
		}
		if m.dead > len(m.entries)/2 {
			t.Errorf("%d dead of %d entries: compaction did not run", m.dead, len(m.entries))
		}
		for key, want := range tc.vals {
			if v, _ := m.Get(key); v.Int != want {
				t.Errorf("%s = %d, want %d", key, v.Int, want)
			}
		}
		if v, _ := m.GetFold(strings.ToUpper(tc.keys[len(tc.keys)-1:])); v == nil {
			t.Errorf("GetFold found no live entry")
		}
	}
}
