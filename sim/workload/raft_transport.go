package workload

import (
	"encoding/binary"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// raftTransport carries raft messages between members over env.Net: one outbound
// connection per peer (dialled on demand, redialled after a failure), frames from
// raft.AppendFrame. TCP's promises are not enough on their own: a half-open connection
// swallows bytes silently until the user timeout. So the receiving side acknowledges the
// bytes it got (a cumulative count), and a sender whose bytes go unacknowledged for
// raftLinkStall drops the connection and dials again. Messages are dropped, never queued
// without bound, while a peer is unreachable: raft retries.
//
// The transport shares the member's executor, so Send writes to the connection at once:
// bytes a member sends are on the network before anything else it does, and a crash after
// the send still delivers them, which is what makes a message sent before the state it
// promises was persisted observable. onSend, if set, sees every batch first (the
// send-durability checker).
type raftTransport struct {
	e      *env.Env
	ex     env.Executor
	self   raft.ID
	addrs  map[raft.ID]string
	node   *raft.Node
	links  map[raft.ID]*peerLink
	onSend func(msgs []raft.Message)
	// ackBlackout drops this member's append answers to a peer until a time (a targeted
	// loss, see Raft.ackBlackout).
	ackBlackout map[raft.ID]time.Duration
}

const (
	raftPeerPort      = 7000
	raftDialTimeout   = time.Second
	raftLinkStall     = time.Second            // unacknowledged bytes this long: the link is dead
	raftAckEvery      = 100 * time.Millisecond // how soon a receiver acknowledges new bytes
	raftLinkQueueMax  = 256 << 10              // bytes buffered for a peer before drops
	raftRedialBackoff = 50 * time.Millisecond  // plus up to as much again
	raftWatchEvery    = 250 * time.Millisecond // how often a sender checks its acks
)

// peerLink is the outbound connection to one peer.
type peerLink struct {
	t       *raftTransport
	to      raft.ID
	conn    env.Conn
	dialing bool
	gen     int // bumps per connection, so stale events are ignored
	pending []byte
	sent    uint64 // bytes written on this connection
	acked   uint64 // bytes the peer acknowledged
	ackedAt time.Duration
	ackBuf  []byte
	watch   env.Timer
}

func newRaftTransport(e *env.Env, ex env.Executor, self raft.ID, addrs map[raft.ID]string) *raftTransport {
	return &raftTransport{e: e, ex: ex, self: self, addrs: addrs, links: map[raft.ID]*peerLink{},
		ackBlackout: map[raft.ID]time.Duration{}}
}

// Send implements raft.Transport. It runs on the member's executor (shared with the
// transport) and writes each peer's frames to its connection before returning.
func (t *raftTransport) Send(msgs []raft.Message) {
	if t.onSend != nil {
		t.onSend(msgs)
	}
	frames := map[raft.ID][]byte{}
	var order []raft.ID
	now := t.e.Clock.Mono()
	for i := range msgs {
		to := msgs[i].To
		if msgs[i].Type == raft.MsgAppResp && now < t.ackBlackout[to] {
			continue
		}
		if _, ok := frames[to]; !ok {
			order = append(order, to)
		}
		frames[to] = raft.AppendFrame(frames[to], &msgs[i])
	}
	for _, to := range order {
		t.send(to, frames[to])
	}
}

func (t *raftTransport) link(to raft.ID) *peerLink {
	l := t.links[to]
	if l == nil {
		l = &peerLink{t: t, to: to}
		t.links[to] = l
	}
	return l
}

func (t *raftTransport) send(to raft.ID, frame []byte) {
	if _, ok := t.addrs[to]; !ok {
		return
	}
	l := t.link(to)
	if l.conn == nil {
		if len(l.pending)+len(frame) <= raftLinkQueueMax {
			l.pending = append(l.pending, frame...)
		} else {
			t.node.ReportUnreachable(to)
		}
		l.dial()
		return
	}
	if l.conn.Buffered() > raftLinkQueueMax {
		t.node.ReportUnreachable(to) // a slow or stuck path: drop rather than queue
		return
	}
	l.write(frame)
}

func (l *peerLink) write(p []byte) {
	if l.conn.Write(p) != nil {
		l.down()
		return
	}
	if l.sent == l.acked {
		l.ackedAt = l.t.e.Clock.Mono() // the stall clock starts with the first unacked byte
	}
	l.sent += uint64(len(p))
}

func (l *peerLink) dial() {
	if l.dialing || l.conn != nil {
		return
	}
	l.dialing = true
	l.t.e.Net.Dial(l.t.addrs[l.to], raftDialTimeout, l.t.ex, func(c env.Conn, err error) {
		l.dialing = false
		if err != nil {
			l.retry()
			return
		}
		l.gen++
		l.conn, l.sent, l.acked, l.ackBuf = c, 0, 0, nil
		l.ackedAt = l.t.e.Clock.Mono()
		c.Start(l.t.ex, &linkHandler{l: l, gen: l.gen})
		pending := l.pending
		l.pending = nil
		if len(pending) > 0 {
			l.write(pending)
		}
		l.watch = l.t.e.Clock.AfterFunc(raftWatchEvery, l.t.ex, l.watchdog)
	})
}

func (l *peerLink) retry() {
	d := raftRedialBackoff + time.Duration(l.t.e.Rand.Intn(int(raftRedialBackoff)))
	l.t.e.Clock.AfterFunc(d, l.t.ex, func() {
		if l.conn == nil && len(l.pending) > 0 {
			l.dial()
		}
	})
}

// watchdog drops a connection whose bytes have gone unacknowledged too long.
func (l *peerLink) watchdog() {
	if l.conn == nil {
		return
	}
	if l.sent > l.acked && l.t.e.Clock.Mono()-l.ackedAt > raftLinkStall {
		l.conn.Abort()
		l.down()
		return
	}
	l.watch = l.t.e.Clock.AfterFunc(raftWatchEvery, l.t.ex, l.watchdog)
}

// reset drops the connection to a peer at once (the peer and raft hear of it).
func (t *raftTransport) reset(to raft.ID) {
	if l := t.links[to]; l != nil && l.conn != nil {
		l.conn.Abort()
		l.down()
	}
}

// down forgets the connection; the next message dials again.
func (l *peerLink) down() {
	if l.conn == nil {
		return
	}
	l.conn, l.pending = nil, nil
	l.gen++
	if l.watch != nil {
		l.watch.Stop()
	}
	l.t.node.ReportUnreachable(l.to)
}

// linkHandler receives the peer's acknowledgements on an outbound connection.
type linkHandler struct {
	l   *peerLink
	gen int
}

func (h *linkHandler) OnData(p []byte) {
	l := h.l
	if h.gen != l.gen {
		return
	}
	l.ackBuf = append(l.ackBuf, p...)
	for len(l.ackBuf) >= 8 {
		if n := binary.LittleEndian.Uint64(l.ackBuf); n > l.acked {
			l.acked, l.ackedAt = n, l.t.e.Clock.Mono()
		}
		l.ackBuf = l.ackBuf[8:]
	}
}

func (h *linkHandler) OnClose(error) {
	if h.gen == h.l.gen {
		h.l.down()
	}
}

// listen accepts peers' connections and steps what they carry.
func (t *raftTransport) listen() error {
	_, err := t.e.Net.Listen(portAddr(raftPeerPort), t.ex, func(c env.Conn) {
		in := &inboundLink{t: t, c: c}
		c.Start(t.ex, in)
	})
	return err
}

// inboundLink is an accepted connection: frames in, byte counts back.
type inboundLink struct {
	t        *raftTransport
	c        env.Conn
	r        raft.FrameReader
	received uint64
	ackTimer env.Timer
	closed   bool
}

func (in *inboundLink) OnData(p []byte) {
	in.received += uint64(len(p))
	var msgs []raft.Message
	err := in.r.Feed(p, func(m raft.Message) {
		if m.To == in.t.self {
			msgs = append(msgs, m)
		}
	})
	if len(msgs) > 0 {
		in.t.node.Step(msgs...)
	}
	if err != nil {
		in.closed = true
		in.c.Abort()
		return
	}
	if in.ackTimer == nil {
		in.ackTimer = in.t.e.Clock.AfterFunc(raftAckEvery, in.t.ex, in.ack)
	}
}

func (in *inboundLink) ack() {
	in.ackTimer = nil
	if !in.closed {
		// A failed write means the connection is ending; its OnClose follows.
		_ = in.c.Write(binary.LittleEndian.AppendUint64(nil, in.received))
	}
}

func (in *inboundLink) OnClose(error) {
	in.closed = true
	if in.ackTimer != nil {
		in.ackTimer.Stop()
	}
	_ = in.c.Close() // already ended by the peer; nothing to flush
}
