package jetstream

import (
	"errors"
	"io/fs"
	"path"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// recover opens the account's streams from their definitions on disk. A stream marked
// deleted finishes its removal; one whose definition cannot be read stays offline, its data
// kept, and is reported (STREAM.LIST's offline, the log).
func (a *account) recover() {
	fsys := a.svc.env.FS
	root := path.Join(a.dir, "streams")
	names, err := fsys.List(root)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			a.svc.env.Log.Logf(env.LevelError, "jetstream: account %s: list streams: %v", a.name, err)
		}
		return
	}
	for _, name := range names {
		dir := path.Join(root, name)
		if isMarkedDeleted(fsys, dir) {
			a.removeStreamFiles(dir)
			continue
		}
		if a.unfinishedCreate(dir) {
			a.removeStreamFiles(dir) // a create that never got its definition down: never answered
			continue
		}
		var meta streamMeta
		if err := readMeta(fsys, dir, &meta); err != nil {
			a.offline[name] = err.Error()
			a.svc.env.Log.Logf(env.LevelError, "jetstream: account %s: stream %s stays offline, its data kept: %v", a.name, name, err)
			continue
		}
		a.recoverStream(name, meta)
	}
}

// unfinishedCreate reports a stream directory without a definition and without messages:
// a create interrupted before its definition was durable (it was not answered). One with
// messages but no definition is not this: it stays offline, its data kept.
func (a *account) unfinishedCreate(dir string) bool {
	return unfinishedCreate(a.svc.env.FS, dir, path.Join(dir, msgsDir))
}

// unfinishedCreate reports an asset directory holding no definition and no data (data is a
// file or a directory, missing or empty): the definition is written, synced and renamed
// before anything else of the asset, and before its create is answered, so such a
// directory is a create that never finished and nobody was told of.
func unfinishedCreate(fsys env.FS, dir, data string) bool {
	if _, err := fsys.Stat(path.Join(dir, metaFile)); !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	info, err := fsys.Stat(data)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true
	case err != nil || !info.IsDir:
		return false
	}
	names, err := fsys.List(data)
	return err == nil && len(names) == 0
}

func (a *account) recoverStream(name string, meta streamMeta) {
	if meta.Config.Name != name {
		a.offline[name] = "definition names stream " + meta.Config.Name
		return
	}
	a.openRecovered(name, meta, 0)
}

// openRecovered opens a recovered stream; a store that fails to open (an I/O error, a block
// it could not rewrite) leaves the stream offline and is tried again with backoff, since the
// fault may pass, up to openRetryMax times.
func (a *account) openRecovered(name string, meta streamMeta, attempt int) {
	st := newStreamActor(a, meta.Config, meta.Created)
	a.streams[name] = st
	delete(a.offline, name)
	st.ex.Post(func() {
		err := st.open(meta.Config)
		if err == nil {
			return
		}
		st.close()
		a.svc.env.Log.Logf(env.LevelError, "jetstream: %v", err)
		a.svc.ex.Post(func() {
			if a.streams[name] != st {
				return
			}
			delete(a.streams, name)
			a.offline[name] = err.Error()
			if attempt+1 < openRetryMax {
				a.svc.env.Probe.Hit("jetstream.stream.open-retry")
				a.svc.env.Clock.AfterFunc(openRetryDelay(attempt), a.svc.ex, func() { a.retryOpen(name, meta, attempt+1) })
			}
		})
	})
}

// retryOpen tries an offline stream again, unless it was deleted or the account stopped.
func (a *account) retryOpen(name string, meta streamMeta, attempt int) {
	if a.svc.accounts[a.name] != a || a.streams[name] != nil {
		return
	}
	if _, off := a.offline[name]; !off {
		return
	}
	a.openRecovered(name, meta, attempt)
}

func openRetryDelay(attempt int) time.Duration {
	return min(openRetryFirst<<attempt, openRetryLast)
}

// tier adds up the account's streams and consumers and hands the tier to done on the
// service's executor.
func (a *account) tier(done func(jsapi.Tier)) {
	streams := make([]*streamActor, 0, len(a.streams))
	for _, n := range a.matchingNames("") {
		streams = append(streams, a.streams[n])
	}
	type use struct {
		bytes     uint64
		mem       bool
		consumers int
	}
	gatherAll(a.svc, streams, func(st *streamActor) use {
		return use{bytes: st.fsm.Store().State().Bytes, mem: st.fsm.Config().Storage == jsapi.MemoryStorage, consumers: len(st.consumers)}
	}, func(uses []use) {
		t := jsapi.Tier{Streams: len(a.streams), Limits: a.limits.api()}
		for _, u := range uses {
			if u.mem {
				t.Memory += u.bytes
			} else {
				t.Store += u.bytes
			}
			t.Consumers += u.consumers
		}
		done(t)
	})
}
