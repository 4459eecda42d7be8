package route

import "github.com/petrel-io/petrel/core/env"

// check asserts the router's invariants; it runs after every step. The full table scan is
// behind the invariants build tag.
func (r *Router) check() {
	env.Assertf(len(r.conns) <= maxConns, "route: %d conns, more than %d", len(r.conns), maxConns)
	for peer, id := range r.peers {
		c := r.conns[id]
		env.Assertf(c != nil && c.phase == PhaseEstablished && c.peerID == peer,
			"route: peer %s registered to conn %d, which is not its established route", peer, id)
	}
	for id, c := range r.conns {
		env.Assertf(c.id == id && c.phase != PhaseClosed, "route: conn %d kept as %d in phase %v", c.id, id, c.phase)
		if c.phase == PhaseEstablished {
			env.Assertf(r.peers[c.peerID] == id, "route: established conn %d is not registered for peer %s", id, c.peerID)
		}
		env.Assertf(c.pingsOut <= r.cfg.MaxPingsOut, "route: conn %d has %d pings out, more than %d", id, c.pingsOut, r.cfg.MaxPingsOut)
		env.Assertf(c.solicited == (c.url != ""), "route: conn %d solicited %v with url %q", id, c.solicited, c.url)
	}
	if env.Invariants {
		r.remote.check(func(id ConnID) bool { c := r.conns[id]; return c != nil && c.phase == PhaseEstablished })
		for k, n := range r.local.counts {
			env.Assertf(n > 0, "route: local interest %v at %d", k, n)
		}
		r.local.checkShadows()
	}
}
