package route

import "cmp"

// The duplicate rule. Two servers can end up with two connections between them: both dial
// at once (seeds pointing at each other, or gossip reaching both), or one dials twice. Each
// side registers a route when it reads the peer's INFO, and the two sides can read the two
// INFOs in different orders.
//
// nats-server keeps whichever connection registered first and closes the later one as a
// duplicate; the two sides may keep different connections and so close both, which it
// mitigates by retrying after a random delay. Petrel decides by something both ends know
// alike about each connection: the server id of the side that dialed it, then that side's
// nonce (sent in its INFO on that connection). The connection with the smaller pair wins, on
// both sides, whatever the order of arrival, so exactly one survives and neither side
// redials (a duplicate close is never retried).

// replaces reports whether the new connection c wins over old, the peer's registered one.
func replaces(c, old *Conn) bool {
	cd, cn := c.dialer()
	od, on := old.dialer()
	return cmp.Or(cmp.Compare(cd, od), cmp.Compare(cn, on)) < 0
}
