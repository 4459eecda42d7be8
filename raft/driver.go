package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// FSM is the replicated state machine a Node applies committed entries to. Its methods run
// on the node's executor. Apply must be deterministic: every member applies the same
// entries in the same order and must reach the same state. Snapshot and Restore move the
// whole state; Restore(Snapshot()) must give back an identical machine.
type FSM interface {
	Apply(index env.Index, data []byte) any
	Snapshot() ([]byte, error)
	Restore(data []byte) error
}

// Transport carries messages to other members. Send must not block; it may drop messages
// (raft retries), but must not reorder messages to one member unless it also may drop
// them.
type Transport interface {
	Send(msgs []Message)
}

// Observer watches a member from inside, for checkers in tests and in the simulator. Its
// methods run on the node's executor.
type Observer interface {
	// Persisted: rd's hard state, entries and snapshot are durable and visible in storage,
	// and rd's messages are about to be sent. At boot it is called once with what recovery
	// found (hard state and entries, no messages).
	Persisted(id ID, rd *Ready, storage *MemoryStorage)
	// Applied: e was applied to the state machine.
	Applied(id ID, e *Entry)
	// Restored: the state machine was replaced by a snapshot (at boot, or from the leader).
	Restored(id ID, meta SnapshotMeta)
}

// RecoveryObserver, if an Observer also implements it, is told at boot what WAL recovery
// kept and dropped, and the error if it refused (a *WALDamageError carries the report too),
// before the member starts or halts.
type RecoveryObserver interface {
	Recovered(id ID, rec WALRecovery, err error)
}

// InstallObserver, if an Observer also implements it, is shown a Ready that installs a
// snapshot from the leader before it is persisted, with the storage still holding the log
// the snapshot replaces (so a checker can tell what the member held).
type InstallObserver interface {
	Installing(id ID, meta SnapshotMeta, storage *MemoryStorage)
}

// Errors given to Node callbacks.
var (
	// ErrProposalLost: another entry was committed where the proposal was appended, so it
	// will never be applied.
	ErrProposalLost = errors.New("raft: proposal lost to a new leader")
	// ErrOutcomeUnknown: a snapshot replaced the log past the proposal, so whether it was
	// applied cannot be told.
	ErrOutcomeUnknown = errors.New("raft: proposal outcome unknown")
	// ErrReadFailed: the read index could not be confirmed (leadership changed or the
	// request timed out); the read was not served, retry.
	ErrReadFailed = errors.New("raft: read index not confirmed")
)

// NotLeaderError says the member does not lead, and who it believes does (None if
// unknown). It matches ErrNotLeader with errors.Is.
type NotLeaderError struct{ Leader ID }

func (e NotLeaderError) Error() string {
	return fmt.Sprintf("raft: not the leader (leader %d)", e.Leader)
}
func (e NotLeaderError) Is(t error) bool { return t == ErrNotLeader }

// NodeConfig configures a Node.
type NodeConfig struct {
	ID ID
	// Dir holds the member's state: Dir/wal and Dir/snap.
	Dir string
	// Bootstrap is the group's first configuration, used only when Dir holds no state yet.
	// A member that will join an existing group starts with the empty configuration and is
	// added by the leader (as a learner).
	Bootstrap ConfState
	// TickInterval is the length of one raft tick of the node's monotonic clock.
	TickInterval                  time.Duration
	ElectionTicks, HeartbeatTicks int
	PreVote, CheckQuorum          bool
	// SnapshotEntries: take a snapshot after this many applied entries; CatchUpEntries:
	// entries kept in the log behind a snapshot so slow followers catch up without one.
	SnapshotEntries uint64
	CatchUpEntries  uint64
	// ReadTimeoutTicks fails a ReadIndex that is not confirmed within that many ticks.
	ReadTimeoutTicks int
	WALSegmentBytes  int64
	// Limits passed to the protocol (zero: defaults).
	MaxMsgBytes, MaxInflightBytes, SnapshotChunkBytes uint64
	MaxInflightMsgs                                   int
	Observer                                          Observer
	// Executor, if set, is the executor the node runs on (else it makes its own). A
	// transport that shares it can write to the network inside Send, with nothing queued
	// between the member's persist and the bytes leaving.
	Executor env.Executor
}

// Driver defaults and bounds.
const (
	defaultSnapshotEntries  = 10000
	defaultCatchUpEntries   = 1000
	defaultReadTimeoutTicks = 50
	// maxPendingProposals bounds proposals awaiting their outcome on one member; past it
	// proposals are refused (the caller retries) rather than queued without bound.
	maxPendingProposals = 8192
	// maxPendingReadRequests bounds ReadIndex requests awaiting confirmation.
	maxPendingReadRequests = 8192
)

