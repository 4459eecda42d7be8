package raft

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// harness runs a group of RawNodes with in-memory storage and a message queue per member,
// driven by script commands. Its "application" is a list of applied strings.
type harness struct {
	t       *testing.T
	nodes   []*hnode // nodes[i] has id i+1
	inbox   map[ID][]Message
	blocked map[[2]ID]bool // from, to
	out     *strings.Builder
}

type hnode struct {
	id      ID
	rn      *RawNode
	st      *MemoryStorage
	cfg     Config
	fsm     []string  // applied normal entries' data
	conf    ConfState // configuration as of the last applied entry
	applied env.Index
}

func newHarness(t *testing.T) *harness {
	return &harness{t: t, inbox: map[ID][]Message{}, blocked: map[[2]ID]bool{}}
}

func (h *harness) printf(format string, args ...any) { fmt.Fprintf(h.out, format, args...) }

func (h *harness) run(c *scriptCmd) string {
	h.out = &strings.Builder{}
	defer func() {
		if r := recover(); r != nil {
			h.printf("panic: %v\n", r)
		}
	}()
	switch c.name {
	case "add-nodes":
		h.addNodes(c)
	case "campaign":
		h.each(c, func(n *hnode) { h.report(n.rn.Campaign()) })
	case "tick":
		times := h.intKey(c, "times", 1)
		h.each(c, func(n *hnode) {
			for range times {
				n.rn.Tick()
			}
		})
	case "tick-election":
		h.each(c, func(n *hnode) {
			for range 2 * n.cfg.ElectionTicks {
				n.rn.Tick()
			}
		})
	case "tick-heartbeat":
		h.each(c, func(n *hnode) {
			for range n.cfg.HeartbeatTicks {
				n.rn.Tick()
			}
		})
	case "propose":
		n := h.node(c.args[0])
		idx, term, err := n.rn.Propose([]byte(c.args[1]))
		h.reportProposal(idx, term, err)
	case "propose-conf-change":
		h.proposeConfChange(c)
	case "transfer-leadership":
		n := h.node(c.keys["from"])
		to, _ := strconv.ParseUint(c.keys["to"], 10, 64)
		h.report(n.rn.TransferLeader(ID(to)))
	case "read-index":
		n := h.node(c.args[0])
		h.report(n.rn.ReadIndex([]byte(c.args[1])))
	case "process-ready":
		h.each(c, h.processReady)
	case "deliver-msgs":
		// drop=true drops them all; drop=K drops the K-th (from 0) only.
		h.each(c, func(n *hnode) { h.deliver(n, c.keys["drop"]) })
	case "stabilize":
		h.stabilize(c)
	case "partition":
		h.partition(c)
	case "heal":
		h.blocked = map[[2]ID]bool{}
	case "compact":
		h.compact(c)
	case "restart":
		h.each(c, h.restart)
	case "raft-state":
		h.raftState()
	case "raft-log":
		h.each(c, h.raftLog)
	case "status":
		h.each(c, h.status)
	default:
		h.t.Fatalf("%v: unknown command", c)
	}
	return h.out.String()
}

func (h *harness) report(err error) {
	if err != nil {
		h.printf("error: %v\n", err)
	}
}

func (h *harness) reportProposal(idx env.Index, term env.Term, err error) {
	if err != nil {
		h.printf("error: %v\n", err)
		return
	}
	h.printf("proposed at %d/%d\n", term, idx)
}

func (h *harness) node(arg string) *hnode {
	id, err := strconv.Atoi(arg)
	if err != nil || id < 1 || id > len(h.nodes) {
		h.t.Fatalf("no node %q", arg)
	}
	return h.nodes[id-1]
}

// each runs fn on the nodes named by the positional args, or on every node if none.
func (h *harness) each(c *scriptCmd, fn func(*hnode)) {
	if len(c.args) == 0 {
		for _, n := range h.nodes {
			fn(n)
		}
		return
	}
	for _, a := range c.args {
		fn(h.node(a))
	}
}

func (h *harness) intKey(c *scriptCmd, key string, def int) int {
	v, ok := c.keys[key]
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		h.t.Fatalf("%v: %s=%q is not a number", c, key, v)
	}
	return n
}

func parseIDs(s string) []ID {
	s = strings.Trim(s, "()")
	var out []ID
	for _, f := range strings.Split(s, ",") {
		if f == "" {
			continue
		}
		v, _ := strconv.ParseUint(f, 10, 64)
		out = append(out, ID(v))
	}
	slices.Sort(out)
	return out
}

