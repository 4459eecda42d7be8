package sim

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/petrel-io/petrel/core/env"
)

// Disk is a node's simulated disk. It keeps two images: the current one (what reads see, the
// page cache) and the durable one (what survives a crash).
//
// File data: each file's bytes become durable at File.Sync. A crash keeps or loses every
// unsynced 512-byte sector independently (by a per-crash write-back ratio, so some crashes
// keep everything, some nothing, most a mix), and an unsynced size change lands at the old
// size, the new size or a sector boundary between.
//
// Names: creations, removals and renames go to a journal in order. SyncDir(d) commits the
// journal up to the last entry touching d; a crash commits a random prefix of the rest. This
// is how journaling file systems behave (ordered metadata), and it is strict where Petrel
// needs strictness: a new or renamed file whose directory was not synced may vanish.
//
// Faults: EIO on write or sync by probability or one-shot injection; a failed sync drops
// the dirty sectors it covered without persisting them (as Linux does); ENOSPC past the
// capacity or while a fill fault lasts; bit flips at rest.
type Disk struct {
	node *Node
	// Current namespace and the durable one.
	dirs, durableDirs   map[string]bool
	files, durableFiles map[string]*inode
	journal             []metaOp
	nextIno             int
	generation          int // bumped at each crash: handles of older generations are dead
	capacity, used      int64
	full                bool // an ENOSPC fault is on
	failNext            map[string]error
	Stats               DiskStats
	durableVersion      uint64 // bumped when the durable image may change (see DurableVersion)
	oracle              bool   // a private copy made by DurableFS: no faults, no trace notes
	timing              diskTiming
	dirtyInodes         map[int]bool // inodes with unsynced sectors, for aimed crashes
	lastWrite           lastWrite    // the newest write, where restart flips aim
}

// lastWrite is where the disk was last written.
type lastWrite struct {
	in       *inode
	off, len int64
	synced   bool // a Sync of its file completed after it: the crash cannot have torn it
}

// DiskStats counts what the disk did, for tests and reports.
type DiskStats struct {
	Crashes, SectorsKept, SectorsLost, WriteEIO, SyncEIO, NoSpace, BitFlips int
	ReadFlips                                                               int // of BitFlips, those in a read's bytes only
}

type inode struct {
	ino       int
	data      []byte // current content
	durable   []byte // content that survives a crash
	dirty     map[int64]bool
	sizeDirty bool
	rotAt     []int64 // offsets of restart flips (see restartFlip)
}

type metaKind uint8

const (
	opCreate metaKind = iota + 1
	opRemove
	opRename
	opMkdir
	opRmdir
)

type metaOp struct {
	kind     metaKind
	name     string
	newName  string
	ino      *inode
	isDirRen bool
}

func newDisk(n *Node, capacity int64) *Disk {
	return &Disk{
		node: n, capacity: capacity,
		dirs: map[string]bool{".": true, "/": true}, durableDirs: map[string]bool{".": true, "/": true},
		files: map[string]*inode{}, durableFiles: map[string]*inode{},
		failNext: map[string]error{},
	}
}

// clean normalizes a name: "a//b/../c" is "a/c", "" is ".".
func clean(name string) string { return path.Clean(name) }

func (d *Disk) note(format string, args ...any) {
	if d.oracle {
		return
	}
	w := d.node.w
	w.trace.note(w.sched.now, kindFault, int32(d.node.Index), fmt.Sprintf(format, args...))
}

// FailNext makes the next call of op ("write", "sync", "create", "rename", "syncdir")
// fail with err.
func (d *Disk) FailNext(op string, err error) { d.failNext[op] = err }

// SetFull turns the ENOSPC fault on or off: while on, every write that grows the disk fails.
func (d *Disk) SetFull(full bool) { d.full = full }

func (d *Disk) injected(op string) error {
	if d.oracle {
		return nil
	}
	if err, ok := d.failNext[op]; ok {
		delete(d.failNext, op)
		return err
	}
	return nil
}

// mark records that [off, off+n) changed and must be synced to survive.
func (in *inode) mark(off, n int64) {
	if n <= 0 {
		return
	}
	if in.dirty == nil {
		in.dirty = map[int64]bool{}
	}
	for s := off / env.SectorSize; s <= (off+n-1)/env.SectorSize; s++ {
		in.dirty[s] = true
	}
}

// markDirty records a change to in for the unsynced count (see unsynced).
func (d *Disk) markDirty(in *inode, off, n int64) {
	in.mark(off, n)
	if len(in.dirty) > 0 {
		if d.dirtyInodes == nil {
			d.dirtyInodes = map[int]bool{}
		}
		d.dirtyInodes[in.ino] = true
	}
}

// unsynced counts files with unsynced data plus uncommitted name changes: nonzero when a
// power loss now could lose something written.
func (d *Disk) unsynced() int { return len(d.dirtyInodes) + len(d.journal) }

// processCrash is what a process crash does to the disk: open handles die, and nothing else
// changes. The page cache outlives the process, so unsynced data stays readable after the
// restart, still not durable until someone syncs it.
func (d *Disk) processCrash() { d.generation++ }

