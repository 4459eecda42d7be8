// Package server wires Petrel's engine to the real world through package netstack: it turns
// options (and later configuration files and flags) into a running node, listens for
// clients, and stops cleanly. Signal handling lives in cmd/petrel, which calls Shutdown;
// monitoring endpoints come later.
//
// For now the server only starts, accepts connections and keeps them until the client or
// the shutdown closes them: the client protocol arrives in a later change.
package server