// add-nodes N voters=(1,2,3) learners=(4) prevote=true checkquorum=true election=10
// heartbeat=1 chunk=N inflight=N maxmsg=N: N new members bootstrapped with that
// configuration (empty: a member that will be added later).
func (h *harness) addNodes(c *scriptCmd) {
	count, _ := strconv.Atoi(c.args[0])
	conf := ConfState{Voters: parseIDs(c.keys["voters"]), Learners: parseIDs(c.keys["learners"])}
	for range count {
		id := ID(len(h.nodes) + 1)
		cfg := Config{
			ID: id, ElectionTicks: h.intKey(c, "election", 10), HeartbeatTicks: h.intKey(c, "heartbeat", 1),
			PreVote: c.keys["prevote"] == "true", CheckQuorum: c.keys["checkquorum"] == "true",
			SnapshotChunkBytes: uint64(h.intKey(c, "chunk", 0)), MaxInflightMsgs: h.intKey(c, "inflight", 0),
			MaxMsgBytes: uint64(h.intKey(c, "maxmsg", 0)), Rand: env.NewPRNG(uint64(id)),
		}
		n := &hnode{id: id, st: NewMemoryStorage(conf), cfg: cfg, conf: conf.clone()}
		n.cfg.Storage = n.st
		rn, err := NewRawNode(n.cfg)
		if err != nil {
			h.t.Fatal(err)
		}
		n.rn = rn
		h.nodes = append(h.nodes, n)
		h.printf("%d: created with %v\n", id, conf)
	}
}

func (h *harness) proposeConfChange(c *scriptCmd) {
	n := h.node(c.args[0])
	node, _ := strconv.ParseUint(c.args[2], 10, 64)
	types := map[string]ConfChangeType{"add-learner": AddLearner, "add-voter": AddVoter, "remove": RemoveNode}
	t, ok := types[c.args[1]]
	if !ok {
		h.t.Fatalf("%v: unknown change %q", c, c.args[1])
	}
	idx, term, err := n.rn.ProposeConfChange(ConfChange{Type: t, Node: ID(node)})
	h.reportProposal(idx, term, err)
}

// processReady does what a driver does: persist, apply, queue messages, advance.
func (h *harness) processReady(n *hnode) {
	if !n.rn.HasReady() {
		return
	}
	rd := n.rn.Ready()
	h.printf("> %d handling Ready\n", n.id)
	if s := rd.SoftState; s != nil {
		h.printf("  %v Lead:%d\n", s.State, s.Lead)
	}
	if rd.HasHardState {
		h.printf("  HardState Term:%d Vote:%d Commit:%d\n", rd.HardState.Term, rd.HardState.Vote, rd.HardState.Commit)
	}
	if s := rd.Snapshot; s != nil {
		h.printf("  Snapshot %d/%d %v data=%q\n", s.Meta.Term, s.Meta.Index, s.Meta.Conf, s.Data)
		if err := n.st.ApplySnapshot(*s); err != nil {
			h.t.Fatal(err)
		}
		n.fsm, n.applied, n.conf = splitFSM(s.Data), s.Meta.Index, s.Meta.Conf.clone()
	}
	h.printEntries("Entries", rd.Entries)
	if err := n.st.Append(rd.Entries); err != nil {
		h.t.Fatal(err)
	}
	if rd.HasHardState {
		n.st.SetHardState(rd.HardState)
	}
	if len(rd.Messages) > 0 {
		h.printf("  Messages:\n")
		for _, m := range rd.Messages {
			h.printf("  %v\n", m)
			h.inbox[m.To] = append(h.inbox[m.To], m)
		}
	}
	h.printEntries("CommittedEntries", rd.CommittedEntries)
	for _, e := range rd.CommittedEntries {
		h.apply(n, e)
	}
	for _, rs := range rd.ReadStates {
		h.printf("  ReadState Index:%d Context:%q\n", rs.Index, rs.Context)
	}
	n.rn.Advance(rd)
}

func (h *harness) printEntries(what string, ents []Entry) {
	if len(ents) == 0 {
		return
	}
	h.printf("  %s:\n", what)
	for i := range ents {
		h.printf("  %s\n", entryString(&ents[i]))
	}
}

func (h *harness) apply(n *hnode, e Entry) {
	env.Assertf(e.Index == n.applied+1, "harness: %d applies %d after %d", n.id, e.Index, n.applied)
	n.applied = e.Index
	switch {
	case e.Type == EntryConfChange:
		cc, err := decodeConfChange(e.Data)
		if err != nil {
			h.t.Fatal(err)
		}
		n.conf = cc.Conf
	case len(e.Data) > 0:
		n.fsm = append(n.fsm, string(e.Data))
	}
}

func splitFSM(data []byte) []string {
	if len(data) == 0 {
		return nil
	}
	return strings.Split(string(data), ",")
}

