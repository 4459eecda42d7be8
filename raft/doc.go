// Package raft is Petrel's consensus: RAFT as a pure state machine in the style of etcd's
// raft. Messages and ticks go in (Step, Tick); messages to send, entries to persist and
// entries to apply come out (Ready), and the caller acknowledges them (Advance). It never
// reads a clock, starts a goroutine or touches a file: time arrives as ticks, and its log
// and snapshot storage go through the Env FS in a driver.
//
// Not built yet: see the issue "[E] RAFT" and DESIGN.md.
package raft
