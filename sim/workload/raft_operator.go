package workload

import (
	"slices"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// The operator changes the group while faults rage: it adds a spare machine as a learner,
// promotes a learner, removes a voter (keeping at least three) or transfers leadership,
// one action every second or so, always through the member it last saw lead.

func (r *Raft) scheduleOperator(d time.Duration) {
	r.w.After(d, r.operate)
}

func (r *Raft) operate() {
	if r.w.Now() >= r.faultsEnd-time.Second {
		return
	}
	defer r.scheduleOperator(time.Duration(700+r.w.Rand().Intn(1500)) * time.Millisecond)
	lead := r.leader()
	if lead == nil {
		return
	}
	rng := r.w.Rand()
	var actions []func()
	var spares []raft.ID
	for i := range r.names {
		if id := raft.ID(i + 1); !r.conf.Contains(id) {
			spares = append(spares, id)
		}
	}
	if len(spares) > 0 {
		id := spares[rng.Intn(len(spares))]
		actions = append(actions, func() { r.change(lead, raft.ConfChange{Type: raft.AddLearner, Node: id}) })
		if len(r.conf.Voters) > 3 {
			// Overlapping changes: the second arrives while the first is appended but not
			// committed, and the leader must refuse it (R1).
			victim := r.conf.Voters[rng.Intn(len(r.conf.Voters))]
			actions = append(actions, func() {
				r.change(lead, raft.ConfChange{Type: raft.AddLearner, Node: id})
				r.change(lead, raft.ConfChange{Type: raft.RemoveNode, Node: victim})
			})
		}
	}
	if len(r.conf.Learners) > 0 && len(spares) > 0 {
		id, other := r.conf.Learners[rng.Intn(len(r.conf.Learners))], spares[rng.Intn(len(spares))]
		actions = append(actions, func() {
			r.change(lead, raft.ConfChange{Type: raft.AddVoter, Node: id})
			r.change(lead, raft.ConfChange{Type: raft.AddLearner, Node: other})
		})
	}
	if len(r.conf.Learners) > 0 {
		id := r.conf.Learners[rng.Intn(len(r.conf.Learners))]
		actions = append(actions, func() { r.change(lead, raft.ConfChange{Type: raft.AddVoter, Node: id}) })
	}
	if len(r.conf.Voters) > 3 {
		id := r.conf.Voters[rng.Intn(len(r.conf.Voters))]
		actions = append(actions, func() { r.change(lead, raft.ConfChange{Type: raft.RemoveNode, Node: id}) })
	}
	// A steady leader (one that has committed in its term, so it answers reads) cut from
	// its peers but not from clients, or the reverse.
	actions = append(actions, func() {
		r.cutOff(r.leaderID(), rng.Intn(2), time.Duration(300+rng.Intn(1200))*time.Millisecond)
	})
	if len(r.conf.Voters) >= 5 {
		// Cut from all its peers but one, which keeps hearing it (see splitLeader).
		actions = append(actions, func() {
			r.splitLeader(r.leaderID(), time.Duration(600+rng.Intn(900))*time.Millisecond)
		})
	}
	voters := slices.Clone(r.conf.Voters)
	actions = append(actions, func() {
		to := voters[rng.Intn(len(voters))]
		r.w.Note("raft operator: transfer leadership to %d", to)
		r.stats.transfers++
		lead.node.TransferLeader(to)
	})
	actions[rng.Intn(len(actions))]()
}

func (r *Raft) change(m *raftMember, cc raft.ConfChange) {
	r.w.Note("raft operator: propose %v %d", cc.Type, cc.Node)
	m.node.ProposeConfChange(cc, func(err error) {
		r.w.Note("raft operator: %v %d: %v", cc.Type, cc.Node, err)
	})
}

// leader returns the member that leads the newest term seen, if its machine is up.
func (r *Raft) leader() *raftMember {
	id := r.leaderID()
	if id == raft.None || !r.w.Nodes()[int(id)-1].Up() {
		return nil
	}
	return r.members[id]
}

// leaderID is the member that leads the newest term seen.
func (r *Raft) leaderID() raft.ID {
	var term uint64
	var id raft.ID
	for t, l := range r.check.leaders {
		if uint64(t) > term {
			term, id = uint64(t), l
		}
	}
	return id
}

// strikeLeader is the nemesis: with the seed's probability it crashes (process or power) or
// isolates a leader moments after its election, before its first entry has spread, which is
// when a leader's view of what is committed is most fragile.
func (r *Raft) strikeLeader(id raft.ID) {
	if r.splitting() {
		return // let the split's new leader reach the follower that heard the old one
	}
	rng := r.w.Rand()
	if r.w.Now() >= r.faultsEnd-time.Second || !env.Chance(rng, r.knobs.nemesis) {
		return
	}
	if rng.Intn(2) == 0 {
		r.strike(id, time.Duration(rng.Intn(30))*time.Millisecond, true)
		return
	}
	r.strike(id, 0, false) // cut off before its first messages leave
}

// strikeAppender isolates, now, a leader that has just appended entries, so they stay on
// its log alone; a later leader may append different entries at the same indexes (the
// setting in which committing by counting replicas of an old term loses data).
func (r *Raft) strikeAppender(id raft.ID) {
	if r.split[id] > 0 {
		return // the split leader's stream appends all the time; striking it ends the split
	}
	rng := r.w.Rand()
	if r.w.Now() >= r.faultsEnd-time.Second || !env.Chance(rng, r.knobs.nemesis/4) {
		return
	}
	r.strike(id, 0, false)
}

// strikeConfAppender deposes a leader the moment it appends a membership change, so the
// change may stay on its log alone and be truncated by the next leader (or survive on some
// members and be committed by it).
func (r *Raft) strikeConfAppender(id raft.ID) {
	rng := r.w.Rand()
	if r.w.Now() >= r.faultsEnd-time.Second || !env.Chance(rng, max(r.knobs.nemesis, 0.5)) {
		return
	}
	r.w.Hit("raft.nemesis.conf-append")
	r.strike(id, 0, rng.Intn(3) == 0)
}

// strikeCommitter isolates a new leader at its first commit, before the messages that
// announce it leave: the moment a leader's claim about what is committed is least backed
// by the rest of the group.
func (r *Raft) strikeCommitter(id raft.ID) {
	if r.splitting() {
		return // let the split's new leader reach the follower that heard the old one
	}
	rng := r.w.Rand()
	if r.w.Now() >= r.faultsEnd-time.Second || !env.Chance(rng, r.knobs.nemesis) {
		return
	}
	r.strike(id, 0, false)
}

func (r *Raft) strike(id raft.ID, delay time.Duration, crash bool) {
	rng := r.w.Rand()
	node := r.w.Nodes()[int(id)-1]
	down := time.Duration(100+rng.Intn(1500)) * time.Millisecond
	if crash {
		machine := rng.Intn(2) == 0
		r.w.After(delay, func() {
			r.w.Note("raft nemesis: crash leader %d (machine=%v)", id, machine)
			node.Crash(machine)
			r.damageWAL(id)
			r.w.After(down, node.Restart)
		})
		return
	}
	// Partial partitions: cut from its peers only, a leader still hears clients, so reads
	// reach a leader that may have been deposed (only the quorum round of ReadIndex keeps
	// them linearizable); cut from clients only, it keeps leading while clients go
	// elsewhere; or cut from everyone.
	mode := rng.Intn(3)
	r.w.After(delay, func() { r.cutOff(id, mode, down) })
}

// cutOff partitions member id from its peers (mode 0), from clients (1) or from everyone
// (2), for down.
func (r *Raft) cutOff(id raft.ID, mode int, down time.Duration) {
	if id == raft.None || !r.w.Nodes()[int(id)-1].Up() {
		return
	}
	node := r.w.Nodes()[int(id)-1]
	var others []int
	for j := range r.w.Nodes() {
		isPeer := j < len(r.names)
		if j != node.Index && (mode == 2 || (mode == 0) == isPeer) {
			others = append(others, j)
		}
	}
	r.w.Note("raft nemesis: cut leader %d from %s", id, []string{"its peers", "clients", "everyone"}[mode])
	r.w.Hit([]string{"raft.nemesis.cut-from-peers", "raft.nemesis.cut-from-clients", "raft.nemesis.isolate"}[mode])
	for _, j := range others {
		r.block(node.Index, j)
	}
	if mode == 0 {
		r.cut[id]++
		r.pinReader(r.names[id-1])
	}
	r.w.After(down, func() {
		for _, j := range others {
			r.unblock(node.Index, j)
		}
		if mode == 0 {
			r.cut[id]--
			if r.cutReader == r.names[id-1] {
				r.cutReader = ""
			}
		}
	})
}

// pinReader sends client 0 to a leader just cut from its peers, to read there while the
// others write through whoever leads next: the reads a deposed leader must refuse.
func (r *Raft) pinReader(name string) {
	r.cutReader = name
	if len(r.clients) == 0 {
		return
	}
	for _, c := range r.clients {
		c.rd.ex.Post(func() {
			if c.idx == 0 {
				c.target = name
			}
			c.rd.drop() // the others find the rest of the group (see kvClient.pick)
		})
	}
}

// block partitions a and b both ways; the nemesis counts its cuts per pair so that one cut
// healing does not lift another that still holds.
func (r *Raft) block(a, b int) {
	k := [2]int{min(a, b), max(a, b)}
	if r.blocked[k]++; r.blocked[k] == 1 {
		r.w.Network().Partition(a, b, false)
	}
}

func (r *Raft) unblock(a, b int) {
	k := [2]int{min(a, b), max(a, b)}
	if r.blocked[k]--; r.blocked[k] == 0 {
		r.w.Network().Heal(a, b)
		r.w.Network().Heal(b, a)
	}
}

// cutFromPeers reports whether the nemesis has cut member id off from its peers now.
func (r *Raft) cutFromPeers(id raft.ID) bool { return r.cut[id] > 0 }

// splitting reports whether a split leader (see splitLeader) is being cut now.
func (r *Raft) splitting() bool {
	for _, n := range r.split {
		if n > 0 {
			return true
		}
	}
	return false
}
