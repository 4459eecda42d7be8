package sublist

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
)

// cacheMax bounds the match cache. 1024 distinct subjects cover the hot set of most
// workloads; past it, entries are evicted before new ones are added.
const cacheMax = 1024

// Sub is one subscription. The owner (the engine) fills Subject, Queue and Owner; the list
// fills the rest.
type Sub struct {
	Subject string
	Queue   string // "" for a plain subscription
	Owner   any

	node  *node
	group *group
	pos   int // index in node.plain or group.subs
}

// Result is the set of subscriptions matching a subject: every plain one, and per queue
// group every member (the caller picks one). Results are shared and must not be modified.
type Result struct {
	Plain  []*Sub
	Groups []Group
}

// Group is one queue group's members in a Result.
type Group struct {
	Name string
	Subs []*Sub
}

// Empty reports whether nothing matched.
func (r *Result) Empty() bool { return len(r.Plain) == 0 && len(r.Groups) == 0 }

var emptyResult = &Result{}

type node struct {
	literal map[string]*node
	single  *node // '*'
	trail   *node // '>'
	plain   []*Sub
	groups  []*group
}

type group struct {
	name string
	subs []*Sub
}

func (n *node) empty() bool {
	return len(n.literal) == 0 && n.single == nil && n.trail == nil && len(n.plain) == 0 && len(n.groups) == 0
}

// List is a subscription index, safe for concurrent use.
type List struct {
	mu    sync.RWMutex
	root  node
	count int
	gen   uint64 // bumped by every change, so a result computed before it is not cached
	// genSeen mirrors gen for readers without the lock (Gen).
	genSeen atomic.Uint64
	cache   map[string]*Result
	stats   counters
}

type counters struct {
	inserts, removes, matches, hits atomic.Uint64
}

// New returns an empty list.
func New() *List { return &List{cache: map[string]*Result{}} }

// Insert adds sub; its Subject must be a valid subscription subject.
func (l *List) Insert(sub *Sub) {
	env.Assertf(subject.ValidSubscribe(sub.Subject), "sublist: insert of invalid subject %q", sub.Subject)
	env.Assertf(sub.node == nil, "sublist: %q inserted twice", sub.Subject)
	l.mu.Lock()
	defer l.mu.Unlock()
	n := &l.root
	rest := sub.Subject
	for more := true; more; {
		var tok string
		tok, rest, more = strings.Cut(rest, ".")
		n = n.child(tok)
	}
	sub.node = n
	if sub.Queue == "" {
		sub.pos = len(n.plain)
		n.plain = append(n.plain, sub)
	} else {
		g := n.group(sub.Queue)
		sub.group, sub.pos = g, len(g.subs)
		g.subs = append(g.subs, sub)
	}
	l.count++
	l.changed(sub.Subject)
	l.stats.inserts.Add(1)
}

// child returns the child for tok, creating it.
func (n *node) child(tok string) *node {
	switch tok {
	case subject.SingleWild:
		if n.single == nil {
			n.single = &node{}
		}
		return n.single
	case subject.TrailWild:
		if n.trail == nil {
			n.trail = &node{}
		}
		return n.trail
	}
	c := n.literal[tok]
	if c == nil {
		if n.literal == nil {
			n.literal = map[string]*node{}
		}
		c = &node{}
		n.literal[tok] = c
	}
	return c
}

func (n *node) group(name string) *group {
	for _, g := range n.groups {
		if g.name == name {
			return g
		}
	}
	g := &group{name: name}
	n.groups = append(n.groups, g)
	return g
}

// Remove deletes sub; it reports false if sub is not in the list.
func (l *List) Remove(sub *Sub) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := sub.node
	if n == nil {
		return false
	}
	if sub.group == nil {
		n.plain = swapRemove(n.plain, sub.pos)
	} else {
		g := sub.group
		g.subs = swapRemove(g.subs, sub.pos)
		if len(g.subs) == 0 {
			n.removeGroup(g)
		}
	}
	sub.node, sub.group = nil, nil
	l.count--
	l.prune(sub.Subject)
	l.changed(sub.Subject)
	l.stats.removes.Add(1)
	return true
}

// swapRemove removes subs[i] by moving the last element into its place.
func swapRemove(subs []*Sub, i int) []*Sub {
	last := len(subs) - 1
	env.Assertf(i >= 0 && i <= last, "sublist: remove position %d of %d", i, len(subs))
	subs[i] = subs[last]
	subs[i].pos = i
	subs[last] = nil
	return subs[:last]
}

func (n *node) removeGroup(g *group) {
	for i, other := range n.groups {
		if other == g {
			copy(n.groups[i:], n.groups[i+1:])
			n.groups[len(n.groups)-1] = nil
			n.groups = n.groups[:len(n.groups)-1]
			return
		}
	}
}

// prune removes the empty nodes along subj's path, deepest first.
func (l *List) prune(subj string) {
	path := make([]*node, 0, 8)
	toks := make([]string, 0, 8)
	n := &l.root
	rest := subj
	for more := true; more && n != nil; {
		var tok string
		tok, rest, more = strings.Cut(rest, ".")
		path, toks = append(path, n), append(toks, tok)
		switch tok {
		case subject.SingleWild:
			n = n.single
		case subject.TrailWild:
			n = n.trail
		default:
			n = n.literal[tok]
		}
	}
	for i := len(path) - 1; i >= 0 && n != nil && n.empty(); i-- {
		parent, tok := path[i], toks[i]
		switch tok {
		case subject.SingleWild:
			parent.single = nil
		case subject.TrailWild:
			parent.trail = nil
		default:
			delete(parent.literal, tok)
		}
		n = parent
	}
}

// changed drops the cache entries that subj can match. Called with mu held.
func (l *List) changed(subj string) {
	l.gen++
	l.genSeen.Store(l.gen)
	if subject.IsLiteral(subj) {
		delete(l.cache, subj)
		return
	}
	for key := range l.cache {
		if subject.Match(key, subj) {
			delete(l.cache, key)
		}
	}
}

// Gen numbers the list's changes: two equal readings mean no subscription came or went
// between them.
func (l *List) Gen() uint64 { return l.genSeen.Load() }

// Count is the number of subscriptions.
func (l *List) Count() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.count
}
