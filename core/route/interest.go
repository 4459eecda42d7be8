package route

import (
	"cmp"
	"slices"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/sublist"
)

// key names one interest entry: a subject in an account, with a queue group or without.
// nats-server keys its route interest the same way (subject, or "subject queue").
type key struct {
	Account, Subject, Queue string
	// Origin is the leaf node cluster of an LS+ entry, so that a leaf's interest and the
	// peer's own in the same subject stay two entries (nats-server keys them apart too).
	Origin string
}

func compareKeys(a, b key) int {
	return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Subject, b.Subject), cmp.Compare(a.Queue, b.Queue), cmp.Compare(a.Origin, b.Origin))
}

// localInterest counts this server's interest per key: what every route is told. own
// counts the subscriptions themselves; shadows is the interest in other accounts each
// subscribed key stands for (stream imports: SetShadows), remembered while it has
// subscriptions so that the last one withdraws exactly what the first announced; counts is
// the sum, announced.
// Invariant: every count is positive (a key at zero is deleted); counts[k] is own[k] plus
// own[j] for every j whose shadows hold k; shadows only for keys in own.
type localInterest struct {
	counts  map[key]int
	own     map[key]int
	shadows map[key][]key
}

func newLocalInterest() *localInterest {
	return &localInterest{counts: map[key]int{}, own: map[key]int{}, shadows: map[key][]key{}}
}

// addOwn changes a key's subscription count by delta, forgetting its shadows at zero.
func (l *localInterest) addOwn(k key, delta int) {
	n := l.own[k] + delta
	env.Assertf(n >= 0, "route: subscriptions on %v drop below zero (%d%+d)", k, l.own[k], delta)
	if n == 0 {
		delete(l.own, k)
		delete(l.shadows, k)
		return
	}
	l.own[k] = n
}

// setShadows records k's shadows (none: forgotten).
func (l *localInterest) setShadows(k key, shadows []key) {
	if len(shadows) == 0 {
		delete(l.shadows, k)
		return
	}
	l.shadows[k] = shadows
}

// sortedOwn returns the subscribed keys in order.
func (l *localInterest) sortedOwn() []key { return sortedKeys(l.own) }

// add changes a key's announced count by delta and reports the count after it and whether
// the routes must hear of it: a plain subscription only when it appears (0 to 1) or goes
// (1 to 0), a queue group on every change, since its weight is the member count (a queue at
// zero goes as RS-).
func (l *localInterest) add(k key, delta int) (n int, announce bool) {
	before := l.counts[k]
	n = before + delta
	env.Assertf(n >= 0, "route: local interest %v drops below zero (%d%+d)", k, before, delta)
	if n == 0 {
		delete(l.counts, k)
	} else {
		l.counts[k] = n
	}
	if k.Queue != "" {
		return n, n != before
	}
	return n, (before == 0) != (n == 0)
}

// sorted returns every announced key in order, for the interest dump a new route gets.
func (l *localInterest) sorted() []key { return sortedKeys(l.counts) }

