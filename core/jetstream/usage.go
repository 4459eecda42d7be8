package jetstream

import (
	"sync/atomic"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
)

// Usage: each account counts the bytes its streams hold, per storage, so a publish that
// would take the account past max_memory / max_storage is refused (10002, "resource limits
// exceeded for account") before it is stored, as nats-server refuses it. Streams report
// what their stores hold after each change (settle), from their own executors; the counts
// are atomics because the account's streams run concurrently.

// usage is an account's bytes in use.
type usage struct {
	mem, store atomic.Int64
}

// admits reports whether size more bytes fit within the account's limit l for the storage.
func (u *usage) admits(l *Limits, mem bool, size int64) bool {
	used, limit := &u.store, l.MaxStore
	if mem {
		used, limit = &u.mem, l.MaxMemory
	}
	return limit <= 0 || used.Load()+size <= limit
}

// settle reports the stream's stored bytes to its account after a change.
func (st *streamActor) settle() {
	if st.fsm == nil {
		return
	}
	now := int64(st.fsm.Store().State().Bytes)
	delta := now - st.accounted
	if delta == 0 {
		return
	}
	st.accounted = now
	if st.fsm.Config().Storage == jsapi.MemoryStorage {
		st.acc.usage.mem.Add(delta)
	} else {
		st.acc.usage.store.Add(delta)
	}
}

// unsettle takes the stream's bytes out of its account's count (it closed).
func (st *streamActor) unsettle() {
	if st.accounted == 0 || st.fsm == nil {
		return
	}
	if st.fsm.Config().Storage == jsapi.MemoryStorage {
		st.acc.usage.mem.Add(-st.accounted)
	} else {
		st.acc.usage.store.Add(-st.accounted)
	}
	st.accounted = 0
}

// admitPublish refuses a publish that would take the account past its limit.
func (st *streamActor) admitPublish(subject string, hdr, data []byte) *jsapi.Error {
	size := int64(filestore.MsgSize(subject, hdr, data))
	if st.acc.usage.admits(st.acc.shared.Load(), st.fsm.Config().Storage == jsapi.MemoryStorage, size) {
		return nil
	}
	return jsapi.E(jsapi.ErrAccountResourcesExceeded)
}
