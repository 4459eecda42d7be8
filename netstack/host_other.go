//go:build !linux

package netstack

import (
	"runtime"
	"time"
)

// processCPUTime is not measured off Linux yet: monitoring reports cpu 0.
func processCPUTime() time.Duration { return 0 }

// residentBytes approximates the resident set by the memory the Go runtime holds from
// the OS.
func residentBytes() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}
