package jetstream

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/subject"
)

// STREAM.SNAPSHOT, as clients (jsm.go, natscli's `nats stream backup`) expect it: the
// request names a deliver subject; the answer carries the stream's configuration and state;
// then the snapshot flows to the deliver subject in chunks, each with a reply subject
// $JS.SNAPSHOT.ACK.<stream>.<id>.<bytes>.<index> that the client answers to open the window
// for one more chunk; an empty message with a status header ends it (204: complete; 408:
// the client went away or stopped answering; 500: the snapshot failed).
//
// The snapshot is taken in one turn of the stream's executor (so it is one consistent point
// of the stream: messages, sequence range and every consumer's state), then compressed and
// sent from its own executor, so a slow client never holds up the stream.

// Snapshot limits (nats-server's numbers where it has them).
const (
	// SnapshotBytesMax bounds a snapshot's uncompressed size: it is built whole in memory,
	// so this is the memory one backup (or one restore) may pin.
	SnapshotBytesMax = 1 << 30
	// snapshotConsumersMax bounds the consumers a snapshot may carry (a decoder bound).
	snapshotConsumersMax = 1 << 16
	// Chunk and window sizes: the defaults and the clamps nats-server applies to a
	// request's chunk_size and window_size.
	snapshotChunkDefault  = 128 << 10
	snapshotChunkMin      = 1 << 10
	snapshotChunkMax      = 1 << 20
	snapshotWindowDefault = 8 << 20
	snapshotWindowMin     = 1 << 10
	snapshotWindowMax     = 32 << 20
	// snapshotAckTimeout: a client that answers no chunk for this long has stalled.
	snapshotAckTimeout = 5 * time.Second
	// snapshotInterestWait is how long the deliver subject may take to gain a subscriber:
	// clients subscribe only once they have the answer.
	snapshotInterestWait = 2 * time.Second
	// snapshotInterestPoll is how often interest is looked for meanwhile.
	snapshotInterestPoll = 10 * time.Millisecond
	// snapshotIDLength is the random token naming one snapshot's ack subjects.
	snapshotIDLength = 10
)

// streamSnapshot answers STREAM.SNAPSHOT and starts the chunk flow.
func (a *account) streamSnapshot(m bus.Msg, args []string) {
	typ := jsapi.StreamSnapshotType
	if len(bytes.TrimSpace(m.Data)) == 0 {
		a.replyError(m.Reply, typ, jsapi.E(jsapi.ErrBadRequest))
		return
	}
	st := a.stream(m, args[0], typ)
	if st == nil {
		return
	}
	var req jsapi.SnapshotRequest
	if e := decode(m.Data, &req); e != nil {
		a.replyError(m.Reply, typ, e)
		return
	}
	if !subject.ValidPublish(req.DeliverSubject) {
		a.replyError(m.Reply, typ, jsapi.E(jsapi.ErrSnapshotDeliverSubjectInvalid))
		return
	}
	id := env.Token(a.svc.env.Rand, snapshotIDLength)
	st.post(func() { st.snapshot(m.Reply, req, id) })
}

// replyErrorFrom answers with an error from another executor than the service's (which
// owns the error count).
func (a *account) replyErrorFrom(reply, typ string, e *jsapi.Error) {
	a.svc.ex.Post(func() { a.replyError(reply, typ, e) })
}

// snapshot takes the stream's snapshot on its executor and hands it to a sender.
func (st *streamActor) snapshot(reply string, req jsapi.SnapshotRequest, id string) {
	a, typ := st.acc, jsapi.StreamSnapshotType
	store := st.fsm.Store()
	if req.CheckMsgs {
		if damage := store.Damage(); len(damage) > 0 {
			a.replyErrorFrom(reply, typ, jsapi.NewError(jsapi.ErrStreamSnapshot, "stream has damage: "+damage[0].String()))
			return
		}
	}
	if b := store.State().Bytes; b > SnapshotBytesMax {
		a.replyErrorFrom(reply, typ, jsapi.NewError(jsapi.ErrStreamSnapshot,
			fmt.Sprintf("stream holds %d bytes, more than a snapshot takes (%d)", b, SnapshotBytesMax)))
		return
	}
	snap := &Snapshot{Config: st.fsm.Config(), Created: st.created}
	var buf bytes.Buffer
	if err := store.Snapshot(&buf); err != nil {
		a.replyErrorFrom(reply, typ, jsapi.NewError(jsapi.ErrStreamSnapshot, err.Error()))
		return
	}
	snap.Store = buf.Bytes()
	if !req.NoConsumers {
		snap.Consumers = st.consumerSnapshots()
	}
	cfg, state := snap.Config, st.state(nil)
	resp := &jsapi.SnapshotResponse{Response: jsapi.Response{Type: typ}, Config: &cfg, State: &state}
	s := newSnapshotSender(st, req, id)
	s.ex.Post(func() { s.start(reply, resp, snap) })
}

