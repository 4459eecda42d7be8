// Package natsclient is a small NATS client on an env.Env, for simulated workloads: nats.go
// starts goroutines and reads the wall clock, so the simulator drives Petrel with this one.
//
// A Client lives on one executor; every callback runs there. It speaks the client side of
// the protocol with core/proto: CONNECT (headers, no_responders, protocol 1), PUB/HPUB,
// SUB/UNSUB, PING/PONG both ways, and parses INFO, MSG/HMSG, +OK and -ERR. With
// Options.WebSocket it connects through the client side of core/websocket (the upgrade,
// then masked frames), so the engine's WebSocket path runs over simulated TCP.
package natsclient
