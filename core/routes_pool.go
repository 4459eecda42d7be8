package core

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
