package netstack

import (
	"math"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// cpuWindowMin is the shortest interval a CPU percentage is measured over: monitoring
// requests closer together than this see the previous measurement, not the noise of a
// few milliseconds.
const cpuWindowMin = time.Second

// host implements env.Host from the operating system and the Go runtime. CPU use is
// measured on demand between two samples of the process's CPU time (no sampling
// goroutine), over at least cpuWindowMin.
type host struct {
	clock *clock

	mu       sync.Mutex
	lastAt   time.Duration // Mono of the last CPU sample
	lastCPU  time.Duration // process CPU time (user + system) at lastAt
	percent  float64       // CPU use over the last complete window
	measured bool          // percent holds a measurement
}

func newHost(c *clock) *host {
	return &host{clock: c, lastAt: c.Mono(), lastCPU: processCPUTime()}
}

// Facts implements env.Host.
func (h *host) Facts() env.HostFacts {
	return env.HostFacts{
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPUPercent: h.cpuPercent(h.clock.Mono(), processCPUTime()),
		MemBytes:   residentBytes(),
	}
}

// Addrs implements env.Host from the machine's interfaces.
func (h *host) Addrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsUnspecified() {
			continue
		}
		out = append(out, ipn.IP.String())
	}
	return out
}

// cpuPercent folds a new sample in: once a window of cpuWindowMin has passed (or for the
// first request, whatever has passed since start) the percentage is recomputed.
func (h *host) cpuPercent(now, cpu time.Duration) float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	window := now - h.lastAt
	if window <= 0 || (window < cpuWindowMin && h.measured) {
		return h.percent
	}
	h.percent = math.Round(10000*float64(cpu-h.lastCPU)/float64(window)) / 100
	h.measured = true
	h.lastAt, h.lastCPU = now, cpu
	return h.percent
}
