package core

import (
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/route"
)

// RouteConns returns the number of established route connections to a peer (by server
// id): its pool's and its pinned accounts' (route.Router.PeerConns). 0 without a cluster.
func (s *Server) RouteConns(peer string) int {
	rt := s.clusterRoutes()
	if rt == nil {
		return 0
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.router.PeerConns(peer))
}

// reloadPool applies a reloaded pool size: the pool routes close and connect again with
// it (turning pooling on or off is refused before this).
func (rt *routes) reloadPool(size int) {
	rt.step(func(r *route.Router) {
		if err := r.SetPoolSize(size); err != nil {
			rt.s.log.Logf(env.LevelError, "Cluster pool size not reloaded: %v", err)
		}
	})
}

// RouteCarries reports whether the route that carries account's traffic to a peer (its
// pinned one, or the pool's at the account's index) is up.
func (s *Server) RouteCarries(peer, account string) bool {
	rt := s.clusterRoutes()
	if rt == nil {
		return false
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	_, ok := rt.router.ConnFor(peer, account)
	return ok
}
