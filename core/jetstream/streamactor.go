package jetstream

import (
	"fmt"
	"path"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/fsm/stream"
)

// streamPhase names a stream actor's life.
type streamPhase uint8

const (
	streamOpening streamPhase = iota // registered; its store is being opened
	streamRunning                    // taking publishes and requests
	streamClosed                     // closed or deleted; posts to it do nothing
)

// streamActor is one stream. Fields above the line are set before it starts and read-only;
// the rest belong to its executor.
type streamActor struct {
	acc     *account
	name    string
	dir     string
	ex      env.Executor
	created time.Time
	// cfg is the registry's copy, read and written only on the service's executor.
	cfg jsapi.StreamConfig
	// ----
	phase      streamPhase
	fsm        *stream.Stream
	subs       []bus.Subscription
	consumers  map[string]*consumer
	stateSync  env.Executor  // the consumers' state files' fsyncs (consumer_store.go)
	rewrites   rewrites      // subject transform and republish (transform.go)
	links      []*sourceLink // the mirror or the sources being copied (sources.go)
	accounted  int64         // the bytes this stream has reported to its account (usage.go)
	sched      scheduleTimer // message schedules (schedule.go)
	kickPosted bool          // a kick of the consumers is posted (kickLater)
	// batch carries the consumers' deliveries, flushed at the end of each delivery turn
	// (consumer.deliver); nil until the first.
	batch bus.Batch
	// ackScratch is where a delivery's ack subject is built; the batch copies it.
	ackScratch []byte
}

// deliveries is the stream's delivery batch.
func (st *streamActor) deliveries() bus.Batch {
	if st.batch == nil {
		st.batch = st.svc().bus.Batch()
	}
	return st.batch
}

func newStreamActor(a *account, cfg jsapi.StreamConfig, created time.Time) *streamActor {
	return &streamActor{acc: a, name: cfg.Name, dir: path.Join(a.dir, "streams", cfg.Name),
		ex: a.svc.env.Exec.New("stream/" + a.name + "/" + cfg.Name), created: created, cfg: cfg,
		consumers: map[string]*consumer{}}
}

// post runs fn on the stream's executor unless the stream is closed by then.
func (st *streamActor) post(fn func()) {
	st.ex.Post(func() {
		if st.phase == streamRunning {
			fn()
		}
	})
}

func (st *streamActor) svc() *Service { return st.acc.svc }

// open opens the store and subscribes to the stream's subjects; it runs on the stream's
// executor. On failure the stream stays out of service and err says why.
func (st *streamActor) open(cfg jsapi.StreamConfig) error {
	env.Assertf(st.phase == streamOpening, "jetstream: stream %s opened in phase %d", st.name, st.phase)
	store, err := st.openStore(cfg)
	if err != nil {
		return fmt.Errorf("jetstream: open stream %s/%s: %w", st.acc.name, st.name, err)
	}
	st.fsm = stream.New(cfg, store, st.svc().now().UnixNano())
	if cfg.FirstSeq > 1 && store.State().LastSeq == 0 {
		if _, err := store.Compact(env.Seq(cfg.FirstSeq), nil); err != nil {
			return fmt.Errorf("jetstream: stream %s: first_seq %d: %w", st.name, cfg.FirstSeq, err)
		}
	}
	if err := st.subscribe(cfg); err != nil {
		return err
	}
	st.phase = streamRunning
	st.settle()
	st.armSchedules()
	st.recoverConsumers()
	st.startSources(cfg)
	return nil
}

// openStore opens the stream's store as its configuration and the server's sync policy say.
func (st *streamActor) openStore(cfg jsapi.StreamConfig) (filestore.Store, error) {
	sc := stream.StoreConfig(cfg)
	sc.Dir, sc.Executor = path.Join(st.dir, msgsDir), st.ex
	sc.Marked = st.marked
	if st.svc().cfg.SyncInterval > 0 {
		sc.Sync, sc.SyncInterval = filestore.SyncEvery, st.svc().cfg.SyncInterval
	}
	if cfg.Storage == jsapi.MemoryStorage {
		return filestore.NewMemory(st.svc().env, sc)
	}
	return filestore.OpenFile(st.svc().env, sc)
}

// subscribe takes the stream's subjects (and its direct gets when allowed), and builds its
// transforms.
func (st *streamActor) subscribe(cfg jsapi.StreamConfig) error {
	rw, err := newRewrites(cfg)
	if err != nil {
		return fmt.Errorf("jetstream: stream %s: %w", st.name, err)
	}
	st.rewrites = rw
	for _, s := range st.subs {
		s.Unsubscribe()
	}
	st.subs = st.subs[:0]
	b := st.svc().bus
	for _, subj := range cfg.Subjects {
		sub, err := b.SubscribeOn(st.acc.name, subj, "", st.ex, st.publish)
		if err != nil {
			return fmt.Errorf("jetstream: stream %s: subscribe %q: %w", st.name, subj, err)
		}
		st.subs = append(st.subs, sub)
	}
	if cfg.AllowDirect {
		for _, subj := range []string{directPrefix + st.name, directPrefix + st.name + ".>"} {
			sub, err := b.SubscribeOn(st.acc.name, subj, directQueue, st.ex, st.directGet)
			if err != nil {
				return fmt.Errorf("jetstream: stream %s: subscribe %q: %w", st.name, subj, err)
			}
			st.subs = append(st.subs, sub)
		}
	}
	return nil
}