// powerLoss turns the disk into what survives a machine crash: a prefix of the journal, and
// per file the durable image plus a random selection of unsynced sectors.
func (d *Disk) powerLoss() {
	r := d.node.w.rng
	d.Stats.Crashes++
	d.generation++
	d.durableVersion++
	keep := d.drawPrefix(r, len(d.journal))
	for _, op := range d.journal[:keep] {
		d.applyDurable(op)
	}
	d.journal = nil
	d.dirtyInodes = nil
	writeback := []float64{0, 1, env.Float64(r)}[r.Intn(3)]
	settled := map[int]bool{}
	for _, name := range env.SortedKeys(d.durableFiles) {
		in := d.durableFiles[name]
		if !settled[in.ino] {
			settled[in.ino] = true
			d.settle(in, writeback)
		}
	}
	d.dirs = cloneSet(d.durableDirs)
	d.files = make(map[string]*inode, len(d.durableFiles))
	d.used = 0
	for name, in := range d.durableFiles {
		d.files[name] = in
		d.used += int64(len(in.data))
	}
	d.full = false
	d.failNext = map[string]error{}
}

func (d *Disk) drawPrefix(r *env.PRNG, n int) int {
	switch r.Intn(3) {
	case 0:
		return 0
	case 1:
		return n
	default:
		return r.Intn(n + 1)
	}
}

// settle decides one file's content after a crash. Each inode is settled once even when
// linked under two names, since settling clears its dirty state.
func (d *Disk) settle(in *inode, writeback float64) {
	r := d.node.w.rng
	oldLen, newLen := int64(len(in.durable)), int64(len(in.data))
	size := oldLen
	if in.sizeDirty && oldLen != newLen {
		lo, hi := min(oldLen, newLen), max(oldLen, newLen)
		switch r.Intn(3) {
		case 0:
			size = newLen
		case 1:
			size = oldLen
		default:
			size = lo + (hi-lo)*int64(r.Intn(1001))/1000
		}
	}
	out := make([]byte, size)
	copy(out, in.durable)
	for s := int64(0); s*env.SectorSize < size; s++ {
		if !in.dirty[s] {
			continue
		}
		if !env.Chance(r, writeback) {
			d.Stats.SectorsLost++
			continue
		}
		d.Stats.SectorsKept++
		lo, hi := s*env.SectorSize, min((s+1)*env.SectorSize, size)
		for i := lo; i < hi; i++ {
			out[i] = 0
			if i < newLen {
				out[i] = in.data[i]
			}
		}
	}
	in.data, in.durable = out, append([]byte(nil), out...)
	in.dirty, in.sizeDirty = nil, false
}

func (d *Disk) applyDurable(op metaOp) {
	switch op.kind {
	case opCreate:
		d.durableFiles[op.name] = op.ino
	case opRemove:
		delete(d.durableFiles, op.name)
	case opMkdir:
		d.durableDirs[op.name] = true
	case opRmdir:
		delete(d.durableDirs, op.name)
	case opRename:
		if op.isDirRen {
			renameTree(d.durableDirs, d.durableFiles, op.name, op.newName)
		} else {
			d.durableFiles[op.newName] = op.ino
			delete(d.durableFiles, op.name)
		}
	}
}

// renameTree moves a directory and everything below it.
func renameTree(dirs map[string]bool, files map[string]*inode, from, to string) {
	prefix := from + "/"
	for _, name := range env.SortedKeys(dirs) {
		if name == from || strings.HasPrefix(name, prefix) {
			delete(dirs, name)
			dirs[to+strings.TrimPrefix(name, from)] = true
		}
	}
	for _, name := range env.SortedKeys(files) {
		if strings.HasPrefix(name, prefix) {
			in := files[name]
			delete(files, name)
			files[to+strings.TrimPrefix(name, from)] = in
		}
	}
}

// syncDir commits the journal up to the last entry that touches dir.
func (d *Disk) syncDir(dir string) {
	last := -1
	for i, op := range d.journal {
		if path.Dir(op.name) == dir || (op.newName != "" && path.Dir(op.newName) == dir) {
			last = i
		}
	}
	if last >= 0 {
		d.durableVersion++
	}
	for _, op := range d.journal[:last+1] {
		d.applyDurable(op)
	}
	d.journal = d.journal[last+1:]
}

// FlipBit flips one bit at rest in a random non-empty file, in both images (the page cache
// is assumed re-read). It reports the file and offset, or false if the disk holds no data.
func (d *Disk) FlipBit() (string, int64, bool) {
	r := d.node.w.rng
	var names []string
	for _, name := range env.SortedKeys(d.files) {
		if len(d.files[name].data) > 0 {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "", 0, false
	}
	name := names[r.Intn(len(names))]
	off := int64(r.Intn(len(d.files[name].data)))
	d.FlipBitAt(name, off, uint(r.Intn(8)))
	return name, off, true
}

// FlipBitAt flips bit (0..7) of the byte at off in the named file, in both images.
func (d *Disk) FlipBitAt(name string, off int64, bit uint) {
	in := d.files[clean(name)]
	env.Assertf(in != nil && off < int64(len(in.data)), "sim: FlipBitAt %s@%d: no such byte", name, off)
	in.data[off] ^= 1 << bit
	if off < int64(len(in.durable)) {
		in.durable[off] ^= 1 << bit
	}
	d.Stats.BitFlips++
	d.note("bitflip %s@%d bit %d", name, off, bit)
}

// ReadFile returns a copy of a file's current content, for checkers.
func (d *Disk) ReadFile(name string) ([]byte, error) {
	in := d.files[clean(name)]
	if in == nil {
		return nil, fmt.Errorf("sim: read %s: %w", name, fs.ErrNotExist)
	}
	return append([]byte(nil), in.data...), nil
}

func cloneSet(m map[string]bool) map[string]bool {
	out := make(map[string]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
