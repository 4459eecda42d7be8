package jetstream

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	fconsumer "github.com/petrel-io/petrel/fsm/consumer"
	"github.com/petrel-io/petrel/fsm/stream"
)

// STREAM.RESTORE, as clients (jsm.go, `nats stream restore`) drive it: the request carries
// the stream's configuration (and the state the backup recorded); the answer names a
// subject, $JS.SNAPSHOT.RESTORE.<stream>.<id>, to which the client sends the snapshot in
// chunks, each a request answered with an empty message; an empty chunk ends it, and is
// answered with a stream_create_response: the new stream's info, or the error.
//
// All or nothing: the chunks are gathered on the restore's own executor; the whole snapshot
// is decompressed and verified (container, definition, every consumer state, the store's
// records) before anything is created. Then the stream is created durably: its directory is
// first marked deleted (so a crash at any point before the restore is answered makes the
// next start remove it, see recover), its definition written, the store restored and its
// consumers made in one turn of the stream's executor; the stream takes no publishes until
// the restored store is durable, and only then is the mark removed and the restore answered.
// Any failure on the way removes the stream and its files.

// Restore limits.
const (
	// restoreBytesMax bounds the compressed bytes one restore gathers (an S2 stream of a
	// snapshot of at most SnapshotBytesMax, incompressible at worst).
	restoreBytesMax = SnapshotBytesMax + SnapshotBytesMax/16
	// restoreStallTimeout ends a restore whose client sent nothing for this long
	// (nats-server's).
	restoreStallTimeout = 5 * time.Second
)

// streamRestore answers STREAM.RESTORE with the subject to send the snapshot to.
func (a *account) streamRestore(m bus.Msg, args []string) {
	typ, name := jsapi.StreamRestoreType, args[0]
	if len(bytes.TrimSpace(m.Data)) == 0 {
		a.replyError(m.Reply, typ, jsapi.E(jsapi.ErrBadRequest))
		return
	}
	var req jsapi.RestoreRequest
	if e := decode(m.Data, &req); e != nil {
		a.replyError(m.Reply, typ, e)
		return
	}
	cfg, e := a.restoreConfig(name, req.Config)
	if e != nil {
		a.replyError(m.Reply, typ, e)
		return
	}
	r := &restoreReceiver{acc: a, cfg: cfg, ex: a.svc.env.Exec.New("restore/" + a.name + "/" + name),
		subject: jsapi.RestorePrefix + name + "." + env.Token(a.svc.env.Rand, snapshotIDLength)}
	sub, err := a.svc.bus.SubscribeOn(a.name, r.subject, "", r.ex, r.chunk)
	if err != nil {
		a.replyError(m.Reply, typ, jsapi.NewError(jsapi.ErrRestoreSubscribeFailed, r.subject, err.Error()))
		return
	}
	r.ex.Post(func() {
		r.sub, r.active = sub, r.mono()
		r.armStall()
	})
	a.reply(m.Reply, &jsapi.RestoreResponse{Response: jsapi.Response{Type: typ}, DeliverSubject: r.subject})
}

// restoreConfig checks a restore's configuration as nats-server does, in its order: the
// names, the configuration, the account's limits, then a stream of that name.
func (a *account) restoreConfig(name string, cfg jsapi.StreamConfig) (jsapi.StreamConfig, *jsapi.Error) {
	if cfg.Name == "" {
		cfg.Name = name
	}
	switch {
	case cfg.Name != name:
		return cfg, jsapi.E(jsapi.ErrStreamMismatch)
	case strings.ContainsAny(name, `\/`):
		return cfg, jsapi.E(jsapi.ErrStreamNameContainsPathSeparators)
	}
	if e := cfg.Check(a.checkOptions()); e != nil {
		return cfg, e
	}
	jsapi.SetStaticStreamMetadata(&cfg)
	if e := a.admitRestore(cfg); e != nil {
		return cfg, e
	}
	return cfg, nil
}

