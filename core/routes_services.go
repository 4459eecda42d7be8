package core

import (
	"strings"
	"sync"

	"github.com/petrel-io/petrel/core/route"
)

// System services across the cluster. A client's subscription is always told to the
// routes; the server's own (internal, with a handler) only when it is a service every
// member answers, so that a client anywhere in the cluster reaches it: the rule is
// clusterService. The answers and the server's events are internal publishes, routed like a
// client's (publishInternal), so they reach a requester or an event listener on another
// node.

// clusterService reports whether an internal subscription on subj is a cluster-wide
// service, told to the routes as a client's subscription would be. nats-server routes every
// internal subscription of its system account (and the per-account copies it imports), and
// the ones Petrel has are the requests under $SYS.REQ.: $SYS.REQ.SERVER.PING[.<KIND>]
// (answered by every server), $SYS.REQ.SERVER.<id>.<KIND> (by the named one, from any
// node), $SYS.REQ.ACCOUNT.* (by every server about its own connections) and the resolver's
// $SYS.REQ.CLAIMS.* and account claim updates. Two stay local:
//   - $SYS.REQ.USER.INFO is answered about the requesting connection, which only its own
//     server knows (a routed request arrives without one, and nobody would answer it);
//   - JetStream's API ($JS.API.>) and streams' subjects: JetStream is not clustered here, so
//     a request answered by every node would be answered (and carried out) once per node.
func clusterService(subj string) bool {
	return strings.HasPrefix(subj, "$SYS.REQ.") && subj != "$SYS.REQ.USER.INFO"
}

// clusterServices is the set of internal subscriptions told to the cluster. The system
// services subscribe when the server is built, before Start opens the routes, so the
// routes announce the set when they start (startRoutes, seedServices) and every change
// after that as it happens. mu orders the two: a subscription is either in the set that
// startRoutes reads or sees the routes stored and tells them itself.
//
// Client subscriptions made before the routes started (a client accepted between the
// client listener opening and startRoutes, on a real host) wait in early the same way, so
// no subscription misses the cluster; only while a cluster is configured and its routes
// are not up, so a server without one keeps nothing.
type clusterServices struct {
	mu    sync.Mutex
	subs  map[*subscription]bool
	early map[*subscription]bool
}

// routesOrHold returns the route subsystem, or nil after recording a client subscription
// change that came before it started (publishRoutes tells the Router of those).
func (s *Server) routesOrHold(sub *subscription, delta int) *routes {
	s.services.mu.Lock()
	defer s.services.mu.Unlock()
	if rt := s.clusterRoutes(); rt != nil || s.cfg().Cluster == nil {
		return rt
	}
	if s.services.early == nil {
		s.services.early = map[*subscription]bool{}
	}
	if delta > 0 {
		s.services.early[sub] = true
	} else {
		delete(s.services.early, sub)
	}
	return nil
}

// serviceAdded records an internal subscription now in its account's index and tells the
// routes if it is a cluster-wide service.
func (s *Server) serviceAdded(sub *subscription) { s.serviceChanged(sub, 1) }

// serviceRemoved withdraws an internal subscription that left its account's index.
func (s *Server) serviceRemoved(sub *subscription) { s.serviceChanged(sub, -1) }

func (s *Server) serviceChanged(sub *subscription, delta int) {
	if !clusterService(sub.entry.Subject) {
		return
	}
	s.services.mu.Lock()
	if (delta > 0) == s.services.subs[sub] {
		s.services.mu.Unlock()
		panic("core: cluster service " + sub.entry.Subject + " added twice or removed unknown")
	}
	if delta > 0 {
		s.services.subs[sub] = true
	} else {
		delete(s.services.subs, sub)
	}
	rt := s.clusterRoutes()
	s.services.mu.Unlock()
	if rt != nil {
		acc, subj, queue := sub.acc.Name(), sub.entry.Subject, sub.entry.Queue
		rt.step(func(r *route.Router) { r.Subscribe(acc, subj, queue, delta) })
	}
}

// publishRoutes makes rt the server's route subsystem and tells its Router of every
// cluster-wide service subscribed so far, and of the client subscriptions made before. The caller holds rt.mu (startRoutes).
func (s *Server) publishRoutes(rt *routes) {
	s.services.mu.Lock()
	defer s.services.mu.Unlock()
	s.routes.Store(rt)
	for _, set := range []map[*subscription]bool{s.services.subs, s.services.early} {
		for sub := range set {
			rt.router.Subscribe(sub.acc.Name(), sub.entry.Subject, sub.entry.Queue, 1)
		}
	}
	s.services.early = nil
}
