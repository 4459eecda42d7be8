package workload

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
	"github.com/petrel-io/petrel/sim"
)

// Raft runs a raft group (3 or 5 voters, plus 1 or 2 spare machines that join and leave)
// replicating a key-value store, under the seed's whole fault profile, while an operator
// adds learners, promotes them, removes voters and transfers leadership. Clients put, get
// (via ReadIndex) and compare-and-set over TCP, following redirects and giving up on slow
// operations (whose outcome is then unknown). The checker (raft_check.go) asserts raft's
// safety properties at every persisted Ready and every applied entry; at the end porcupine
// checks the clients' history is linearizable, and after the faults stop a leader must be
// elected and new writes committed within raftLivenessBound.
type Raft struct {
	w       *sim.World
	names   []string // member machines, by raft ID - 1
	members map[raft.ID]*raftMember
	clients []*kvClient
	check   *raftChecker
	durable *raftDurability
	hist    kvHistory

	rot        map[raft.ID]*walRot  // WAL damage awaiting recovery's verdict
	cut        map[raft.ID]int      // members the nemesis cut from their peers (not clients): how many cuts
	split      map[raft.ID]int      // leaders cut from their peers but one, fed proposals (splitLeader)
	blocked    map[[2]int]int       // the nemesis's partitions per pair of nodes: how many cuts hold
	cutReader  string               // a member cut from its peers that client 0 reads from
	blackouts  map[raft.ID]blackout // followers losing their answers to a leader (see maybeBlackout)
	rollCuts   walRollCuts          // WAL segment creations the workload cuts short (raft_roll.go)
	knobs      raftKnobs
	conf       raft.ConfState // the newest applied configuration
	confIndex  env.Index
	faultsEnd  time.Duration
	ackedAtEnd int
	stats      raftStats
}

// raftStats count what a run exercised, for tests that keep the workload honest and for
// reports.
type raftStats struct {
	leaders, installs, changes, transfers, halts int
	reads, writes, unknown                       int
}

// raftMember is the current incarnation of one member machine.
type raftMember struct {
	node *raft.Node
	fsm  *kvFSM
	tr   *raftTransport
}

const (
	raftTick          = 20 * time.Millisecond
	raftLivenessBound = 5 * time.Second
	raftLivenessAcks  = 3
)

func (r *Raft) Name() string { return "raft" }

func (r *Raft) Setup(w *sim.World) sim.Plan {
	r.w, r.members, r.rot = w, map[raft.ID]*raftMember{}, map[raft.ID]*walRot{}
	r.cut, r.split, r.blocked, r.blackouts = map[raft.ID]int{}, map[raft.ID]int{}, map[[2]int]int{}, map[raft.ID]blackout{}
	r.check = newRaftChecker(r)
	r.rollCuts = newWALRollCuts(w.Seed)
	r.durable = newRaftDurability(r)
	r.hist.written = map[string][]string{}
	rng := w.Rand()
	r.knobs = drawRaftKnobs(rng)
	voters := []int{3, 3, 5}[rng.Intn(3)] // small groups see the most leader churn
	spares := 1 + rng.Intn(2)
	for i := range voters + spares {
		r.names = append(r.names, fmt.Sprintf("r%d", i+1))
	}
	for i := range voters {
		r.conf.Voters = append(r.conf.Voters, raft.ID(i+1))
	}
	addrs := map[raft.ID]string{}
	for i, name := range r.names {
		addrs[raft.ID(i+1)] = fmt.Sprintf("%s:%d", name, raftPeerPort)
	}
	for i, name := range r.names {
		id := raft.ID(i + 1)
		bootstrap := raft.ConfState{}
		if i < voters {
			bootstrap = raft.ConfState{Voters: append([]raft.ID(nil), r.conf.Voters...)}
		}
		w.AddNode(name, sim.NodeConfig{Crashable: true}, func(e *env.Env) { r.boot(e, id, bootstrap, addrs) })
	}
	for i := range 3 {
		w.AddNode(fmt.Sprintf("c%d", i+1), sim.NodeConfig{}, func(e *env.Env) { startKVClient(e, r, i) })
	}
	plan := sim.Plan{Faults: 12 * time.Second, Liveness: 8 * time.Second}
	r.faultsEnd = plan.Faults
	r.scheduleOperator(time.Second + time.Duration(rng.Intn(1000))*time.Millisecond)
	w.At(plan.Faults, func() { r.ackedAtEnd = r.hist.acked })
	return plan
}

