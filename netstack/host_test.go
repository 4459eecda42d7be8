package netstack

import (
	"runtime"
	"testing"
	"time"
)

func TestHostFactsComeFromTheProcess(t *testing.T) {
	h := newHost(newClock())
	f := h.Facts()
	if f.Cores != runtime.NumCPU() || f.GOMAXPROCS != runtime.GOMAXPROCS(0) {
		t.Fatalf("cores %d gomaxprocs %d, want %d and %d", f.Cores, f.GOMAXPROCS, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	}
	if f.MemBytes < 1<<20 {
		t.Fatalf("resident memory %d bytes: a Go process holds more than 1 MiB", f.MemBytes)
	}
	if f.CPUPercent < 0 {
		t.Fatalf("cpu %v%%", f.CPUPercent)
	}
}

// The CPU percentage is CPU time over wall time of a window of at least a second;
// requests within the window see the last measurement.
func TestHostCPUPercentWindows(t *testing.T) {
	h := &host{lastAt: 0, lastCPU: 0}
	cases := []struct {
		now, cpu time.Duration
		want     float64
	}{
		{100 * time.Millisecond, 50 * time.Millisecond, 50},     // the first request measures what it can
		{500 * time.Millisecond, 500 * time.Millisecond, 50},    // within the window: unchanged
		{1100 * time.Millisecond, 1050 * time.Millisecond, 100}, // a full window: 1 s of CPU in 1 s
		{3100 * time.Millisecond, 4050 * time.Millisecond, 150}, // two cores busy for half the time
		{3100 * time.Millisecond, 4050 * time.Millisecond, 150}, // no time passed
	}
	for i, c := range cases {
		if got := h.cpuPercent(c.now, c.cpu); got != c.want {
			t.Fatalf("sample %d at %v: cpu %v%%, want %v%%", i, c.now, got, c.want)
		}
	}
}