// Node runs one raft member on an env.Env: it owns an executor, ticks from the node's
// clock, persists each Ready to its WAL and snapshot store before sending the messages that
// depend on it, applies committed entries to the FSM and answers proposals and reads. Every
// method may be called from any executor: it posts to the node's.
type Node struct {
	e       *env.Env
	ex      env.Executor
	cfg     NodeConfig
	fsm     FSM
	tr      Transport
	rn      *RawNode
	storage *MemoryStorage
	wal     *WAL
	snaps   *SnapStore

	applied     env.Index
	appliedConf ConfState
	snapIndex   env.Index // newest snapshot on disk
	olderSnap   env.Index // the one kept behind it: the WAL reaches back to here
	lead        ID
	state       StateType

	proposals map[env.Index]pendingProposal
	reads     map[string]*pendingRead
	readSeq   uint64
	readNonce [8]byte // per incarnation, so a late answer to a past life's read is ignored

	readyPosted bool
	stopped     bool
	ticker      env.Timer
}

type pendingProposal struct {
	term env.Term
	done func(result any, err error)
}

type pendingRead struct {
	index    env.Index // 0 until confirmed
	deadline int       // ticks left before it fails
	done     func(error)
}

// Start builds a Node and posts its recovery to a new executor. A failure to recover (an
// I/O error, corruption) halts the node through env.Halt.
func Start(e *env.Env, cfg NodeConfig, fsm FSM, tr Transport) *Node {
	n := &Node{e: e, ex: cfg.Executor, cfg: cfg, fsm: fsm, tr: tr,
		proposals: map[env.Index]pendingProposal{}, reads: map[string]*pendingRead{}}
	if n.ex == nil {
		n.ex = e.Exec.New(fmt.Sprintf("raft-%d", cfg.ID))
	}
	if n.cfg.SnapshotEntries == 0 {
		n.cfg.SnapshotEntries = defaultSnapshotEntries
	}
	if n.cfg.CatchUpEntries == 0 {
		n.cfg.CatchUpEntries = defaultCatchUpEntries
	}
	if n.cfg.ReadTimeoutTicks == 0 {
		n.cfg.ReadTimeoutTicks = defaultReadTimeoutTicks
	}
	e.Rand.Fill(n.readNonce[:])
	n.ex.Post(n.boot)
	return n
}

func (n *Node) halt(err error) { env.Halt(fmt.Errorf("raft %d: %w", n.cfg.ID, err)) }

func (n *Node) boot() {
	fs := n.e.FS
	snaps, err := OpenSnapStore(fs, path.Join(n.cfg.Dir, "snap"))
	if err != nil {
		n.halt(err)
	}
	n.snaps = snaps
	base, err := n.loadBase()
	if err != nil {
		n.halt(err)
	}
	wal, st, err := OpenWAL(fs, path.Join(n.cfg.Dir, "wal"), base.Meta, n.cfg.WALSegmentBytes)
	n.recovered(wal, err)
	if err != nil {
		n.halt(err)
	}
	n.wal = wal
	n.storage = NewMemoryStorage(base.Meta.Conf)
	if err := n.storage.ApplySnapshot(base); err != nil {
		n.halt(err)
	}
	if err := n.storage.Append(st.Entries); err != nil {
		n.halt(err)
	}
	n.storage.SetHardState(st.Hard)
	if err := n.fsm.Restore(base.Data); err != nil {
		n.halt(fmt.Errorf("restore snapshot %d: %w", base.Meta.Index, err))
	}
	n.applied, n.appliedConf = base.Meta.Index, base.Meta.Conf.clone()
	if o := n.cfg.Observer; o != nil {
		// What recovery found is durable state: show it as such, so checkers see a commit
		// index (and entries) that a failed Save made durable before the halt.
		o.Persisted(n.cfg.ID, &Ready{HardState: st.Hard, HasHardState: true, Entries: st.Entries}, n.storage)
		o.Restored(n.cfg.ID, base.Meta)
	}
	rn, err := NewRawNode(Config{
		ID: n.cfg.ID, Storage: n.storage, ElectionTicks: n.cfg.ElectionTicks, HeartbeatTicks: n.cfg.HeartbeatTicks,
		Applied: base.Meta.Index, PreVote: n.cfg.PreVote, CheckQuorum: n.cfg.CheckQuorum,
		MaxMsgBytes: n.cfg.MaxMsgBytes, MaxInflightMsgs: n.cfg.MaxInflightMsgs, MaxInflightBytes: n.cfg.MaxInflightBytes,
		SnapshotChunkBytes: n.cfg.SnapshotChunkBytes, Rand: n.e.Rand, Log: n.e.Log, Probe: n.e.Probe,
	})
	if err != nil {
		n.halt(err)
	}
	n.rn = rn
	n.e.Log.Logf(env.LevelInfo, "raft %d: recovered snapshot %d/%d, %d entries, term %d, commit %d",
		n.cfg.ID, base.Meta.Term, base.Meta.Index, len(st.Entries), st.Hard.Term, st.Hard.Commit)
	n.ticker = n.e.Clock.AfterFunc(n.cfg.TickInterval, n.ex, n.tick)
	n.scheduleReady()
}