// sortedKeys returns a key-indexed map's keys in order.
func sortedKeys[V any](m map[key]V) []key {
	keys := make([]key, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// remoteSub is one peer's interest entry, a subscription whose target is the route it came
// over. The sublist holds &Sub, whose Owner is the remoteSub itself.
type remoteSub struct {
	sub    sublist.Sub
	conn   ConnID
	weight int // members behind a queue entry; 1 for a plain one
}

// remoteTable is the interest of every established route, one sublist per account so that
// nothing matches across accounts. Invariant: an entry of conn c is in byConn[c] and in its
// account's list, and nowhere else; weight >= 1.
type remoteTable struct {
	accounts map[string]*sublist.List
	byConn   map[ConnID]map[key]*remoteSub
}

func newRemoteTable() *remoteTable {
	return &remoteTable{accounts: map[string]*sublist.List{}, byConn: map[ConnID]map[key]*remoteSub{}}
}

// set records conn's interest in k with the given weight (0 removes it) and reports whether
// anything changed. The subject must already be a valid subscription subject.
func (t *remoteTable) set(conn ConnID, k key, weight int) bool {
	env.Assertf(weight >= 0, "route: negative weight %d for %v", weight, k)
	entries := t.byConn[conn]
	rs := entries[k]
	switch {
	case rs == nil && weight == 0:
		return false
	case rs == nil:
		if entries == nil {
			entries = map[key]*remoteSub{}
			t.byConn[conn] = entries
		}
		rs = &remoteSub{conn: conn, weight: weight}
		rs.sub = sublist.Sub{Subject: k.Subject, Queue: k.Queue, Owner: rs}
		entries[k] = rs
		t.list(k.Account).Insert(&rs.sub)
		return true
	case weight == 0:
		t.remove(conn, k, rs)
		return true
	}
	changed := rs.weight != weight
	rs.weight = weight // a weight lives in the entry, so cached match results see it at once
	return changed
}

func (t *remoteTable) remove(conn ConnID, k key, rs *remoteSub) {
	l := t.accounts[k.Account]
	env.Assertf(l != nil && l.Remove(&rs.sub), "route: interest %v of conn %d missing from its account's list", k, conn)
	delete(t.byConn[conn], k)
	if len(t.byConn[conn]) == 0 {
		delete(t.byConn, conn)
	}
	if l.Count() == 0 {
		delete(t.accounts, k.Account)
	}
}

func (t *remoteTable) list(account string) *sublist.List {
	l := t.accounts[account]
	if l == nil {
		l = sublist.New()
		t.accounts[account] = l
	}
	return l
}

// keys returns conn's interest keys, in order.
func (t *remoteTable) keys(conn ConnID) []key {
	keys := make([]key, 0, len(t.byConn[conn]))
	for k := range t.byConn[conn] {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareKeys)
	return keys
}

// dropConn removes all of conn's interest (its route closed) and returns the keys, in order.
func (t *remoteTable) dropConn(conn ConnID) []key {
	keys := t.keys(conn)
	for _, k := range keys {
		t.remove(conn, k, t.byConn[conn][k])
	}
	return keys
}

// count returns how many entries conn has.
func (t *remoteTable) count(conn ConnID) int { return len(t.byConn[conn]) }

// match returns the remote interest in a literal subject of an account, or nil.
func (t *remoteTable) match(account string, subject []byte) *sublist.Result {
	l := t.accounts[account]
	if l == nil {
		return nil
	}
	if r, ok := l.Cached(subject); ok {
		return r
	}
	return l.Match(string(subject))
}

// check asserts the table's invariant against the set of established connections.
func (t *remoteTable) check(established func(ConnID) bool) {
	total := 0
	for conn, entries := range t.byConn {
		env.Assertf(established(conn), "route: interest held for conn %d, which is not established", conn)
		env.Assertf(len(entries) > 0, "route: empty interest map kept for conn %d", conn)
		for k, rs := range entries {
			env.Assertf(rs.conn == conn && rs.weight >= 1, "route: entry %v of conn %d has conn %d weight %d", k, conn, rs.conn, rs.weight)
		}
		total += len(entries)
	}
	inLists := 0
	for _, l := range t.accounts {
		inLists += l.Count()
	}
	env.Assertf(total == inLists, "route: %d interest entries by conn, %d in the account lists", total, inLists)
}

// checkPinned asserts that a pinned connection's entries are all its account's: its ops
// carry no account, the mode supplies it.
func (t *remoteTable) checkPinned(accountOf func(ConnID) string) {
	for conn, entries := range t.byConn {
		if a := accountOf(conn); a != "" {
			for k := range entries {
				env.Assertf(k.Account == a, "route: entry %v on conn %d, pinned to %q", k, conn, a)
			}
		}
	}
}
