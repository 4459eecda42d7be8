package route

// SetPeerLeafUnsubWithoutOriginForTest switches a route to the pre-2.10 LS- form (no origin),
// as a peer whose INFO lacked lnocu would have it.
func (r *Router) SetPeerLeafUnsubWithoutOriginForTest(id ConnID) {
	c := r.conns[id]
	c.mode.LeafUnsubWithoutOrigin = true
	c.parser.SetMode(c.mode)
}
