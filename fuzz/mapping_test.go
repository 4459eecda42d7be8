package fuzz

import (
	"testing"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
)

// FuzzMapping feeds arbitrary mapping expressions and subjects to the account layer: a
// mapping is refused or built, never a panic; a built one maps only subjects its source
// matches, always to a valid publish subject (a split that would make a wildcard token maps
// nothing), the same one for the same seed.
func FuzzMapping(f *testing.F) {
	for _, seed := range [][3]string{
		{"orders.*.*", "byid.$2.{{wildcard(1)}}", "orders.eu.42"},
		{"part.*", "p.{{partition(3,1)}}.$1", "part.abc"},
		{"*", "{{split(1,-)}}", "-abc-def--ghij-"},
		{"*", "{{SliceFromRight(1,3)}}", "1234567890"},
		{"*.>", "{{splitfromleft(1,2)}}.>", "abcd.x.y"},
		{">", "uno.>", "a.b"},
		{"*", "{{left(1,2)}}.{{right(1,9)}}", "abc"},
	} {
		f.Add(seed[0], seed[1], seed[2], uint64(1))
	}
	f.Fuzz(func(t *testing.T, source, dest, subj string, seed uint64) {
		next, err := account.Build([]account.Config{{Name: "A", Mappings: []account.Mapping{{
			Source:       source,
			Destinations: []account.Destination{{Subject: dest, Weight: 60}, {Subject: dest, Weight: 40}},
		}}}}, "", nil)
		if err != nil {
			return
		}
		if !subject.ValidPublish(subj) {
			return
		}
		r := next.Install().Get("A").Routes()
		got, ok := r.Map([]byte(subj), env.NewPRNG(seed))
		if ok && !subject.Match(subj, source) { // a match may still map to nothing valid: then not mapped
			t.Fatalf("%q -> %q: subject %q mapped without matching", source, dest, subj)
		}
		if !ok {
			return
		}
		if !subject.ValidPublish(got) {
			t.Fatalf("%q -> %q maps %q to invalid %q", source, dest, subj, got)
		}
		if again, _ := r.Map([]byte(subj), env.NewPRNG(seed)); again != got {
			t.Fatalf("same seed, %q then %q", got, again)
		}
	})
}
