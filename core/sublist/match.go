package sublist

import (
	"strings"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
)

// Match returns the subscriptions matching the literal subject subj. The result is shared:
// callers must not modify it.
func (l *List) Match(subj string) *Result {
	l.mu.RLock()
	if r, ok := l.cache[subj]; ok {
		l.mu.RUnlock()
		return r
	}
	return l.matchSlow(subj)
}

// MatchUncached returns the subscriptions matching subj without consulting or filling the
// cache: for subjects that are routable but not valid publish subjects (a non-pedantic
// client's "a.*"), which must not enter the cache, where a hit stands for a validated
// subject. Their wildcard tokens match as text.
func (l *List) MatchUncached(subj string) *Result {
	r := &Result{}
	l.mu.RLock()
	collect(&l.root, subj, r)
	l.mu.RUnlock()
	return r
}

// MatchUncachedInto is MatchUncached into r, which it resets first: for a caller matching
// subjects that are never matched twice (JetStream acks), with one Result it reuses.
func (l *List) MatchUncachedInto(subj string, r *Result) {
	clear(r.Plain) // no stale subscription stays reachable through the reused arrays
	clear(r.Groups)
	r.Plain, r.Groups = r.Plain[:0], r.Groups[:0]
	l.mu.RLock()
	collect(&l.root, subj, r)
	l.mu.RUnlock()
}

// Cached returns the cached result for a subject still in a read buffer, converting
// nothing. Only subjects that were matched (and so validated by the caller) are cached, so
// a hit also means the subject is valid.
func (l *List) Cached(subj []byte) (*Result, bool) {
	l.mu.RLock()
	r, ok := l.cache[string(subj)]
	l.mu.RUnlock()
	return r, ok
}

// CountMatches adds to the match statistics. Publishers count per read and add once, so
// the hot path does not contend on shared counters.
func (l *List) CountMatches(matches, hits uint64) {
	l.stats.matches.Add(matches)
	l.stats.hits.Add(hits)
}

// matchSlow walks the trie and caches the result. Called with the read lock held; returns
// with it released.
func (l *List) matchSlow(subj string) *Result {
	if env.Invariants {
		env.Assertf(subject.ValidPublish(subj), "sublist: Match of %q, which is not a valid publish subject (use MatchUncached)", subj)
	}
	r := &Result{}
	collect(&l.root, subj, r)
	gen := l.gen
	l.mu.RUnlock()
	if r.Empty() {
		r = emptyResult
	}
	l.mu.Lock()
	if l.gen == gen {
		if len(l.cache) >= cacheMax {
			l.evict()
		}
		l.cache[strings.Clone(subj)] = r
	}
	l.mu.Unlock()
	return r
}

// evict drops about a tenth of the cache. Which entries go does not change any result, so
// the map's iteration order may pick them.
func (l *List) evict() {
	drop := cacheMax / 10
	for key := range l.cache {
		delete(l.cache, key)
		if drop--; drop == 0 {
			return
		}
	}
}

// collect walks the trie for the tokens of subj, adding every matching node's subs to r.
func collect(n *node, subj string, r *Result) {
	tok, rest, more := strings.Cut(subj, ".")
	if n.trail != nil {
		r.add(n.trail) // '>' here matches this token and everything after it
	}
	if c := n.literal[tok]; c != nil {
		if more {
			collect(c, rest, r)
		} else {
			r.add(c)
		}
	}
	if n.single != nil {
		if more {
			collect(n.single, rest, r)
		} else {
			r.add(n.single)
		}
	}
}

// add appends a node's subscriptions, merging queue groups of the same name from different
// subjects into one group (a message goes to one member of a named group, whatever subject
// each member used).
func (r *Result) add(n *node) {
	r.Plain = append(r.Plain, n.plain...)
	for _, g := range n.groups {
		merged := false
		for i := range r.Groups {
			if r.Groups[i].Name == g.name {
				r.Groups[i].Subs = append(r.Groups[i].Subs, g.subs...)
				merged = true
				break
			}
		}
		if !merged {
			r.Groups = append(r.Groups, Group{Name: g.name, Subs: append([]*Sub(nil), g.subs...)})
		}
	}
}

// Stats is what /subsz reports.
type Stats struct {
	Subscriptions int     `json:"num_subscriptions"`
	Cache         int     `json:"num_cache"`
	Inserts       uint64  `json:"num_inserts"`
	Removes       uint64  `json:"num_removes"`
	Matches       uint64  `json:"num_matches"`
	CacheHitRate  float64 `json:"cache_hit_rate"`
	MaxFanout     int     `json:"max_fanout"`
	AvgFanout     float64 `json:"avg_fanout"`
}

// Stats returns counters and cache figures.
func (l *List) Stats() Stats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	s := Stats{
		Subscriptions: l.count, Cache: len(l.cache),
		Inserts: l.stats.inserts.Load(), Removes: l.stats.removes.Load(), Matches: l.stats.matches.Load(),
	}
	if s.Matches > 0 {
		s.CacheHitRate = float64(l.stats.hits.Load()) / float64(s.Matches)
	}
	total := 0
	for _, r := range l.cache {
		n := len(r.Plain) + len(r.Groups)
		total += n
		s.MaxFanout = max(s.MaxFanout, n)
	}
	if len(l.cache) > 0 {
		s.AvgFanout = float64(total) / float64(len(l.cache))
	}
	return s
}

// All appends every subscription to out, for monitoring. The order is the trie's, which is
// deterministic only up to literal-token map order; callers sort what they show.
func (l *List) All(out []*Sub) []*Sub {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var walk func(n *node)
	walk = func(n *node) {
		out = append(out, n.plain...)
		for _, g := range n.groups {
			out = append(out, g.subs...)
		}
		for _, c := range n.literal {
			walk(c)
		}
		if n.single != nil {
			walk(n.single)
		}
		if n.trail != nil {
			walk(n.trail)
		}
	}
	walk(&l.root)
	return out
}

// Add combines two lists' figures, as /subsz shows one server's accounts together.
func (s Stats) Add(o Stats) Stats {
	sum := Stats{
		Subscriptions: s.Subscriptions + o.Subscriptions, Cache: s.Cache + o.Cache,
		Inserts: s.Inserts + o.Inserts, Removes: s.Removes + o.Removes, Matches: s.Matches + o.Matches,
		MaxFanout: max(s.MaxFanout, o.MaxFanout),
	}
	if sum.Matches > 0 {
		sum.CacheHitRate = (s.CacheHitRate*float64(s.Matches) + o.CacheHitRate*float64(o.Matches)) / float64(sum.Matches)
	}
	if sum.Cache > 0 {
		sum.AvgFanout = (s.AvgFanout*float64(s.Cache) + o.AvgFanout*float64(o.Cache)) / float64(sum.Cache)
	}
	return sum
}
