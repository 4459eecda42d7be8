// Package netstack is the real host of Petrel's env contract: it backs every interface in
// core/env with the operating system, so the same engine that runs under the simulator runs
// in production.
//
// How each piece maps to the OS:
//
//   - Executors: each executor is a serial queue guarded by a mutex, with no goroutine of its
//     own. Whoever posts to an idle executor drains it on the spot (a trampoline), so an idle
//     executor costs nothing and a busy one runs its functions back to back. A Post made from
//     a function already running on that executor only enqueues. Panics are recovered per
//     function: env.HaltError is logged and handed to the halt hook (os.Exit(2) by default);
//     anything else is re-raised so the process crashes loudly.
//   - Clock: Now is time.Now; Mono is the monotonic time elapsed since the Env was built;
//     AfterFunc is a time.AfterFunc whose callback posts to the chosen executor, with a flag
//     checked on that executor so that Stop from the executor wins even against a firing
//     already queued.
//   - Rand: a ChaCha8 generator seeded from crypto/rand behind a mutex for Uint64 and Intn;
//     Fill reads crypto/rand directly, because key material must be unpredictable.
//   - FS: plain os files and directories. Write appends at an end offset the File tracks
//     itself rather than with O_APPEND, because Linux ignores pwrite's offset on O_APPEND
//     files and WriteAt must keep working on the same handle. ENOSPC and EIO are wrapped in
//     env.ErrNoSpace and env.ErrIO; missing and existing files keep io/fs's sentinels.
//   - Net: TCP through package net. A listener has an accept goroutine; a dial runs in a
//     goroutine of its own. A connection has a reader goroutine, which alone delivers events
//     (so OnClose is always the last one), and a writer goroutine that coalesces queued
//     writes into one syscall per batch. Close is graceful: the writer sends what is
//     queued, then half-closes, and the reader discards input until the peer closes, so
//     that unread input never turns the close into a RST that loses the queued bytes. Abort
//     closes with SO_LINGER 0, which sends a RST. TCP_NODELAY is set because the engine
//     batches writes itself.
//   - Logger: one line per message, "[pid] date time.micros [LVL] message", written under a
//     mutex to an io.Writer (stderr by default), with a minimum level.
//
// NewEnv assembles all of it into an env.Env.
package netstack