// boot is a member machine's program.
func (r *Raft) boot(e *env.Env, id raft.ID, bootstrap raft.ConfState, addrs map[raft.ID]string) {
	r.snapshotWAL(e, id)
	fsm := newKVFSM()
	ex := e.Exec.New(fmt.Sprintf("raft-%d", id))
	tr := newRaftTransport(e, ex, id, addrs)
	tr.onSend = func(msgs []raft.Message) {
		r.durable.checkSend(id, msgs)
		r.maybeBlackout(e, tr, id, msgs)
	}
	k := r.knobs
	withRolls := *e
	withRolls.FS = rollFS{FS: e.FS, r: r, id: id}
	node := raft.Start(&withRolls, raft.NodeConfig{
		ID: id, Dir: "raft", Bootstrap: bootstrap, TickInterval: raftTick,
		ElectionTicks: 10, HeartbeatTicks: 2, PreVote: true, CheckQuorum: true,
		SnapshotEntries: k.snapshotEntries, CatchUpEntries: k.snapshotEntries / 4, ReadTimeoutTicks: 50,
		WALSegmentBytes: k.segmentBytes, SnapshotChunkBytes: k.chunkBytes, MaxMsgBytes: k.maxMsgBytes,
		MaxInflightMsgs: k.inflightMsgs, Observer: r.check, Executor: ex,
	}, fsm, tr)
	tr.node = node
	r.members[id] = &raftMember{node: node, fsm: fsm, tr: tr}
	if err := tr.listen(); err != nil {
		env.Halt(fmt.Errorf("raft workload: listen: %w", err))
	}
	srv := &kvServer{e: e, wl: r, id: id, node: node, fsm: fsm, names: map[raft.ID]string{}}
	for i, name := range r.names {
		srv.names[raft.ID(i+1)] = name
	}
	if err := srv.listen(); err != nil {
		env.Halt(fmt.Errorf("raft workload: listen: %w", err))
	}
}

func (r *Raft) Check(w *sim.World) error {
	first := r.check.firstCommitAfter
	if first == 0 {
		return fmt.Errorf("raft: nothing committed after faults stopped (commit index %d)", len(r.check.committed))
	}
	if first-r.faultsEnd > raftLivenessBound {
		return fmt.Errorf("raft: first commit after faults stopped came %v later, bound %v", first-r.faultsEnd, raftLivenessBound)
	}
	if got := r.hist.acked - r.ackedAtEnd; got < raftLivenessAcks {
		return fmt.Errorf("raft: %d client operations acknowledged after faults stopped, want >= %d", got, raftLivenessAcks)
	}
	// Operations still in flight when the run ends may or may not have taken effect.
	for _, c := range r.clients {
		if c.op != nil {
			r.hist.unknown(c.idx, c.op)
			c.op = nil
		}
	}
	return r.hist.checkLinearizable()
}

// raftKnobs are protocol settings drawn per seed (swarm testing of the configuration):
// tiny messages and windows make entries of different terms travel separately, which is
// where commitment rules matter; small snapshot intervals and chunks exercise
// InstallSnapshot; the nemesis strikes new leaders before their first entry spreads.
type raftKnobs struct {
	maxMsgBytes     uint64
	inflightMsgs    int
	snapshotEntries uint64
	chunkBytes      uint64
	segmentBytes    int64
	nemesis         float64 // chance to crash or isolate a leader right after it is elected
	rot             float64 // chance to damage a crashed member's WAL before it restarts
	tear            float64 // chance to power a member off right after an unsynced write
	blackout        float64 // chance, per append answer, to start losing a follower's answers
}

func drawRaftKnobs(r *env.PRNG) raftKnobs {
	pick := func(n int) int { return r.Intn(n) }
	return raftKnobs{
		maxMsgBytes:     []uint64{1, 1, 200, 64 << 10}[pick(4)],
		inflightMsgs:    []int{1, 4, 64}[pick(3)],
		snapshotEntries: []uint64{10, 40, 300}[pick(3)],
		chunkBytes:      []uint64{64, 1 << 10, 64 << 10}[pick(3)],
		segmentBytes:    []int64{2 << 10, 64 << 10}[pick(2)],
		nemesis:         []float64{0, 0.6, 0.95}[pick(3)],
		rot:             []float64{0, 0.3, 0.8}[pick(3)],
		tear:            []float64{0, 0.01, 0.05}[pick(3)],
		blackout:        []float64{0, 0.005, 0.02}[pick(3)],
	}
}
