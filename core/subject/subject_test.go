package subject

import (
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestValid(t *testing.T) {
	cases := []struct {
		s        string
		pub, sub bool
	}{
		{"foo", true, true},
		{"foo.bar.baz", true, true},
		{"", false, false},
		{".foo", false, false},
		{"foo.", false, false},
		{"foo..bar", false, false},
		{"foo bar", false, false},
		{"foo\tbar", false, false},
		{"*", false, true},
		{">", false, true},
		{"foo.*.bar", false, true},
		{"foo.>", false, true},
		{"foo.>.bar", false, false},
		{"foo*.bar", true, true},
		{"foo.b>", true, true},
		{"$JS.API.INFO", true, true},
		{"_INBOX.abc.*", false, true},
	}
	for _, c := range cases {
		if got := ValidPublish(c.s); got != c.pub {
			t.Errorf("ValidPublish(%q) = %v, want %v", c.s, got, c.pub)
		}
		if got := ValidSubscribe(c.s); got != c.sub {
			t.Errorf("ValidSubscribe(%q) = %v, want %v", c.s, got, c.sub)
		}
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		subject, pattern string
		want             bool
	}{
		{"foo", "foo", true},
		{"foo", "bar", false},
		{"foo.bar", "foo.*", true},
		{"foo.bar.baz", "foo.*", false},
		{"foo.bar.baz", "foo.>", true},
		{"foo", "foo.>", false},
		{"foo", ">", true},
		{"foo.bar", "*.*", true},
		{"foo.bar", "*", false},
		{"foo.bar", "*.bar", true},
		{"foo.bar", "foo.bar.baz", false},
		{"foo.bar.baz", "foo.bar", false},
		{"foo*.bar", "foo*.bar", true},
	}
	for _, c := range cases {
		if got := Match(c.subject, c.pattern); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.subject, c.pattern, got, c.want)
		}
	}
}

// tokenGen draws subjects over a tiny alphabet so that matches are frequent.
func tokenGen(wild bool) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		n := rapid.IntRange(1, 4).Draw(t, "n")
		toks := make([]string, n)
		for i := range toks {
			choices := []string{"a", "b", "c"}
			if wild {
				choices = append(choices, "*")
				if i == n-1 {
					choices = append(choices, ">")
				}
			}
			toks[i] = rapid.SampledFrom(choices).Draw(t, "tok")
		}
		return strings.Join(toks, ".")
	})
}

// literals enumerates every literal subject of up to 5 tokens over the test alphabet.
func literals() []string {
	out := []string{}
	var rec func(prefix string, depth int)
	rec = func(prefix string, depth int) {
		for _, tok := range []string{"a", "b", "c"} {
			s := tok
			if prefix != "" {
				s = prefix + "." + tok
			}
			out = append(out, s)
			if depth < 5 {
				rec(s, depth+1)
			}
		}
	}
	rec("", 1)
	return out
}

// TestSubsetAndIntersectByEnumeration checks SubsetOf and Intersects against their
// definitions over every literal subject of the alphabet.
func TestSubsetAndIntersectByEnumeration(t *testing.T) {
	all := literals()
	rapid.Check(t, func(t *rapid.T) {
		a := tokenGen(true).Draw(t, "a")
		b := tokenGen(true).Draw(t, "b")
		subset, meet := true, false
		for _, s := range all {
			ma, mb := Match(s, a), Match(s, b)
			if ma && !mb {
				subset = false
			}
			if ma && mb {
				meet = true
			}
		}
		if got := SubsetOf(a, b); got != subset {
			t.Fatalf("SubsetOf(%q, %q) = %v, enumeration says %v", a, b, got, subset)
		}
		if got := Intersects(a, b); got != meet {
			t.Fatalf("Intersects(%q, %q) = %v, enumeration says %v", a, b, got, meet)
		}
	})
}
