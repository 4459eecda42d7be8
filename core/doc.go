// Package core is Petrel's engine: the client protocol, subjects, accounts and auth, the
// JetStream API, streams, consumers and cluster coordination. It reaches the world only
// through the Env contract in core/env, so the same code runs on real sockets and disks
// (package netstack, wired by package server) and inside the simulator (package sim).
//
// The engine arrives in stages; see DESIGN.md for what is built.
package core
