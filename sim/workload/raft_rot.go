package workload

import (
	"errors"
	"path"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// Targeted WAL damage, so recovery's rare verdicts run in the default sweep: between a crash
// and the restart the nemesis may flip bits in a record recovery would keep (one bit: the
// mirror serves it; one bit in each copy: recovery must refuse with the record's segment and
// offset, never cut it as if it were torn), and it may power a member off just after an
// unsynced write (a commit-only Ready), which is when torn tails are made.

// walRot is damage the workload did to a member's WAL, awaiting recovery's verdict.
type walRot struct {
	name  string // segment file name
	off   int64  // where the damaged record starts
	flips []int64
	bits  []uint
	both  bool // both copies damaged: recovery must refuse
	snap  bool // a snapshot file (name is its path): recovery falls back or refuses
}

// damageWAL picks a record of the member's last WAL segment that verifies and flips one bit
// in it, or one in each copy (both length fields, as in the bug that once cut a whole
// segment, or one byte of each payload copy).
func (r *Raft) damageWAL(id raft.ID) {
	rng := r.w.Rand()
	disk := r.w.Nodes()[int(id)-1].Disk
	if r.rot[id] != nil || !env.Chance(rng, r.knobs.rot) {
		return
	}
	if rng.Intn(4) == 0 {
		r.damageSnapshot(id)
		return
	}
	names, err := disk.DurableFS().List(path.Join("raft", "wal"))
	if err != nil || len(names) == 0 {
		return
	}
	name := path.Join("raft", "wal", names[len(names)-1])
	data, err := disk.ReadFile(name)
	if err != nil {
		return
	}
	var offs, sizes []int64
	for off := 0; off < len(data); {
		n, ok := frameVerifies(data[off:])
		if !ok {
			break
		}
		offs, sizes = append(offs, int64(off)), append(sizes, int64(n))
		off += n
	}
	if len(offs) == 0 {
		return
	}
	k := 0 // the segment's first record: the case of the bug
	if rng.Intn(2) == 0 {
		k = rng.Intn(len(offs))
	}
	off, n := offs[k], (sizes[k]-16)/2
	if !pristine(data[off : off+sizes[k]]) {
		return // damaged already (rot at rest): one more flip could be two in one copy's place
	}
	rot := &walRot{name: names[len(names)-1], off: off}
	mirror := int64(8) // distance between a byte and its twin in the other copy
	switch rng.Intn(3) {
	case 0: // one bit anywhere in the record
		rot.flips = []int64{off + int64(rng.Intn(int(16+2*n)))}
	case 1: // both length fields
		rot.flips, rot.both = []int64{off + int64(rng.Intn(4)), off + 8 + int64(rng.Intn(4))}, true
	default: // one byte of each payload copy
		rot.flips, rot.both = []int64{off + 16 + int64(rng.Intn(int(n))), off + 16 + n + int64(rng.Intn(int(n)))}, true
		mirror = n
	}
	for i, f := range rot.flips {
		bit := uint(rng.Intn(8))
		if i == 1 && f == rot.flips[0]+mirror && bit == rot.bits[0] {
			bit = (bit + 1) % 8 // the same flip in both copies would make another valid-looking record
		}
		rot.bits = append(rot.bits, bit)
		disk.FlipBitAt(name, f, bit)
	}
	r.rot[id] = rot
	r.w.Hit("raft.nemesis.wal-rot")
	r.w.Note("raft nemesis: rot %s@%d of member %d (%d flips)", name, off, id, len(rot.flips))
}

// damageSnapshot flips one bit in each copy of the member's newest snapshot file (when an
// older one is kept too): recovery must fall back to the older one (the WAL reaches back to
// it), or refuse if the WAL says the newest was installed from the leader.
func (r *Raft) damageSnapshot(id raft.ID) {
	rng := r.w.Rand()
	disk := r.w.Nodes()[int(id)-1].Disk
	dir := path.Join("raft", "snap")
	names, err := disk.DurableFS().List(dir)
	var snaps []string
	for _, n := range names {
		if path.Ext(n) == ".snap" {
			snaps = append(snaps, n)
		}
	}
	if err != nil || len(snaps) < 2 {
		return
	}
	name := path.Join(dir, snaps[len(snaps)-1])
	data, err := disk.ReadFile(name)
	if err != nil || len(data) < 18 {
		return
	}
	n := (int64(len(data)) - 16) / 2
	rot := &walRot{name: name, snap: true, both: true, flips: []int64{16 + int64(rng.Intn(int(n))), 16 + n + int64(rng.Intn(int(n)))}}
	for _, f := range rot.flips {
		bit := uint(rng.Intn(8))
		rot.bits = append(rot.bits, bit)
		disk.FlipBitAt(name, f, bit)
	}
	r.rot[id] = rot
	r.w.Hit("raft.nemesis.snap-rot")
	r.w.Note("raft nemesis: rot snapshot %s of member %d", name, id)
}

// pristine reports whether both headers and both copies of a verified frame are intact.
func pristine(frame []byte) bool {
	n := (len(frame) - 16) / 2
	return string(frame[:8]) == string(frame[8:16]) && string(frame[16:16+n]) == string(frame[16+n:])
}

// judgeRot checks recovery's verdict on the member's pending damage and, once recovery has
// refused, repairs the disk (the operator restores the record) so the next boot recovers.
func (c *raftChecker) judgeRot(id raft.ID, rec raft.WALRecovery, dmg *raft.WALDamageError, err error) {
	rot := c.w.rot[id]
	if rot == nil {
		env.Assertf(err == nil || dmg != nil || errors.Is(err, env.ErrIO) || errors.Is(err, env.ErrNoSpace),
			"raft recovery: member %d: %v", id, err)
		env.Assertf(dmg == nil || c.w.w.Nodes()[int(id)-1].Disk.Stats.BitFlips > 0,
			"raft recovery: member %d refused an undamaged WAL: %v", id, dmg)
		return
	}
	delete(c.w.rot, id)
	if rot.snap {
		// Recovery fell back to the older snapshot, or refused because the WAL needed the
		// newest; either way the operator then restores the file.
		c.repair(id, rot, rot.name)
		return
	}
	if !rot.both {
		env.Assertf(dmg == nil, "raft recovery: member %d refused a record its mirror repairs: %v", id, dmg)
		return
	}
	env.Assertf(dmg != nil, "raft recovery: member %d started past a record rotten in both copies at %s@%d (verdicts %+v)",
		id, rot.name, rot.off, rec.Segments)
	env.Assertf(path.Base(dmg.Segment) == rot.name && dmg.Offset == rot.off,
		"raft recovery: member %d refused at %s@%d, the rotten record is at %s@%d", id, dmg.Segment, dmg.Offset, rot.name, rot.off)
	c.repair(id, rot, path.Join("raft", "wal", rot.name))
}

// repair undoes the workload's damage (the operator restores the file from a copy).
func (c *raftChecker) repair(id raft.ID, rot *walRot, name string) {
	disk := c.w.w.Nodes()[int(id)-1].Disk
	for i, f := range rot.flips {
		disk.FlipBitAt(name, f, rot.bits[i])
	}
	c.w.w.Note("raft operator: repaired %s@%d of member %d", name, rot.off, id)
}

// blackout is a follower's ongoing loss of its append answers to a leader.
type blackout struct {
	lead  raft.ID
	acked env.Index // the last index the leader heard the follower acknowledge
}

const (
	// blackoutMax bounds a blackout: long enough for a leader compacting every 40 entries
	// to compact past the follower at the fault phase's commit rate.
	blackoutMax = 5 * time.Second
	// blackoutPolls: awaitCompaction checks every 50 ms this many times.
	blackoutPolls = 80
)

// maybeBlackout starts, with the seed's probability, losing a follower's append answers to
// its leader for a while (the leader keeps sending, commits with the others, snapshots and
// compacts), then resets the leader's connection to it, so the leader falls back to the
// follower's stale acknowledged index and sends a snapshot whose last entry the follower
// already holds, with entries after it (raft.snap.already-held or already-committed).
// Half the time the follower also loses power then, which takes back the commit index it
// had not synced: the snapshot then lies beyond its commit index too.
func (r *Raft) maybeBlackout(e *env.Env, tr *raftTransport, id raft.ID, msgs []raft.Message) {
	for i := range msgs {
		m := &msgs[i]
		if m.Type != raft.MsgAppResp || m.Reject || e.Clock.Mono() < tr.ackBlackout[m.To] {
			continue
		}
		rng := r.w.Rand()
		if r.w.Now() >= r.faultsEnd-time.Second || !env.Chance(rng, r.knobs.blackout) {
			return
		}
		lead, d := m.To, time.Duration(50+rng.Intn(400))*time.Millisecond
		tr.ackBlackout[lead] = e.Clock.Mono() + blackoutMax
		r.w.Hit("raft.nemesis.ack-blackout")
		r.w.Note("raft nemesis: %d loses its append answers to %d", id, lead)
		r.blackouts[id] = blackout{lead: lead, acked: m.Index}
		r.w.After(d, func() { r.awaitCompaction(tr, id, lead, blackoutPolls, rng.Intn(4) == 0) })
		return
	}
}

// compactedPast reports whether the leader of the follower's blackout has compacted its log
// past what the follower last acknowledged, so it will need a snapshot for it.
func (r *Raft) compactedPast(b blackout) bool {
	st := r.check.storage[b.lead]
	if st == nil {
		return false
	}
	first, _ := st.FirstIndex()
	return first > b.acked+1
}

// awaitCompaction ends the blackout once the leader has compacted past the follower,
// checking every 50 ms up to tries times. A follower to be powered off waits for its next
// unsynced commit write (strikeUnsynced) unless the tries run out.
func (r *Raft) awaitCompaction(tr *raftTransport, id, lead raft.ID, tries int, powerOff bool) {
	b, ok := r.blackouts[id]
	if !ok || b.lead != lead {
		return
	}
	if !r.compactedPast(b) && tries > 0 {
		r.w.After(50*time.Millisecond, func() { r.awaitCompaction(tr, id, lead, tries-1, powerOff) })
		return
	}
	if powerOff && tries > 0 {
		r.w.After(50*time.Millisecond, func() { r.awaitCompaction(tr, id, lead, 0, powerOff) })
		return // strikeUnsynced may end it first, at the moment it matters
	}
	delete(tr.ackBlackout, lead)
	r.endBlackout(id, lead, powerOff)
}

// endBlackout resets the leader's connection to the follower, and with powerOff also
// powers the follower off, which takes back the commit index it had not synced.
func (r *Raft) endBlackout(id, lead raft.ID, powerOff bool) {
	if b, ok := r.blackouts[id]; !ok || b.lead != lead {
		return // ended already
	}
	delete(r.blackouts, id)
	if m := r.members[id]; m != nil {
		delete(m.tr.ackBlackout, lead)
	}
	if m := r.members[lead]; m != nil && r.w.Nodes()[int(lead)-1].Up() {
		m.tr.ex.Post(func() { m.tr.reset(id) })
	}
	if node := r.w.Nodes()[int(id)-1]; powerOff && node.Up() {
		r.w.Note("raft nemesis: power off %d at the end of its blackout", id)
		node.Crash(true)
		r.w.After(time.Duration(10+r.w.Rand().Intn(90))*time.Millisecond, node.Restart)
	}
}

// strikeUnsynced powers a member off just after a write it did not sync (a Ready that only
// moved the commit index), the moment a torn tail can be left behind.
func (r *Raft) strikeUnsynced(id raft.ID) {
	if b, ok := r.blackouts[id]; ok {
		// A follower whose answers are lost just learned a commit index it did not sync:
		// once its leader needs a snapshot for it, power it off now, so the snapshot may
		// lie beyond the commit index it recovers while its log holds the snapshot's last
		// entry.
		if r.compactedPast(b) {
			r.w.After(0, func() { r.endBlackout(id, b.lead, true) })
		}
		return
	}
	rng := r.w.Rand()
	if r.w.Now() >= r.faultsEnd-time.Second || !env.Chance(rng, r.knobs.tear) {
		return
	}
	node := r.w.Nodes()[int(id)-1]
	down := time.Duration(100+rng.Intn(900)) * time.Millisecond
	r.w.After(0, func() {
		if !node.Up() {
			return
		}
		r.w.Note("raft nemesis: power off %d after an unsynced write", id)
		r.w.Hit("raft.nemesis.unsynced-crash")
		node.Crash(true)
		r.damageWAL(id)
		r.w.After(down, node.Restart)
	})
}
