package env

// NodeID names a server in a cluster. It is stable across restarts.
type NodeID string

// Seq is a stream sequence number; 0 means none.
type Seq uint64

// Index is a position in a raft log; 0 means none.
type Index uint64

// Term is a raft election term.
type Term uint64
