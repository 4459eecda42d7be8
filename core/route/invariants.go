package route

import "github.com/petrel-io/petrel/core/env"

// check asserts the router's invariants; it runs after every step. The full table scan is
// behind the invariants build tag.
func (r *Router) check() {
	env.Assertf(len(r.conns) <= maxConns, "route: %d conns, more than %d", len(r.conns), maxConns)
	for id, p := range r.peers {
		env.Assertf(p.id == id, "route: peer %s kept as %s", p.id, id)
		r.checkPeer(p)
	}
	for id, c := range r.conns {
		env.Assertf(c.id == id && c.phase != PhaseClosed, "route: conn %d kept as %d in phase %v", c.id, id, c.phase)
		if c.phase == PhaseEstablished {
			p := r.peers[c.peerID]
			env.Assertf(p != nil && p.at(c) == id, "route: established conn %d is not registered for peer %s", id, c.peerID)
		}
		env.Assertf(c.account == "" || r.pinned[c.account], "route: conn %d dedicated to %q, which is not pinned", id, c.account)
		env.Assertf(c.pingsOut <= r.cfg.MaxPingsOut, "route: conn %d has %d pings out, more than %d", id, c.pingsOut, r.cfg.MaxPingsOut)
		env.Assertf(c.solicited == (c.url != ""), "route: conn %d solicited %v with url %q", id, c.solicited, c.url)
	}
	if env.Invariants {
		r.remote.check(func(id ConnID) bool { c := r.conns[id]; return c != nil && c.phase == PhaseEstablished })
		r.remote.checkPinned(func(id ConnID) string { return r.conns[id].account })
		for k, n := range r.local.counts {
			env.Assertf(n > 0, "route: local interest %v at %d", k, n)
		}
		r.local.checkShadows()
	}
}