// admitRestore holds a restored stream to the account's limits and to its name being free
// (an offline stream's name is not: its data is kept under it).
func (a *account) admitRestore(cfg jsapi.StreamConfig) *jsapi.Error {
	if e := a.admitStream(cfg, ""); e != nil {
		return e
	}
	if _, offline := a.offline[cfg.Name]; offline || a.streams[cfg.Name] != nil {
		return jsapi.E(jsapi.ErrStreamNameExistRestoreFailed)
	}
	return nil
}

// restoreReceiver gathers one restore's chunks on its own executor.
type restoreReceiver struct {
	acc     *account
	ex      env.Executor
	cfg     jsapi.StreamConfig // checked on the service's executor; read-only here
	subject string
	sub     bus.Subscription
	data    []byte
	active  time.Duration // when the last chunk arrived
	timer   env.Timer
	done    bool
}

func (r *restoreReceiver) mono() time.Duration { return r.acc.svc.env.Clock.Mono() }

// chunk takes one message on the restore subject.
func (r *restoreReceiver) chunk(m bus.Msg) {
	if r.done {
		return
	}
	switch {
	case m.Reply == "":
		r.stop(fmt.Sprintf("a chunk came without a reply subject after %d bytes", len(r.data)))
	case len(m.Data) == 0:
		r.stop("")
		r.finish(m.Reply)
	case len(r.data)+len(m.Data) > restoreBytesMax:
		r.stop("snapshot too large")
		r.acc.replyErrorFrom(m.Reply, jsapi.StreamCreateType, jsapi.NewError(jsapi.ErrStreamRestore,
			fmt.Sprintf("snapshot larger than %d bytes", restoreBytesMax)))
	default:
		r.data = append(r.data, m.Data...)
		r.active = r.mono()
		r.acc.svc.bus.Publish(r.acc.name, m.Reply, "", nil, nil)
	}
}

// armStall ends the restore once no chunk arrived for restoreStallTimeout.
func (r *restoreReceiver) armStall() {
	wait := restoreStallTimeout - (r.mono() - r.active)
	if wait <= 0 {
		r.stop("stalled")
		return
	}
	r.timer = r.acc.svc.env.Clock.AfterFunc(wait, r.ex, func() {
		if !r.done {
			r.armStall()
		}
	})
}

// stop ends the gathering; why, when not empty, is logged as the restore's failure.
func (r *restoreReceiver) stop(why string) {
	r.done = true
	if r.sub != nil {
		r.sub.Unsubscribe()
	}
	if r.timer != nil {
		r.timer.Stop()
	}
	if why != "" {
		r.data = nil
		r.acc.svc.env.Log.Logf(env.LevelWarn, "jetstream: restore of stream %s/%s failed: %s", r.acc.name, r.cfg.Name, why)
	}
}

// finish verifies everything the client sent and hands it to the service's executor.
func (r *restoreReceiver) finish(reply string) {
	data := r.data
	r.data = nil
	snap, err := DecodeSnapshot(data, SnapshotBytesMax)
	if err == nil && snap.Config.Name != r.cfg.Name {
		err = fmt.Errorf("the snapshot is of stream %q", snap.Config.Name)
	}
	if err != nil {
		r.acc.svc.env.Log.Logf(env.LevelWarn, "jetstream: restore of stream %s/%s refused: %v", r.acc.name, r.cfg.Name, err)
		r.acc.replyErrorFrom(reply, jsapi.StreamCreateType, jsapi.NewError(jsapi.ErrStreamRestore, err.Error()))
		return
	}
	a, job := r.acc, &restoreJob{reply: reply, cfg: r.cfg}
	a.svc.ex.Post(func() { a.createRestored(job, snap) })
}

// restoreJob is a verified restore on its way to becoming a stream.
type restoreJob struct {
	reply string
	cfg   jsapi.StreamConfig
	// answered: the client has its answer (it gets exactly one). Set on the stream's
	// executor once the job is there.
	answered bool
}

