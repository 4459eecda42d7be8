package env

// Env is everything one node (one process) may use of the world. A node gets a fresh Env each
// time it starts; after a crash nothing of the old one is reachable, except what its FS made
// durable.
type Env struct {
	// Name identifies the node in logs and traces (for example "n1").
	Name  string
	Clock Clock
	Rand  Rand
	FS    FS
	Net   Net
	Exec  Executors
	Log   Logger
	// Host reports machine and process facts for monitoring.
	Host Host
	// Probe counts rare paths taken, for the simulator's coverage report.
	Probe Probe
}

// Validate panics naming the first missing part, so a half-built Env fails at construction
// rather than at first use deep inside the engine.
func (e *Env) Validate() {
	Assertf(e.Name != "", "env: Name is empty")
	Assertf(e.Clock != nil, "env %s: Clock is nil", e.Name)
	Assertf(e.Rand != nil, "env %s: Rand is nil", e.Name)
	Assertf(e.FS != nil, "env %s: FS is nil", e.Name)
	Assertf(e.Net != nil, "env %s: Net is nil", e.Name)
	Assertf(e.Exec != nil, "env %s: Exec is nil", e.Name)
	Assertf(e.Log != nil, "env %s: Log is nil", e.Name)
	Assertf(e.Host != nil, "env %s: Host is nil", e.Name)
	Assertf(e.Probe != nil, "env %s: Probe is nil", e.Name)
}
