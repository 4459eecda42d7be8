package account

import (
	"slices"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/subject"
	"pgregory.net/rapid"
)

// TestShadowInterest: a subscription in the importer is interest in the exporter in
// nats-server's cases (checked against 2.15.2 for the first two rows): the import's subject
// when the subscription covers it, else the overlap named as the exporter names it.
func TestShadowInterest(t *testing.T) {
	for _, tc := range []struct {
		name string
		im   Import
		sub  string
		want string // "" for none
	}{
		{"the same subject, narrower", Import{Subject: "x.>"}, "x.1", "x.1"},
		{"a prefix import, reversed", Import{Subject: "z.>", Prefix: "pre"}, "pre.z.*", "z.*"},
		{"the subscription covers the import", Import{Subject: "x.>"}, ">", "x.>"},
		{"exactly the import", Import{Subject: "x.*", To: "y.*"}, "y.*", "x.*"},
		{"wildcards moved", Import{Subject: "y.*.*", To: "yy.$2.$1"}, "yy.a.b", "y.b.a"},
		{"wildcards moved, one given", Import{Subject: "y.*.*", To: "yy.$2.$1"}, "yy.*.b", "y.b.*"},
		{"overlap", Import{Subject: "a.*.c", To: "b.*.c"}, "b.x.*", "a.x.c"},
		{"overlap on the tail", Import{Subject: "a.>", Prefix: "p"}, "p.a.b.>", "a.b.>"},
		{"a literal import", Import{Subject: "one", To: "two"}, "two", "one"},
		{"no overlap", Import{Subject: "x.>"}, "y.1", ""},
		{"no overlap after a prefix", Import{Subject: "x.>", Prefix: "p"}, "x.1", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im := tc.im
			im.Kind, im.Account = Stream, "A"
			next, err := Build([]Config{{Name: "A", Exports: []Export{{Kind: Stream, Subject: ">"}}}, {Name: "B", Imports: []Import{im}}}, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			set := next.Install()
			got := set.Get("B").Routes().ShadowInterest(tc.sub, nil)
			switch {
			case tc.want == "" && len(got) != 0:
				t.Fatalf("%q: %v, want none", tc.sub, got)
			case tc.want != "" && !slices.Equal(got, []Interest{{Account: "A", Subject: tc.want}}):
				t.Fatalf("%q: %v, want A %q", tc.sub, got, tc.want)
			}
			if set.Get("A").Routes().HasStreamImports() || !set.Get("B").Routes().HasStreamImports() {
				t.Fatalf("the importer, not the exporter, holds the import")
			}
		})
	}
}

// A shadow misses nothing: every subject the exporter publishes whose import lands on a
// subject the subscription matches also matches the shadow, so the cluster routes it to the
// subscriber's server (a shadow may be wider, as nats-server's are: the importer's
// index decides there).
func TestShadowInterestProperty(t *testing.T) {
	tok := rapid.SampledFrom([]string{"a", "b", "c"})
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(t, "n")
		var from, to, sub []string
		caps := 0
		for range n {
			if rapid.Bool().Draw(t, "wild") {
				caps++
				from = append(from, "*")
			} else {
				from = append(from, tok.Draw(t, "lit"))
			}
		}
		perm := rapid.Permutation(seq(caps)).Draw(t, "perm")
		to = append(to, "p")
		for _, c := range perm {
			to = append(to, "$"+string(rune('0'+c)))
		}
		tail := rapid.Bool().Draw(t, "tail")
		if tail {
			from, to = append(from, ">"), append(to, ">")
		}
		for range rapid.IntRange(1, len(to)+1).Draw(t, "sublen") {
			sub = append(sub, rapid.SampledFrom([]string{"p", "a", "b", "*"}).Draw(t, "subtok"))
		}
		if rapid.Bool().Draw(t, "subtail") {
			sub[len(sub)-1] = ">"
		}
		im := streamImportFor(t, strings.Join(from, "."), strings.Join(to, "."))
		subj := strings.Join(sub, ".")
		shadow, ok := im.interest(subj)
		for _, lit := range literals(strings.Join(from, "."), 6) {
			dst, mapped := im.t.mapBytes([]byte(lit))
			if !mapped {
				continue
			}
			reaches := subject.Match(dst, subj)
			if reaches && (!ok || !subject.Match(lit, shadow)) {
				t.Fatalf("import %s -> %s, sub %q: %q lands on %q but shadow is %q %v", im.exported, to, subj, lit, dst, shadow, ok)
			}
		}
	})
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i + 1
	}
	return out
}

func streamImportFor(t *rapid.T, from, to string) streamImport {
	tr, err := newTransform(from, to, true)
	if err != nil {
		t.Fatalf("%s -> %s: %v", from, to, err)
	}
	return newStreamImport(&Account{name: "A"}, tr)
}

// literals lists the literal subjects of pattern over tokens a, b, c, with a tail of one
// or two tokens (at most limit tokens).
func literals(pattern string, limit int) []string {
	out := []string{""}
	for _, tok := range strings.Split(pattern, ".") {
		var next []string
		for _, prefix := range out {
			var choices []string
			switch tok {
			case "*":
				choices = []string{"a", "b", "c"}
			case ">":
				choices = []string{"a", "b.c", "c.a"}
			default:
				choices = []string{tok}
			}
			for _, c := range choices {
				if prefix == "" {
					next = append(next, c)
				} else if strings.Count(prefix, ".") < limit {
					next = append(next, prefix+"."+c)
				}
			}
		}
		out = next
	}
	return out
}