func (h *harness) deliver(n *hnode, drop string) {
	msgs := h.inbox[n.id]
	delete(h.inbox, n.id)
	if len(msgs) == 0 {
		return
	}
	h.printf("> %d receiving messages\n", n.id)
	for i, m := range msgs {
		switch {
		case drop == "true" || drop == strconv.Itoa(i):
			h.printf("  %v DROPPED\n", m)
		case h.blocked[[2]ID{m.From, m.To}]:
			h.printf("  %v PARTITIONED\n", m)
		default:
			h.printf("  %v\n", m)
			if err := n.rn.Step(m); err != nil {
				h.printf("  error: %v\n", err)
			}
		}
	}
}

// stabilize processes Readys and delivers messages until nothing moves.
func (h *harness) stabilize(c *scriptCmd) {
	var nodes []*hnode
	h.each(c, func(n *hnode) { nodes = append(nodes, n) })
	for moved := true; moved; {
		moved = false
		for _, n := range nodes {
			if n.rn.HasReady() {
				h.processReady(n)
				moved = true
			}
		}
		for _, n := range nodes {
			if len(h.inbox[n.id]) > 0 {
				h.deliver(n, "")
				moved = true
			}
		}
	}
}

// partition 1 2 / 3 4: groups separated by "/" can talk only within themselves; members
// not named form one more group. Each partition replaces the previous one.
func (h *harness) partition(c *scriptCmd) {
	group := map[ID]int{}
	g := 1
	for _, a := range c.args {
		if a == "/" {
			g++
			continue
		}
		group[h.node(a).id] = g
	}
	h.blocked = map[[2]ID]bool{}
	for _, a := range h.nodes {
		for _, b := range h.nodes {
			if group[a.id] != group[b.id] {
				h.blocked[[2]ID{a.id, b.id}] = true
			}
		}
	}
}

// compact N: snapshot the application at its applied index and drop the log before it.
func (h *harness) compact(c *scriptCmd) {
	n := h.node(c.args[0])
	snap, err := n.st.CreateSnapshot(n.applied, n.conf, []byte(strings.Join(n.fsm, ",")))
	if err != nil {
		h.printf("error: %v\n", err)
		return
	}
	if err := n.st.Compact(snap.Meta.Index); err != nil {
		h.printf("error: %v\n", err)
		return
	}
	h.printf("%d: snapshot %d/%d, log now starts at %d\n", n.id, snap.Meta.Term, snap.Meta.Index, snap.Meta.Index+1)
}

// restart N: the member loses everything not persisted and reloads from storage; the
// application restarts from the storage's snapshot.
func (h *harness) restart(n *hnode) {
	snap, _ := n.st.Snapshot()
	n.fsm, n.applied, n.conf = splitFSM(snap.Data), snap.Meta.Index, snap.Meta.Conf.clone()
	cfg := n.cfg
	cfg.Applied = snap.Meta.Index
	rn, err := NewRawNode(cfg)
	if err != nil {
		h.printf("error: %v\n", err)
		return
	}
	n.rn = rn
	delete(h.inbox, n.id)
	// Replay the committed, persisted log into the application, as a driver would.
	hs, _ := n.st.InitialState()
	h.printf("%d: restarted at term %d, commit %d, applied %d\n", n.id, hs.Term, hs.Commit, n.applied)
}

func (h *harness) raftState() {
	for _, n := range h.nodes {
		st := n.rn.Status()
		role := "Voter"
		switch {
		case st.Conf.IsLearner(n.id):
			role = "Learner"
		case !st.Conf.IsVoter(n.id):
			role = "NonMember"
		}
		h.printf("%d: %v (%s) Term:%d Lead:%d Commit:%d Applied:%d Last:%d\n",
			n.id, st.State, role, st.Term, st.Lead, st.Commit, n.applied, st.LastIndex)
	}
}

func (h *harness) raftLog(n *hnode) {
	st := n.rn.Status()
	ents, err := n.rn.r.log.slice(st.FirstIndex, st.LastIndex+1, ^uint64(0))
	if err != nil {
		h.printf("error: %v\n", err)
		return
	}
	if len(ents) == 0 {
		h.printf("%d: log empty after %d\n", n.id, st.FirstIndex-1)
	}
	for i := range ents {
		h.printf("%s\n", entryString(&ents[i]))
	}
	h.printf("%d: applied %v\n", n.id, n.fsm)
}

func (h *harness) status(n *hnode) {
	st := n.rn.Status()
	h.printf("%d: %v Term:%d Lead:%d conf=[%v]\n", n.id, st.State, st.Term, st.Lead, st.Conf)
	ids := make([]ID, 0, len(st.Progress))
	for id := range st.Progress {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := st.Progress[id]
		learner := ""
		if p.Learner {
			learner = " learner"
		}
		h.printf("  %d: %s match=%d next=%d%s\n", id, p.State, p.Match, p.Next, learner)
	}
}
