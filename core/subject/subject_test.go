package subject_test

import (
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/subject/subjecttest"
	"pgregory.net/rapid"
)

func TestValid(t *testing.T) {
	long := strings.Repeat("a", subject.MaxBytes)
	cases := []struct {
		name           string
		s              string
		pub, sub, rout bool
	}{
		{"one token", "foo", true, true, true},
		{"three tokens", "foo.bar.baz", true, true, true},
		{"empty", "", false, false, false},
		{"leading dot", ".foo", false, false, false},
		{"trailing dot", "foo.", false, false, false},
		{"empty token", "foo..bar", false, false, false},
		{"space", "foo bar", false, false, false},
		{"tab", "foo\tbar", false, false, false},
		{"CR, refused unlike nats-server", "foo\rbar", false, false, false},
		{"LF", "foo\nbar", false, false, false},
		{"form feed, accepted as nats-server does", "foo\fbar", true, true, true},
		{"vertical tab", "a\vb", true, true, true},
		{"SOH", "a\x01b", true, true, true},
		{"NUL", "a\x00b", true, true, true},
		{"DEL", "a\x7fb", true, true, true},
		{"not UTF-8", "a\xffb", true, true, true},
		{"UTF-8", "caf\u00e9", true, true, true},
		{"star", "*", false, true, true},
		{"full wildcard", ">", false, true, true},
		{"star inside", "foo.*.bar", false, true, true},
		{"trailing full wildcard", "foo.>", false, true, true},
		{"full wildcard not last", "foo.>.bar", false, false, true},
		{"wildcard characters inside tokens", "foo*.b>", true, true, true},
		{"system subject", "$JS.API.INFO", true, true, true},
		{"inbox wildcard", "_INBOX.abc.*", false, true, true},
		{"longest", long, true, true, true},
		{"one byte too long", long + "a", false, false, false},
		{"70,000 bytes", strings.Repeat("a.", 35000)[:69999], false, false, false},
	}
	for _, c := range cases {
		if got := subject.ValidPublish(c.s); got != c.pub {
			t.Errorf("%s: ValidPublish = %v, want %v", c.name, got, c.pub)
		}
		if got := subject.ValidSubscribe(c.s); got != c.sub {
			t.Errorf("%s: ValidSubscribe = %v, want %v", c.name, got, c.sub)
		}
		if got := subject.Routable(c.s); got != c.rout {
			t.Errorf("%s: Routable = %v, want %v", c.name, got, c.rout)
		}
	}
}

func TestValidQueue(t *testing.T) {
	cases := []struct {
		name string
		q    string
		want bool
	}{
		{"plain", "workers", true},
		{"dots and wildcards are plain bytes", "q.*.>", true},
		{"empty tokens too", ".q..x", true},
		{"control byte", "q\x01", true},
		{"form feed", "q\f", true},
		{"empty", "", false},
		{"space", "q w", false},
		{"tab", "q\tw", false},
		{"CR", "q\r", false},
		{"too long", strings.Repeat("q", subject.MaxBytes+1), false},
	}
	for _, c := range cases {
		if got := subject.ValidQueue(c.q); got != c.want {
			t.Errorf("%s: ValidQueue(%q) = %v, want %v", c.name, c.q, got, c.want)
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
		// A routable subject's wildcards are text: "a.*" is reached by "a.*", not by "a.b".
		{"a.*", "a.*", true},
		{"a.*", "a.>", true},
		{"a.*", "a.b", false},
		{"a.>", "a.*", true},
		{"*", "foo", false},
	}
	for _, c := range cases {
		if got := subject.Match(c.subject, c.pattern); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.subject, c.pattern, got, c.want)
		}
	}
}

// TestMatchAgreesWithOracle: the token walk agrees with the regular-expression oracle on
// routable subjects (so wildcard characters in the subject are covered) and valid patterns.
func TestMatchAgreesWithOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := subjecttest.Routable().Draw(t, "subject")
		p := subjecttest.Pattern().Draw(t, "pattern")
		if got, want := subject.Match(s, p), subjecttest.Oracle(s, p); got != want {
			t.Fatalf("Match(%q, %q) = %v, oracle %v", s, p, got, want)
		}
	})
}

// literals enumerates every literal subject of up to 5 tokens over a small alphabet.
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

// abcPattern draws patterns over the enumerated alphabet.
func abcPattern() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		n := rapid.IntRange(1, 4).Draw(t, "n")
		toks := make([]string, n)
		for i := range toks {
			choices := []string{"a", "b", "c", "*"}
			if i == n-1 {
				choices = append(choices, ">")
			}
			toks[i] = rapid.SampledFrom(choices).Draw(t, "tok")
		}
		return strings.Join(toks, ".")
	})
}

// TestSubsetAndIntersectByEnumeration checks SubsetOf and Intersects against their
// definitions over every literal subject of the alphabet.
func TestSubsetAndIntersectByEnumeration(t *testing.T) {
	all := literals()
	rapid.Check(t, func(t *rapid.T) {
		a := abcPattern().Draw(t, "a")
		b := abcPattern().Draw(t, "b")
		subset, meet := true, false
		for _, s := range all {
			ma, mb := subjecttest.Oracle(s, a), subjecttest.Oracle(s, b)
			if ma && !mb {
				subset = false
			}
			if ma && mb {
				meet = true
			}
		}
		if got := subject.SubsetOf(a, b); got != subset {
			t.Fatalf("SubsetOf(%q, %q) = %v, enumeration says %v", a, b, got, subset)
		}
		if got := subject.Intersects(a, b); got != meet {
			t.Fatalf("Intersects(%q, %q) = %v, enumeration says %v", a, b, got, meet)
		}
	})
}
