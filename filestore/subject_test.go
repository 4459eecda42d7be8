package filestore

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/subject/subjecttest"
	"pgregory.net/rapid"
)

// TestFilterMatchingAgreesWithOracle: a Filter's Matches and the subject index's filtered
// walk (the path every query by filter takes) select exactly the stored subjects the subject
// oracle matches with any of the filter's patterns.
func TestFilterMatchingAgreesWithOracle(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stored := rapid.SliceOfNDistinct(subjecttest.Literal(), 1, 12, rapid.ID).Draw(t, "stored")
		patterns := rapid.SliceOfN(subjecttest.Pattern(), 1, 3).Draw(t, "patterns")
		f := MustFilter(patterns...)
		var tree subjectTree
		for _, s := range stored {
			tree.insert(s)
		}
		var want, walked []string
		for _, s := range stored {
			oracle := false
			for _, p := range patterns {
				oracle = oracle || subjecttest.Oracle(s, p)
			}
			if got := f.Matches(s); got != oracle {
				t.Fatalf("filter %q matches %q = %v, oracle %v", patterns, s, got, oracle)
			}
			if oracle {
				want = append(want, s)
			}
		}
		tree.match(f, func(s *subjectState) bool {
			walked = append(walked, s.subject)
			return true
		})
		sort.Strings(want)
		sort.Strings(walked)
		if strings.Join(walked, "|") != strings.Join(want, "|") {
			t.Fatalf("index walk for %q found %q, oracle %q", patterns, walked, want)
		}
	})
}

// TestStoreTakesSubjectRulesFromCore: the store keeps exactly the subjects core/subject calls
// valid for publishing, control bytes included, and refuses the rest with ErrBadSubject.
func TestStoreTakesSubjectRulesFromCore(t *testing.T) {
	h := newHarness(t, 1, Config{})
	st := h.openMem()
	cases := []string{"a\x01b", "a\vb", "a\x7fb", "a\fb", "a\x00b", "a\xffb", "a.*", "a.>", "a..b", "a b", "a\rb",
		strings.Repeat("x", subject.MaxBytes), strings.Repeat("x", 70000)}
	for _, s := range cases {
		_, err := h.store(st, s, "x", StoreOpts{})
		if valid := subject.ValidPublish(s); valid != (err == nil) || (!valid && !errors.Is(err, ErrBadSubject)) {
			t.Errorf("store %.20q (%d bytes): err %v, core/subject valid %v", s, len(s), err, valid)
		}
	}
}
