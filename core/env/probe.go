package env

// Probe counts passes through rare paths and fault moments (a torn tail cut at recovery, a
// snapshot sent to a follower that already holds its last entry, a record a checksum
// rejected), so a simulation sweep can report which paths its seeds reached and which never
// ran. A point is a short constant name, "<package>.<what>" (for example "raft.wal.torn-tail").
// The real host ignores hits; the simulator counts them per run.
type Probe interface {
	Hit(point string)
}

// NopProbe ignores every hit.
type NopProbe struct{}

// Hit implements Probe.
func (NopProbe) Hit(string) {}
