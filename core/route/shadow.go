package route

import (
	"slices"

	"github.com/petrel-io/petrel/core/env"
)

// Interest across accounts. An account that imports a stream receives what the exporter
// publishes, so a subscription in the importer is also interest in the exporting account:
// the peers must route the exporter's messages here, where the engine follows the imports
// into the importer. nats-server does this with "shadow" subscriptions in the exporter's
// index; here the Router is told how to derive that interest (SetShadows) and keeps it
// beside the subscriptions it comes from, so it is right when subscriptions come and go and
// when the imports change.

// Interest is one subject of interest in an account.
type Interest struct {
	Account, Subject string
}

// Shadows returns the interest in other accounts that a subscription on subject in account
// stands for (none: nil). It must be a function of its arguments for one generation of the
// accounts' configuration; the Router remembers its answer for as long as the subscription
// lives, and asks again for every subscription when SetShadows installs a new one.
type Shadows func(account, subject string) []Interest

// SetShadows installs how local subscriptions translate into interest in other accounts
// (nil: they do not), and brings every route up to date: interest a changed import no
// longer implies is withdrawn, new interest is announced (additions first, so interest that
// moves from one subscription's shadow to another's is never withdrawn on the way).
func (r *Router) SetShadows(fn Shadows) {
	r.shadowsOf = fn
	l := r.local
	type change struct {
		shadow key
		delta  int
	}
	var adds, removes []change
	for _, k := range l.sortedOwn() {
		n := l.own[k]
		old, next := l.shadows[k], r.deriveShadows(k)
		for _, s := range next {
			if !slices.Contains(old, s) {
				adds = append(adds, change{s, n})
			}
		}
		for _, s := range old {
			if !slices.Contains(next, s) {
				removes = append(removes, change{s, -n})
			}
		}
		l.setShadows(k, next)
	}
	for _, c := range append(adds, removes...) {
		r.announce(c.shadow, c.delta)
	}
	r.check()
}

// deriveShadows is the interest k stands for in other accounts, keeping k's queue group
// (nats-server's shadow subscriptions keep it too), without duplicates or k itself.
func (r *Router) deriveShadows(k key) []key {
	if r.shadowsOf == nil {
		return nil
	}
	var out []key
	for _, in := range r.shadowsOf(k.Account, k.Subject) {
		s := key{Account: in.Account, Subject: in.Subject, Queue: k.Queue}
		env.Assertf(s.Account != "" && s.Subject != "", "route: shadow %v of %v names no account or subject", s, k)
		if s != k && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// announce changes the routes' view of k by delta and tells every established route when
// that view changed (localInterest.add's rule).
func (r *Router) announce(k key, delta int) {
	n, changed := r.local.add(k, delta)
	if !changed {
		return
	}
	for _, peerID := range env.SortedKeys(r.peers) {
		id, ok := r.connFor(r.peers[peerID], k.Account)
		if !ok {
			continue
		}
		c := r.conns[id]
		if n > 0 {
			c.out = c.mode.AppendSub(c.out, subOp(k, n))
		} else {
			c.out = c.mode.AppendUnsub(c.out, subOp(k, 0))
		}
	}
}

// checkShadows asserts that the announced counts are the subscriptions' own plus their
// shadows' (invariants build).
func (l *localInterest) checkShadows() {
	want := map[key]int{}
	for k, n := range l.own {
		env.Assertf(n > 0, "route: own interest %v at %d", k, n)
		want[k] += n
		for _, s := range l.shadows[k] {
			want[s] += n
		}
	}
	for k := range l.shadows {
		env.Assertf(l.own[k] > 0, "route: shadows kept for %v, which has no subscription", k)
	}
	env.Assertf(len(want) == len(l.counts), "route: %d keys announced, %d derived from subscriptions", len(l.counts), len(want))
	for k, n := range want {
		env.Assertf(l.counts[k] == n, "route: %v announced at %d, subscriptions and shadows make %d", k, l.counts[k], n)
	}
}