// publish stores a message published on one of the stream's subjects and answers it.
func (st *streamActor) publish(m bus.Msg) {
	if st.phase != streamRunning {
		return
	}
	msg := stream.Msg{Subject: st.ingestSubject(m.Subject), Header: m.Header, Data: m.Data, Time: st.svc().now().UnixNano()}
	reply, last := m.Reply, st.lastOnSubject(msg.Subject)
	st.settle() // what expired meanwhile no longer counts
	if e := st.admitPublish(msg.Subject, msg.Header, msg.Data); e != nil {
		if reply != "" {
			st.acc.replyPubAck(reply, &jsapi.PubAckResponse{Error: e, PubAck: &jsapi.PubAck{Stream: st.name}})
		}
		return
	}
	st.fsm.Apply(msg, func(r stream.Result) {
		st.afterStore(msg, r, last)
		if r.Err != nil && r.Err.ErrCode == jsapi.ErrStreamStoreFailed {
			st.post(st.checkStore) // a failed store is reopened (streamreopen.go)
		}
		switch {
		case reply == "" || st.fsm.Config().NoAck:
		case r.Staged():
			st.svc().bus.Publish(st.acc.name, reply, "", nil, nil) // a batch message kept for its commit
		default:
			st.acc.replyPubAck(reply, &jsapi.PubAckResponse{Error: r.Err, PubAck: &r.Ack})
		}
	})
	st.settle()
	st.armSchedules()
}

// afterStore does what a stored message (published or copied by a source) asks of the
// stream: its republish and, with interest retention, its release when nobody wants it.
// last is the subject's sequence before it (Nats-Last-Sequence). A committed atomic batch
// does it for each message it stored.
func (st *streamActor) afterStore(msg stream.Msg, r stream.Result, last uint64) {
	switch {
	case r.Err != nil || r.Ack.Duplicate || r.Staged():
	case r.Ack.BatchID != "":
		for _, m := range r.Batch {
			st.republish(m.Msg, m.Seq, m.Last)
		}
		for _, m := range r.Batch {
			st.releaseNew(m.Seq, m.Msg.Subject)
		}
	default:
		st.republish(msg, r.Ack.Sequence, last)
		st.releaseNew(r.Ack.Sequence, msg.Subject)
	}
	if r.Err == nil && !r.Staged() {
		st.kickLater() // consumers deliver what is durable now
	}
}

// kickLater kicks the consumers in a turn of its own: one kick serves all the completions
// of a commit.
func (st *streamActor) kickLater() {
	if st.kickPosted {
		return
	}
	st.kickPosted = true
	st.ex.Post(func() {
		st.kickPosted = false
		if st.phase == streamRunning {
			st.kick()
		}
	})
}

// marked wakes the consumers for the subject delete markers an expiry stored (a KV
// watcher sees an expired key as a purge), and republishes them.
func (st *streamActor) marked(markers []filestore.Marker) {
	if st.phase != streamRunning {
		return
	}
	st.fsm.StoredBy(markers[len(markers)-1].Seq)
	if st.rewrites.republish != nil {
		// Republished like a published message (nats-server does), with the expired
		// message as the subject's last; a marker gone already (its own TTL, a purge) is not.
		for _, mk := range markers {
			if m, err := st.fsm.Store().LoadMsg(mk.Seq); err == nil {
				st.republish(stream.Msg{Subject: m.Subject, Header: m.Header, Data: m.Data, Time: m.Time}, uint64(mk.Seq), uint64(mk.Prev))
			}
		}
	}
	st.settle()
	st.kick()
}

// close unsubscribes, closes the consumers and the store.
func (st *streamActor) close() {
	if st.phase == streamClosed {
		return
	}
	st.phase = streamClosed
	st.stopSources()
	st.stopSchedules()
	for _, s := range st.subs {
		s.Unsubscribe()
	}
	for _, c := range st.consumers {
		c.close()
	}
	st.unsettle()
	if st.fsm != nil {
		if err := st.fsm.Store().Close(); err != nil {
			st.svc().env.Log.Logf(env.LevelWarn, "jetstream: close stream %s/%s: %v", st.acc.name, st.name, err)
		}
	}
}

// state is the stream's StreamState now.
func (st *streamActor) state(req *jsapi.StreamInfoRequest) jsapi.StreamState {
	s := st.fsm.Store().State()
	first := uint64(s.FirstSeq)
	if s.LastSeq == 0 {
		first = 0 // a stream that never held a message reports 0, as nats-server does
	}
	out := jsapi.StreamState{Msgs: s.Msgs, Bytes: s.Bytes, FirstSeq: first, LastSeq: uint64(s.LastSeq),
		NumSubjects: int(s.NumSubjects), NumDeleted: int(s.NumDeleted), Consumers: len(st.consumers)}
	out.FirstTime, out.LastTime = unixTime(s.FirstTime), unixTime(s.LastTime)
	if req != nil && req.DeletedDetails {
		for _, r := range st.fsm.Store().Deleted() {
			for seq := r.First; seq <= r.Last && len(out.Deleted) < deletedDetailsMax; seq++ {
				out.Deleted = append(out.Deleted, uint64(seq))
			}
		}
	}
	if req != nil && req.SubjectsFilter != "" {
		if f, err := filestore.NewFilter(req.SubjectsFilter); err == nil {
			out.Subjects = map[string]uint64{}
			for subj, ss := range st.fsm.Store().SubjectsState(f) {
				out.Subjects[subj] = ss.Msgs
			}
		}
	}
	return out
}

// info is the stream's StreamInfo now.
func (st *streamActor) info(req *jsapi.StreamInfoRequest) *jsapi.StreamInfo {
	cfg := st.fsm.Config()
	cfg.Metadata = jsapi.DynamicMetadata(cfg.Metadata, st.svc().cfg.ServerVersion, jsapi.Level)
	return &jsapi.StreamInfo{Config: cfg, Created: st.created, State: st.state(req),
		Mirror: st.mirrorInfo(), Sources: st.sourceInfos(), TimeStamp: st.svc().now().UTC()}
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
