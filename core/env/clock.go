package env

import "time"

// Clock is a node's view of time. In sim it is virtual, skewed and drifting per node; in
// netstack it is the operating system's.
type Clock interface {
	// Now returns wall-clock time, for timestamps that leave the node (message times, logs).
	// It may jump backwards or forwards (NTP steps, skew) and must not be used to measure
	// intervals.
	Now() time.Time
	// Mono returns the time elapsed since an arbitrary origin fixed for the node's lifetime.
	// It never decreases; use it for timeouts and intervals.
	Mono() time.Duration
	// AfterFunc posts fn to ex once d of monotonic time has passed. A d <= 0 posts at once.
	AfterFunc(d time.Duration, ex Executor, fn func()) Timer
}

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop cancels the timer and reports whether it did so before the timer fired. When called
	// from the timer's executor, fn is guaranteed not to run afterwards, even if the timer had
	// already fired and fn was waiting in the executor's queue (Stop then returns true).
	Stop() bool
}