// consumerSnapshots are the stream's consumers' definitions and states, by name.
func (st *streamActor) consumerSnapshots() []SnapshotConsumer {
	out := make([]SnapshotConsumer, 0, len(st.consumers))
	for _, name := range sortedKeys(st.consumers) {
		c := st.consumers[name]
		out = append(out, SnapshotConsumer{Name: c.name, Config: c.cfg, Created: c.created, State: c.fsm.State()})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// snapshotSender sends one snapshot's chunks. It lives on its own executor; everything it
// holds is its own (of the account it uses only what is safe from any executor: its name,
// the bus, the Env, reply and replyErrorFrom).
type snapshotSender struct {
	acc     *account
	svc     *Service
	ex      env.Executor
	account string
	deliver string
	ackSubj string // acks arrive on ackSubj.<bytes>.<index>
	chunk   int
	window  int // chunks that may be unanswered
	// Invariant: 0 <= unacked <= window; sent <= len(data).
	data    []byte
	sent    int
	index   int
	unacked int
	ackSub  bus.Subscription
	timer   env.Timer
	since   time.Duration // when waiting for interest began
	done    bool
}

func newSnapshotSender(st *streamActor, req jsapi.SnapshotRequest, id string) *snapshotSender {
	chunk, window := req.ChunkSize, req.WindowSize
	if chunk <= 0 {
		chunk = snapshotChunkDefault
	}
	if window <= 0 {
		window = snapshotWindowDefault
	}
	chunk = min(max(chunk, snapshotChunkMin), snapshotChunkMax)
	window = max(min(max(window, snapshotWindowMin), snapshotWindowMax), chunk)
	return &snapshotSender{acc: st.acc, svc: st.svc(), ex: st.svc().env.Exec.New("snapshot/" + st.acc.name + "/" + st.name),
		account: st.acc.name, deliver: req.DeliverSubject, ackSubj: jsapi.SnapshotAck + st.name + "." + id,
		chunk: chunk, window: window / chunk}
}

// start compresses the snapshot, answers the request and begins sending once the deliver
// subject has a subscriber.
func (s *snapshotSender) start(reply string, resp *jsapi.SnapshotResponse, snap *Snapshot) {
	data, err := EncodeSnapshot(snap)
	if err == nil {
		s.ackSub, err = s.svc.bus.SubscribeOn(s.account, s.ackSubj+".>", "", s.ex, s.ack)
	}
	if err != nil {
		s.done = true
		s.acc.replyErrorFrom(reply, jsapi.StreamSnapshotType, jsapi.NewError(jsapi.ErrStreamSnapshot, err.Error()))
		return
	}
	s.data = data
	s.acc.reply(reply, resp)
	s.since = s.svc.env.Clock.Mono()
	s.waitInterest()
}

// waitInterest sends once the deliver subject has a subscriber, or gives up after
// snapshotInterestWait.
func (s *snapshotSender) waitInterest() {
	switch {
	case s.done:
	case s.svc.bus.HasSubscription(s.account, s.deliver):
		s.pump()
	case s.svc.env.Clock.Mono()-s.since >= snapshotInterestWait:
		s.finish(408, "No Interest")
	default:
		s.timer = s.svc.env.Clock.AfterFunc(snapshotInterestPoll, s.ex, s.waitInterest)
	}
}

// pump sends chunks while the window allows, and ends the flow after the last one.
func (s *snapshotSender) pump() {
	for !s.done && s.unacked < s.window && s.sent < len(s.data) {
		if !s.svc.bus.HasSubscription(s.account, s.deliver) {
			s.finish(408, "No Interest")
			return
		}
		n := min(s.chunk, len(s.data)-s.sent)
		s.index++
		ackReply := s.ackSubj + "." + strconv.Itoa(n) + "." + strconv.Itoa(s.index)
		s.svc.bus.Publish(s.account, s.deliver, ackReply, nil, s.data[s.sent:s.sent+n])
		s.sent += n
		s.unacked++
	}
	env.Assertf(s.unacked <= s.window && s.sent <= len(s.data), "jetstream: snapshot sender window %d/%d, sent %d/%d",
		s.unacked, s.window, s.sent, len(s.data))
	if s.done {
		return
	}
	if s.sent == len(s.data) {
		s.finish(204, "")
		return
	}
	s.armAckTimer()
}

// armAckTimer ends the flow if no ack arrives for snapshotAckTimeout.
func (s *snapshotSender) armAckTimer() {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = s.svc.env.Clock.AfterFunc(snapshotAckTimeout, s.ex, func() {
		if !s.done {
			s.finish(408, "No Flow Response")
		}
	})
}

// ack frees one window slot.
func (s *snapshotSender) ack(bus.Msg) {
	if s.done || s.unacked == 0 {
		return
	}
	s.unacked--
	s.pump()
}

// finish sends the closing status and lets everything go.
func (s *snapshotSender) finish(code int, text string) {
	env.Assertf(!s.done, "jetstream: snapshot to %s finished twice", s.deliver)
	s.done = true
	s.svc.bus.Publish(s.account, s.deliver, "", proto.StatusHeader(code, text), nil)
	if s.ackSub != nil {
		s.ackSub.Unsubscribe()
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.data = nil
	if code != 204 {
		s.svc.env.Log.Logf(env.LevelWarn, "jetstream: snapshot of account %s to %s ended: %d %s", s.account, s.deliver, code, text)
	}
}
