package jetstream

import (
	"errors"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/fsm/stream"
)

// A store that failed a write (EIO, ENOSPC) refuses every later call with ErrFailed until
// its owner closes it and opens it again, which recovers from the disk (filestore's
// contract). Without that, one failed write took the stream out of service until the server
// restarted, and its reads answered "not found" for messages it held (found by the
// jetstream sim workload).

// storeBroken reports whether err says the store must be reopened: it failed a write, or a
// reopen after that failed to open it (the stream then holds the closed store).
func storeBroken(err error) bool {
	return errors.Is(err, filestore.ErrFailed) || errors.Is(err, filestore.ErrClosed)
}

// recoverStore reopens a broken store; it runs on the stream's executor and reports whether
// the stream has a usable store again. Whatever was written but never made durable may be
// gone afterwards, as after a crash; nothing acknowledged is.
func (st *streamActor) recoverStore(cause error) bool {
	if st.phase != streamRunning || !storeBroken(cause) || st.fsm.Config().Storage == jsapi.MemoryStorage {
		return false
	}
	e := st.svc().env
	e.Probe.Hit("jetstream.stream.store-reopened")
	e.Log.Logf(env.LevelWarn, "jetstream: stream %s/%s: reopening its store: %v", st.acc.name, st.name, cause)
	if err := st.fsm.Store().Close(); err != nil && !errors.Is(err, filestore.ErrClosed) {
		e.Log.Logf(env.LevelWarn, "jetstream: stream %s/%s: close the failed store: %v", st.acc.name, st.name, err)
	}
	cfg := st.fsm.Config()
	store, err := st.openStore(cfg)
	if err != nil {
		e.Log.Logf(env.LevelError, "jetstream: stream %s/%s: reopen its store: %v", st.acc.name, st.name, err)
		return false
	}
	st.fsm = stream.New(cfg, store, st.svc().now().UnixNano())
	st.purged() // consumers skip what the failure took back
	return true
}

// checkStore reopens the store if a failed mutation broke it. It runs as a posted function,
// never inside the store's own completion.
func (st *streamActor) checkStore() {
	if st.phase != streamRunning {
		return
	}
	if err := st.fsm.Store().Err(); storeBroken(err) {
		st.recoverStore(err)
	}
}
