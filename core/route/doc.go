// Package route is the cluster protocol's logic: route connections between servers, the
// interest each side tells the other, and which routes a message crosses. It is pure and
// deterministic, in raft's shape: the host steps a Router with inputs and carries out the
// effects it returns, so the engine on real sockets and the simulator drive the same code.
// No sockets, goroutines, timers or clocks here; time comes in as an argument.
//
// # Inputs and effects
//
//	host event                         Router call
//	dial a route (seed, gossip, retry) DialWith(url, credentials) or Dial(url) (gossip), then
//	                                   Connected(id, now) or Closed(id)
//	reload of authorization or TLS     SetSecurity(security)
//	accept a route connection          Accept(now)
//	bytes read                         Receive(id, now, bytes)  (parsed by core/proto)
//	socket gone                        Closed(id)
//	timer                              Tick(now)
//	local subscription added/removed   Subscribe(account, subject, queue, +1/-1)
//	client publish                     Publish(msg, local queue groups) -> groups kept here
//	monitoring (/routez, statsz)       Stats(subs) -> each established route's figures
//
// Ready returns the effects: bytes to write per connection (encoded by core/proto), messages
// that came over a route for local delivery, remote interest changes, connections to close
// (with the reason and whether to redial), URLs to dial (gossip) and the cluster's client
// URLs when they change (for async INFO to clients).
//
// # Connection phases
//
//	dialing -> awaitInfo -> established          (solicited: CONNECT and INFO sent on connect)
//	awaitConnect -> awaitInfo -> established     (accepted: INFO sent on accept)
//	any -> closing -> closed                     (close decided; host reports the socket gone)
//
// handshake.go lists the refusals (cluster name, route to self, duplicate server name, ops
// out of phase), dup.go the duplicate-route rule, forward.go the forwarding rule,
// discovery.go gossip and client URLs.
//
// # Invariants (asserted after every step)
//
//   - a connection is established iff it is the registered route of its peer at its pool
//     index or pinned account, and each such place has at most one;
//   - the remote interest table holds entries of established connections only, each in its
//     account's sublist once, weight >= 1; a closed route's entries are gone;
//   - local interest counts are positive; unanswered PINGs never exceed MaxPingsOut;
//   - a message that came in over a route is delivered here only, never forwarded.
//
// Route authorization is checked here (auth.go); TLS is the host's, done before the Router
// hears of a connection. pool.go has route pools and pinned per-account routes, compress.go
// compression.
//
// Not here yet (DESIGN.md, Routes): reloading the pinned accounts or turning pooling on or
// off, dynamic cluster names, leaf-node origin routing beyond keeping LS+ apart, permissions
// on imports and exports.
package route
