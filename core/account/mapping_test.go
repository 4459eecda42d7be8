package account

import (
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// The transform examples of ADR-30 (NATS's subject transform document), and the functions.
func TestMappingFunctions(t *testing.T) {
	for _, tc := range []struct{ from, to, subj, want string }{
		{">", "uno.>", "one.two.three", "uno.one.two.three"},
		{">", ">", "one.two.three", "one.two.three"},
		{">", "eins.zwei.drei.vier.>", "four.five.six", "eins.zwei.drei.vier.four.five.six"},
		{"one.>", "uno.>", "one.two.three", "uno.two.three"},
		{"one.two.>", "uno.dos.>", "one.two.three", "uno.dos.three"},
		{"one", "uno", "one", "uno"},
		{"one.*.three.*.five", "uno.$2.$1", "one.two.three.four.five", "uno.four.two"},
		{"one.*.three.*.five", "uno.{{wildcard(2)}}.{{wildcard(1)}}", "one.two.three.four.five", "uno.four.two"},
		{"*.two.three.>", "uno.$1.>", "one.two.three.four.five", "uno.one.four.five"},
		{"*", "{{split(1,-)}}", "-abc-def--ghij-", "abc.def.ghij"},
		{"*", "{{splitfromleft(1,3)}}", "12345", "123.45"},
		{"*", "{{SplitFromRight(1,3)}}", "12345", "12.345"},
		{"*", "{{SliceFromLeft(1,3)}}", "1234567890", "123.456.789.0"},
		{"*", "{{SliceFromRight(1,3)}}", "1234567890", "1.234.567.890"},
		{"*", "{{SliceFromRight(1,3)}}", "123456", "123.456"},
		{"*", "{{left(1,2)}}.{{right(1,2)}}", "abcdef", "ab.ef"},
		{"*", "{{left(1,9)}}", "abc", "abc"},
		{"*.*", "p.{{partition(3,1,2)}}", "a.b", "p.0"},
		{"part.*", "p.{{Partition(3)}}.$1", "part.a", "p.1.a"},
	} {
		tr, err := newTransform(tc.from, tc.to, false)
		if err != nil {
			t.Fatalf("%s -> %s: %v", tc.from, tc.to, err)
		}
		if got, ok := tr.mapSubject(tc.subj); !ok || got != tc.want {
			t.Errorf("%s -> %s on %s: %q, want %q", tc.from, tc.to, tc.subj, got, tc.want)
		}
	}
	for _, bad := range [][2]string{
		{"*", "{{nosuch(1)}}"}, {"*", "{{wildcard(2)}}"}, {"*", "{{partition(0,1)}}"}, {"*", "{{split(1)}}"},
		{"*", "{{left(1,0)}}"}, {"*", "{{left(x,1)}}"}, {"*", "a.{{wildcard(1)"}, {"*", "a..b"},
		{"0", " "}, {"a", "b c"}, // a blank in a literal token: found by FuzzMapping
		{"*", "{{split(1, )}}"},
	} {
		if _, err := newTransform(bad[0], bad[1], false); err == nil {
			t.Errorf("%s -> %s accepted", bad[0], bad[1])
		}
	}
	if _, err := newTransform("*", "{{partition(3,1)}}", true); err == nil {
		t.Error("an import accepted a mapping function")
	}
}

// Weighted destinations: the first mapping that matches applies; the weights' rest keeps
// the subject; the seed decides (same seed, same choices).
func TestMappingWeights(t *testing.T) {
	next, err := Build([]Config{{Name: "A", Mappings: []Mapping{
		{Source: "a", Destinations: []Destination{{Subject: "b", Weight: 100}}},
		{Source: "w", Destinations: []Destination{{Subject: "w1", Weight: 20}, {Subject: "w2", Weight: 50}}},
	}}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := next.Install().Get("A").Routes()
	count := func(seed uint64) map[string]int {
		rng, out := env.NewPRNG(seed), map[string]int{}
		for range 10000 {
			s, ok := r.Map([]byte("w"), rng)
			if !ok {
				s = "w" // the weights' rest: unchanged
			}
			out[s]++
		}
		return out
	}
	c := count(7)
	if c["w1"] < 1800 || c["w1"] > 2200 || c["w2"] < 4700 || c["w2"] > 5300 || c["w"] < 2700 || c["w"] > 3300 {
		t.Fatalf("shares %v", c)
	}
	if c2 := count(7); c2["w1"] != c["w1"] || c2["w2"] != c["w2"] {
		t.Fatalf("same seed, other choices: %v %v", c, c2)
	}
	if s, ok := r.Map([]byte("a"), nil); !ok || s != "b" {
		t.Fatalf("a -> %q %v", s, ok)
	}
	if _, ok := r.Map([]byte("zzz"), nil); ok {
		t.Fatal("an unmapped subject was mapped")
	}
	for _, bad := range []Mapping{
		{Source: "x", Destinations: []Destination{{Subject: "y", Weight: 60}, {Subject: "z", Weight: 60}}},
		{Source: "x", Destinations: []Destination{{Subject: "y", Weight: 0}}},
		{Source: "x"},
		{Source: "x.*", Destinations: []Destination{{Subject: "$2", Weight: 100}}},
	} {
		if _, err := Build([]Config{{Name: "A", Mappings: []Mapping{bad}}}, "", nil); err == nil {
			t.Errorf("mapping %+v accepted", bad)
		}
	}
}

// mapSubject is a transform's rewrite of a subject, for the tables above.
func (t *transform) mapSubject(subj string) (string, bool) { return t.mapBytes([]byte(subj)) }
