package netstack

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
)

// processCPUTime is the CPU time the process has used, user and system.
func processCPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0 // monitoring shows no CPU use rather than failing
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// residentBytes is the resident set size from /proc/self/statm (its second field, in
// pages); where that cannot be read, the memory the Go runtime holds from the OS.
func residentBytes() int64 {
	raw, err := os.ReadFile("/proc/self/statm")
	if err == nil {
		if fields := bytes.Fields(raw); len(fields) >= 2 {
			if pages, err := strconv.ParseInt(string(fields[1]), 10, 64); err == nil {
				return pages * int64(os.Getpagesize())
			}
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.Sys)
}
