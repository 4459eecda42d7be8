package jetstream

import (
	"errors"
	"io/fs"
	"path"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	fconsumer "github.com/petrel-io/petrel/fsm/consumer"
)

// Durable consumers of file streams keep their definition (obs/<name>/meta.json, written
// durably before the create is answered) and their delivered/ack state (obs/<name>/state,
// fsm/consumer.File). The state is saved once per turn of the stream's executor in which it
// changed, coalesced by File; an ack whose client asked for a confirmation (a reply
// subject: AckSync, double ack) is confirmed only once a save containing it is durable. Other
// changes may be lost in a crash, which only redelivers: delivery is at least once.
// Ephemeral consumers and those of memory streams keep nothing.

// persistent reports whether a consumer with cfg keeps its state on disk.
func (st *streamActor) persistent(cfg jsapi.ConsumerConfig) bool {
	return cfg.Durable != "" && !cfg.MemoryStorage && st.fsm.Config().Storage == jsapi.FileStorage
}

func (st *streamActor) consumerDir(name string) string { return path.Join(st.dir, consumerDir, name) }

// syncExecutor is where the stream's consumers run their state files' fsyncs.
func (st *streamActor) syncExecutor() env.Executor {
	if st.stateSync == nil {
		st.stateSync = st.svc().env.Exec.New("stream/" + st.acc.name + "/" + st.name + "/consumers")
	}
	return st.stateSync
}

// openState writes a new durable consumer's definition and opens its state file.
func (st *streamActor) openState(cfg jsapi.ConsumerConfig, created time.Time) (*fconsumer.File, fconsumer.State, error) {
	dir := st.consumerDir(cfg.Name)
	if err := writeMeta(st.svc().env.FS, dir, consumerMeta{Config: cfg, Created: created}); err != nil {
		return nil, fconsumer.State{}, err
	}
	return fconsumer.OpenFile(st.svc().env.FS, dir, st.syncExecutor(), st.ex)
}

// save schedules a save of the consumer's state at the end of this turn; confirm (if set)
// runs once a save containing the state as it is now is durable.
func (c *consumer) save(confirm func()) {
	if c.file == nil {
		if confirm != nil {
			confirm()
		}
		return
	}
	if confirm != nil {
		c.confirms = append(c.confirms, confirm)
	}
	if c.saveQueued {
		return
	}
	c.saveQueued = true
	c.st.ex.Post(c.flushState)
}

// flushState hands the state to the file; the confirmations waiting run when it is durable.
func (c *consumer) flushState() {
	c.saveQueued = false
	if c.file == nil || c.phase != consumerActive {
		return
	}
	confirms := c.confirms
	c.confirms = nil
	c.file.Save(c.fsm.Encode(), func(err error) {
		if err != nil {
			c.svc().env.Log.Logf(env.LevelWarn, "jetstream: consumer %s/%s/%s: save state: %v", c.st.acc.name, c.st.name, c.name, err)
			return // unconfirmed: the client's ack times out and it acks again
		}
		for _, fn := range confirms {
			fn()
		}
	})
}

// removeState deletes a durable consumer's files: marked deleted first, so a crash halfway
// finishes the removal at the next start; removed after the last save is done.
func (c *consumer) removeState() {
	if c.file == nil {
		return
	}
	dir, fsys := c.st.consumerDir(c.name), c.svc().env.FS
	if err := markDeleted(fsys, dir); err != nil {
		c.svc().env.Log.Logf(env.LevelWarn, "jetstream: delete consumer: %v", err)
	}
	f := c.file
	c.file = nil
	f.Save(c.fsm.Encode(), func(error) {
		if err := removeTree(fsys, dir); err != nil {
			c.svc().env.Log.Logf(env.LevelWarn, "jetstream: delete consumer: %v (finished at the next start)", err)
		}
	})
	_ = f.Close() // the save above still completes; a second Close cannot happen
}

// recoverConsumers opens the stream's durable consumers from disk. One whose definition or
// state cannot be read stays offline with its files kept, and is logged.
func (st *streamActor) recoverConsumers() {
	fsys := st.svc().env.FS
	root := path.Join(st.dir, consumerDir)
	names, err := fsys.List(root)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			st.svc().env.Log.Logf(env.LevelError, "jetstream: stream %s/%s: list consumers: %v", st.acc.name, st.name, err)
		}
		return
	}
	for _, name := range names {
		if err := st.recoverConsumer(name); err != nil {
			st.svc().env.Log.Logf(env.LevelError, "jetstream: stream %s/%s: consumer %s stays offline, its files kept: %v", st.acc.name, st.name, name, err)
		}
	}
}

func (st *streamActor) recoverConsumer(name string) error {
	fsys, dir := st.svc().env.FS, st.consumerDir(name)
	if isMarkedDeleted(fsys, dir) || unfinishedCreate(fsys, dir, path.Join(dir, fconsumer.StateFile)) {
		return removeTree(fsys, dir)
	}
	var meta consumerMeta
	if err := readMeta(fsys, dir, &meta); err != nil {
		return err
	}
	file, state, err := fconsumer.OpenFile(fsys, dir, st.syncExecutor(), st.ex)
	if err != nil {
		return err
	}
	c, err := st.newConsumer(meta.Config, meta.Created, state)
	if err != nil {
		_ = file.Close() // nothing was saved through it
		return err
	}
	c.file = file
	st.acc.consumers.Add(1)
	c.fsm.SkipBelow(uint64(st.fsm.Store().State().FirstSeq))
	c.arm()
	return nil
}
