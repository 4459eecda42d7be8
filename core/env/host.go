package env

// Host reports facts about the machine and the process a node runs in, for monitoring
// (nats-server's /varz cores, gomaxprocs, cpu and mem). They come through the Env because
// they are the world's: netstack reads them from the operating system and the Go runtime,
// the simulator makes them up deterministically.
type Host interface {
	// Facts samples the process now. It is safe from any executor and cheap enough to call
	// per monitoring request.
	Facts() HostFacts
	// Addrs lists the machine's IP addresses other machines may reach it at (not loopback,
	// not link-local), for advertising a listener bound to every interface, as nats-server
	// advertises one (IPv6 without brackets). Nil where there are none, or in a world of
	// named hosts.
	Addrs() []string
}

// HostFacts is one sample of the host.
type HostFacts struct {
	// Cores is the number of logical CPUs of the machine.
	Cores int
	// GOMAXPROCS is how many of them the process may run on at once.
	GOMAXPROCS int
	// CPUPercent is the process's recent CPU use in percent of one core (so up to
	// 100 x Cores), as nats-server reports "cpu".
	CPUPercent float64
	// MemBytes is the process's resident set size.
	MemBytes int64
}