// createRestored checks the verified snapshot against the account as it is now, then makes
// the stream: directory marked deleted, definition, then the content on its executor.
func (a *account) createRestored(job *restoreJob, snap *Snapshot) {
	cfg := job.cfg
	fail := func(e *jsapi.Error) { a.replyError(job.reply, jsapi.StreamCreateType, e) }
	if e := a.admitRestore(cfg); e != nil {
		fail(e)
		return
	}
	if e := a.checkRestoredConsumers(cfg, snap.Consumers); e != nil {
		fail(e)
		return
	}
	created := snap.Created
	if created.IsZero() {
		created = a.svc.now().UTC()
	}
	st := newStreamActor(a, cfg, created)
	fsys := a.svc.env.FS
	err := fsys.MkdirAll(st.dir)
	if err == nil {
		err = fsys.SyncDir(path.Dir(st.dir))
	}
	if err == nil {
		err = markDeleted(fsys, st.dir)
	}
	if err == nil {
		err = writeMeta(fsys, st.dir, streamMeta{Config: cfg, Created: created})
	}
	if err != nil {
		a.removeStreamFiles(st.dir)
		fail(jsapi.NewError(jsapi.ErrStreamRestore, err.Error()))
		return
	}
	a.streams[cfg.Name] = st
	st.ex.Post(func() { st.restore(job, snap) })
}

// checkRestoredConsumers holds the snapshot's consumers to the restored stream's
// configuration (the account's consumer limit is held as each is made).
func (a *account) checkRestoredConsumers(cfg jsapi.StreamConfig, consumers []SnapshotConsumer) *jsapi.Error {
	if cfg.MaxConsumers > 0 && len(consumers) > cfg.MaxConsumers {
		return jsapi.E(jsapi.ErrMaxConsumers)
	}
	opts := jsapi.ConsumerCheckOptions{AccountMaxAckPending: a.limits.MaxAckPending}
	for _, c := range consumers {
		ccfg := c.Config
		if e := ccfg.Check(cfg, opts); e != nil {
			return jsapi.NewError(jsapi.ErrStreamRestore, "consumer "+c.Name+": "+e.Description)
		}
	}
	return nil
}

// restore fills the new stream on its executor, in one turn: store opened and restored,
// consumers made; publishes wait (no subscriptions) until the store is durable.
func (st *streamActor) restore(job *restoreJob, snap *Snapshot) {
	if st.phase == streamClosed {
		st.deletedDuringRestore(job)
		return
	}
	if err := st.open(job.cfg); err != nil {
		st.abandonRestore(job, err)
		return
	}
	st.holdPublishes()
	store := st.fsm.Store()
	err := store.Restore(bytes.NewReader(snap.Store), func(err error) { st.restored(job, err) })
	if err != nil {
		st.abandonRestore(job, err)
		return
	}
	// The duplicate window and last msg id come from the restored messages.
	st.fsm = stream.New(job.cfg, store, st.svc().now().UnixNano())
	for _, c := range snap.Consumers {
		if err := st.restoreConsumer(c); err != nil {
			st.abandonRestore(job, fmt.Errorf("consumer %s: %w", c.Name, err))
			return
		}
	}
}

// restoreConsumer makes one consumer of a snapshot, counted against the account and, when
// it keeps state, with its definition written (its state is saved before the restore is
// answered, see restored).
func (st *streamActor) restoreConsumer(sc SnapshotConsumer) error {
	if !st.acc.reserveConsumer() {
		return errors.New("the account's consumer limit is reached")
	}
	var file *fconsumer.File
	if st.persistent(sc.Config) {
		f, _, err := st.openState(sc.Config, sc.Created)
		if err != nil {
			st.acc.consumers.Add(-1)
			return err
		}
		file = f
	}
	c, err := st.newConsumer(sc.Config, sc.Created, sc.State)
	if err != nil {
		st.acc.consumers.Add(-1)
		if file != nil {
			_ = file.Close() // nothing was saved through it; the directory goes with the stream's
		}
		return err
	}
	c.file = file
	c.fsm.SkipBelow(uint64(st.fsm.Store().State().FirstSeq))
	return nil
}

