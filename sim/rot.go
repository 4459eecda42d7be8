package sim

import "github.com/petrel-io/petrel/core/env"

// Bit flips that matter. Flips at a random place in a random file at a random time mostly hit
// data nobody reads again. Two aimed kinds reach recovery and read paths: a flip left by a
// crash in what the restart will read (the region written last, or a file's tail), and a
// flip in the bytes one read returns, with the disk itself intact. Both happen only with bit
// rot on, in the fault phase, and draw from a generator of their own so that reads (which
// are many) perturb no other draw.

// restartFlip may flip one bit of what the restarted program will read first.
func (d *Disk) restartFlip(powerLoss bool) {
	w := d.node.w
	// Only after a write since the last such flip: a crash loop with no writes between
	// would otherwise pile flips onto the same few bytes.
	if d.oracle || !w.faults.on || d.lastWrite.in == nil || !env.Chance(w.rot, w.Profile.RestartFlipProb) {
		return
	}
	// Rot is a fault of data at rest. After a power loss, bytes that were never synced may be
	// torn, and a flip on top of a tear is two faults in one record, which no single-fault
	// design survives (raft seed 57: a torn last WAL record with a flip in it read as damage
	// no crash explains, and two of three members refused to start). So after a power loss
	// rot lands only on a write that a completed sync covered.
	if powerLoss && !d.lastWrite.synced {
		return
	}
	name, in := d.flipTarget()
	if in == nil {
		return
	}
	size := int64(len(in.data))
	var off int64
	switch lw := d.lastWrite; {
	case lw.in == in && lw.off < size && w.rot.Intn(2) == 0:
		off = lw.off + int64(w.rot.Intn(int(min(lw.len, size-lw.off))))
	case w.rot.Intn(2) == 0:
		off = size - 1 - int64(w.rot.Intn(int(min(size, 64))))
	default:
		off = int64(w.rot.Intn(int(size)))
	}
	// Aim at a write once: two flips within a few bytes are not a thing disks do, and a
	// program may rightly keep two copies against one.
	d.lastWrite = lastWrite{}
	// Nor near an earlier restart flip in the same file: a recovery that rewrites its tail
	// makes that tail the last write again, and a crash loop would pile flips onto one record
	// (raft seed 755: two flips in one WAL record, restarts apart, and two members refused to
	// start).
	for _, at := range in.rotAt {
		if off > at-2*env.SectorSize && off < at+2*env.SectorSize {
			return
		}
	}
	in.rotAt = append(in.rotAt, off)
	w.Hit("sim.fault.bitrot-restart")
	d.FlipBitAt(name, off, uint(w.rot.Intn(8)))
}

// flipTarget picks the file written last if it still has a name and data, else a random
// non-empty file.
func (d *Disk) flipTarget() (string, *inode) {
	r := d.node.w.rot
	var names []string
	for _, name := range env.SortedKeys(d.files) {
		in := d.files[name]
		if len(in.data) == 0 {
			continue
		}
		if in == d.lastWrite.in && r.Intn(4) != 0 {
			return name, in
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return "", nil
	}
	name := names[r.Intn(len(names))]
	return name, d.files[name]
}

// readFlip may flip one bit of the bytes a read returns, leaving the disk as it was.
func (d *Disk) readFlip(p []byte) {
	w := d.node.w
	if d.oracle || len(p) == 0 || w.Profile.ReadFlipProb <= 0 || !w.faults.on {
		return
	}
	if pr := d.node.proc; pr == nil || d.node.boots < 2 || w.sched.now-pr.bootAt > recoveryWindow {
		return
	}
	if !env.Chance(w.rot, w.Profile.ReadFlipProb) {
		return
	}
	i := w.rot.Intn(len(p))
	p[i] ^= 1 << uint(w.rot.Intn(8))
	w.Hit("sim.fault.read-flip")
	d.Stats.BitFlips++ // a flip the program saw, and may rightly lose a record to
	d.Stats.ReadFlips++
	d.note("read flip in %d bytes at %d", len(p), i)
}
