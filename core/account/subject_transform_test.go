package account

import "testing"

func TestSubjectTransform(t *testing.T) {
	cases := []struct{ name, from, to, subj, want string }{
		{"empty sides are identity", "", "", "a.b", "a.b"},
		{"empty destination keeps a match", "a.*", "", "a.b", "a.b"},
		{"wildcards move", "a.*.>", "x.$1.>", "a.b.c.d", "x.b.c.d"},
		{"no match", "a.*", "x.$1", "b.c", ""},
		{"a $ token that is not a reference is a literal (nats-server)", "JS.A.API.>", "$JS.API.>", "JS.A.API.INFO", "$JS.API.INFO"},
	}
	for _, c := range cases {
		tr, err := NewSubjectTransform(c.from, c.to)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, ok := tr.Map(c.subj)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("%s: Map(%q) = %q, %v; want %q", c.name, c.subj, got, ok, c.want)
		}
	}
	if _, err := NewSubjectTransform("a.*", "x.$2"); err == nil {
		t.Error("a capture the source lacks was accepted")
	}
}
