package sublist

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/subject/subjecttest"
	"pgregory.net/rapid"
)

// naive is the oracle: a flat list matched one by one.
type naive struct{ subs []*Sub }

func (n *naive) match(subj string) (plain []string, groups map[string][]string) {
	groups = map[string][]string{}
	for _, s := range n.subs {
		if !subjecttest.Oracle(subj, s.Subject) {
			continue
		}
		id := s.Owner.(string)
		if s.Queue == "" {
			plain = append(plain, id)
		} else {
			groups[s.Queue] = append(groups[s.Queue], id)
		}
	}
	return plain, groups
}

func flatten(r *Result) (plain []string, groups map[string][]string) {
	groups = map[string][]string{}
	for _, s := range r.Plain {
		plain = append(plain, s.Owner.(string))
	}
	for _, g := range r.Groups {
		if _, dup := groups[g.Name]; dup {
			panic("group " + g.Name + " appears twice in a result")
		}
		for _, s := range g.Subs {
			groups[g.Name] = append(groups[g.Name], s.Owner.(string))
		}
	}
	return plain, groups
}

func sorted(s []string) string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return strings.Join(c, ",")
}

func sameResult(t *rapid.T, subj string, got *Result, want *naive) {
	gp, gg := flatten(got)
	wp, wg := want.match(subj)
	if sorted(gp) != sorted(wp) {
		t.Fatalf("Match(%q) plain = [%s], oracle [%s]", subj, sorted(gp), sorted(wp))
	}
	if len(gg) != len(wg) {
		t.Fatalf("Match(%q) has %d groups, oracle %d", subj, len(gg), len(wg))
	}
	for name, members := range wg {
		if sorted(gg[name]) != sorted(members) {
			t.Fatalf("Match(%q) group %s = [%s], oracle [%s]", subj, name, sorted(gg[name]), sorted(members))
		}
	}
}

// TestMatchesNaiveUnderChurn interleaves inserts, removes and matches (so the cache is hit,
// invalidated and refilled) and compares every match with a linear scan of the subject
// oracle. Routable subjects that are not valid publish subjects (a non-pedantic "a.*") go
// through MatchUncached and must never enter the cache.
func TestMatchesNaiveUnderChurn(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		l := New()
		oracle := &naive{}
		var reused Result // MatchUncachedInto's, across the whole run
		next := 0
		steps := rapid.IntRange(1, 200).Draw(t, "steps")
		for i := 0; i < steps; i++ {
			switch rapid.IntRange(0, 9).Draw(t, "op") {
			case 0, 1, 2: // insert
				s := &Sub{Subject: subjecttest.Pattern().Draw(t, "sub"), Owner: fmt.Sprint(next)}
				if rapid.IntRange(0, 2).Draw(t, "queued") == 0 {
					s.Queue = rapid.SampledFrom([]string{"q1", "q2"}).Draw(t, "queue")
				}
				next++
				l.Insert(s)
				oracle.subs = append(oracle.subs, s)
			case 3: // remove
				if len(oracle.subs) == 0 {
					continue
				}
				i := rapid.IntRange(0, len(oracle.subs)-1).Draw(t, "victim")
				if !l.Remove(oracle.subs[i]) {
					t.Fatalf("Remove of a present sub returned false")
				}
				if l.Remove(oracle.subs[i]) {
					t.Fatalf("second Remove returned true")
				}
				oracle.subs = append(oracle.subs[:i], oracle.subs[i+1:]...)
			case 4: // a routable publish subject, wildcards as text
				subj := subjecttest.Routable().Draw(t, "routable")
				if subject.ValidPublish(subj) {
					sameResult(t, subj, l.Match(subj), oracle)
					continue
				}
				sameResult(t, subj, l.MatchUncached(subj), oracle)
				if _, hit := l.Cached([]byte(subj)); hit {
					t.Fatalf("%q is not a valid publish subject but was cached", subj)
				}
			case 5: // a reused result
				subj := subjecttest.Literal().Draw(t, "once")
				l.MatchUncachedInto(subj, &reused)
				sameResult(t, subj, &reused, oracle)
			default: // match
				subj := subjecttest.Literal().Draw(t, "pub")
				sameResult(t, subj, l.Match(subj), oracle)
			}
			if l.Count() != len(oracle.subs) {
				t.Fatalf("Count = %d, oracle %d", l.Count(), len(oracle.subs))
			}
		}
		// Removing everything prunes the trie back to an empty root.
		for _, s := range oracle.subs {
			l.Remove(s)
		}
		if !l.root.empty() {
			t.Fatalf("trie not pruned after removing every subscription")
		}
	})
}

func TestQueueGroupsMergeAcrossSubjects(t *testing.T) {
	l := New()
	l.Insert(&Sub{Subject: "foo.*", Queue: "q", Owner: "1"})
	l.Insert(&Sub{Subject: "foo.bar", Queue: "q", Owner: "2"})
	l.Insert(&Sub{Subject: "foo.>", Queue: "other", Owner: "3"})
	r := l.Match("foo.bar")
	if len(r.Groups) != 2 || len(r.Plain) != 0 {
		t.Fatalf("want 2 groups, got %+v", r)
	}
	for _, g := range r.Groups {
		if g.Name == "q" && len(g.Subs) != 2 {
			t.Fatalf("group q has %d members, want 2 (merged from foo.* and foo.bar)", len(g.Subs))
		}
	}
}

// TestConcurrentMatchAndChurn runs matches against inserts and removes on other goroutines;
// run with -race. Every match must see a consistent result: a subscription that is never
// removed is always present.
func TestConcurrentMatchAndChurn(t *testing.T) {
	l := New()
	l.Insert(&Sub{Subject: "x.>", Owner: "stable"})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := &Sub{Subject: fmt.Sprintf("x.%d.*", i%7), Owner: "churn"}
				l.Insert(s)
				l.Remove(s)
			}
		}(w)
	}
	for i := 0; i < 20000; i++ {
		r := l.Match(fmt.Sprintf("x.%d.y", i%7))
		found := false
		for _, s := range r.Plain {
			if s.Owner == "stable" {
				found = true
			}
		}
		if !found {
			t.Fatal("a stable subscription vanished from a match")
		}
	}
	close(stop)
	wg.Wait()
}

func BenchmarkMatchCached(b *testing.B) {
	l := New()
	for i := 0; i < 1000; i++ {
		l.Insert(&Sub{Subject: fmt.Sprintf("foo.%d.bar", i), Owner: "x"})
	}
	l.Insert(&Sub{Subject: "foo.*.bar", Owner: "w"})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.Match("foo.7.bar")
	}
}