// recovered counts and reports what WAL recovery did (wal is nil when it refused).
func (n *Node) recovered(wal *WAL, err error) {
	var rec WALRecovery
	var dmg *WALDamageError
	switch {
	case wal != nil:
		rec = wal.Recovery()
	case errors.As(err, &dmg):
		rec = dmg.Recovery
		n.e.Probe.Hit("raft.wal.rotten-record")
	}
	for _, s := range rec.Segments {
		if s.Torn != "" {
			n.e.Probe.Hit("raft.wal.torn-tail")
			n.e.Log.Logf(env.LevelWarn, "raft %d: wal %s: cut a torn tail of %d bytes at %d: %s", n.cfg.ID, s.Name, s.Dropped(), s.Kept, s.Torn)
		}
		if s.Repaired > 0 {
			n.e.Probe.Hit("raft.wal.mirror-repair")
		}
		if s.Header {
			n.e.Probe.Hit("raft.wal.torn-create")
		}
	}
	if o, ok := n.cfg.Observer.(RecoveryObserver); ok {
		o.Recovered(n.cfg.ID, rec, err)
	}
}

// loadBase finds the newest readable snapshot; a member with no state at all gets its
// bootstrap snapshot (index 0: the bootstrap configuration and an empty state machine).
func (n *Node) loadBase() (Snapshot, error) {
	list, bad, err := n.snaps.Load()
	if err != nil {
		return Snapshot{}, err
	}
	if bad > 0 {
		n.e.Probe.Hit("raft.snap.rotten")
		n.e.Log.Logf(env.LevelWarn, "raft %d: %d snapshot files do not verify", n.cfg.ID, bad)
	}
	if len(list) > 0 {
		n.snapIndex = list[0].Meta.Index
		if len(list) > 1 {
			n.olderSnap = list[1].Meta.Index
		}
		return list[0], nil
	}
	names, err := n.e.FS.List(path.Join(n.cfg.Dir, "wal"))
	if err == nil && len(names) > 0 {
		return Snapshot{}, fmt.Errorf("%w: a WAL exists but no snapshot is readable", ErrCorrupt)
	}
	data, err := n.fsm.Snapshot()
	if err != nil {
		return Snapshot{}, fmt.Errorf("snapshot of the empty state machine: %w", err)
	}
	base := Snapshot{Meta: SnapshotMeta{Conf: n.cfg.Bootstrap.clone()}, Data: data}
	if err := n.snaps.Save(base); err != nil {
		return Snapshot{}, err
	}
	return base, nil
}

func (n *Node) tick() {
	if n.stopped {
		return
	}
	n.rn.Tick()
	for _, ctx := range sortedReadKeys(n.reads) {
		if rd := n.reads[ctx]; rd.index == 0 {
			if rd.deadline--; rd.deadline <= 0 {
				delete(n.reads, ctx)
				rd.done(ErrReadFailed)
			}
		}
	}
	n.ticker = n.e.Clock.AfterFunc(n.cfg.TickInterval, n.ex, n.tick)
	n.scheduleReady()
}

// scheduleReady posts one Ready round after whatever is queued now, so inputs that arrive
// together share one WAL sync (group commit).
func (n *Node) scheduleReady() {
	if !n.readyPosted && !n.stopped {
		n.readyPosted = true
		n.ex.Post(n.handleReady)
	}
}

// Step delivers messages from other members, in order.
func (n *Node) Step(msgs ...Message) {
	n.ex.Post(func() {
		if n.stopped || n.rn == nil {
			return
		}
		for _, m := range msgs {
			if err := n.rn.Step(m); err != nil && n.e.Log.Enabled(env.LevelDebug) {
				n.e.Log.Logf(env.LevelDebug, "raft %d: step %v: %v", n.cfg.ID, m.Type, err)
			}
		}
		n.scheduleReady()
	})
}

// ReportUnreachable tells the member that messages to id were lost.
func (n *Node) ReportUnreachable(id ID) {
	n.ex.Post(func() {
		if !n.stopped && n.rn != nil {
			n.rn.ReportUnreachable(id)
		}
	})
}

// Stop stops ticking and ignores further input; pending callbacks are never called.
func (n *Node) Stop() {
	n.ex.Post(func() {
		n.stopped = true
		if n.ticker != nil {
			n.ticker.Stop()
		}
	})
}

// readContext is a fresh ReadIndex request id: this incarnation's nonce and a counter.
func (n *Node) readContext() []byte {
	n.readSeq++
	ctx := append([]byte(nil), n.readNonce[:]...)
	return binary.BigEndian.AppendUint64(ctx, n.readSeq)
}