// saveConsumers makes the restored consumers' states durable and then runs done (once) on
// the stream's executor, with the first error if any.
func (st *streamActor) saveConsumers(done func(error)) {
	var files []*consumer
	for _, name := range sortedKeys(st.consumers) {
		if c := st.consumers[name]; c.file != nil {
			files = append(files, c)
		}
	}
	if len(files) == 0 {
		done(nil)
		return
	}
	left, first := len(files), error(nil)
	for _, c := range files {
		c.file.Save(c.fsm.Encode(), func(err error) {
			if err != nil && first == nil {
				first = err
			}
			if left--; left == 0 {
				done(first)
			}
		})
	}
}

// deletedDuringRestore answers a restore whose stream was deleted before it finished.
func (st *streamActor) deletedDuringRestore(job *restoreJob) {
	if !job.answered {
		job.answered = true
		st.acc.replyErrorFrom(job.reply, jsapi.StreamCreateType, jsapi.NewError(jsapi.ErrStreamRestore, "stream deleted during the restore"))
	}
}

// holdPublishes drops the subscriptions open made; subscribe takes them again.
func (st *streamActor) holdPublishes() {
	for _, s := range st.subs {
		s.Unsubscribe()
	}
	st.subs = st.subs[:0]
}

// restored runs once the restored store is durable (or failed to be); the consumers' states
// are saved next.
func (st *streamActor) restored(job *restoreJob, err error) {
	if st.phase == streamClosed {
		// Deleted meanwhile, or abandoned: whoever closed it owns its files.
		st.deletedDuringRestore(job)
		return
	}
	if err != nil {
		st.abandonRestore(job, err)
		return
	}
	st.saveConsumers(func(err error) { st.commitRestore(job, err) })
}

// commitRestore runs once the restored store and consumer states are durable: the deleted
// mark goes, the stream takes its subjects, and the restore is answered.
func (st *streamActor) commitRestore(job *restoreJob, err error) {
	if st.phase == streamClosed {
		st.deletedDuringRestore(job)
		return
	}
	fsys := st.svc().env.FS
	if err == nil {
		err = fsys.Remove(path.Join(st.dir, deletedFile))
	}
	if err == nil {
		err = fsys.SyncDir(st.dir)
	}
	if err == nil {
		err = st.subscribe(job.cfg)
	}
	if err != nil {
		st.abandonRestore(job, err)
		return
	}
	st.kick()
	for _, c := range st.consumers {
		c.arm() // redeliveries and inactivity run from now
	}
	job.answered = true
	st.acc.reply(job.reply, &jsapi.StreamCreateResponse{Response: jsapi.Response{Type: jsapi.StreamCreateType}, StreamInfo: st.info(nil)})
}

// abandonRestore removes a stream whose restore failed and answers with why. Its directory
// is still marked deleted, so a removal cut short finishes at the next start.
func (st *streamActor) abandonRestore(job *restoreJob, err error) {
	env.Assertf(!job.answered, "jetstream: restore of %s abandoned after its answer", st.name)
	job.answered = true
	st.close()
	a := st.acc
	a.removeStreamFiles(st.dir)
	a.svc.env.Log.Logf(env.LevelWarn, "jetstream: restore of stream %s/%s failed: %v", a.name, st.name, err)
	a.svc.ex.Post(func() {
		if a.streams[st.name] == st {
			delete(a.streams, st.name)
		}
		a.replyError(job.reply, jsapi.StreamCreateType, jsapi.NewError(jsapi.ErrStreamRestore, err.Error()))
	})
}
