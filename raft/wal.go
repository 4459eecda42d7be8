package raft

import (
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core/env"
)

// defaultWALSegmentBytes is when the WAL moves to a new segment file: small enough that
// deleting whole segments after a snapshot reclaims space promptly, large enough that rolls
// (two syncs and a directory sync) are rare.
const defaultWALSegmentBytes = 16 << 20

// WAL is a member's persistent state (hard state and log) on an env.FS: a directory of
// segment files, each a sequence of mirrored, checksummed records (see wal_record.go and
// the package doc). Records are appended; Save with mustSync makes everything saved so far
// durable with one Sync (group commit). A WAL is used by one executor.
type WAL struct {
	fs           env.FS
	dir          string
	segs         []walSegment // oldest first; the last is the one being written
	f            env.File
	size         int64
	hard         HardState
	buf, scratch []byte
	segmentBytes int64
	recovery     WALRecovery
}

type walSegment struct {
	seq       uint64
	lastIndex env.Index // highest entry index written to it (0: none)
}

func segmentName(seq uint64) string { return fmt.Sprintf("%016x.wal", seq) }

// WALState is what a WAL held at open, relative to the base snapshot it was opened with.
type WALState struct {
	Hard HardState
	// Entries follow the base snapshot contiguously (Entries[0].Index == base.Index+1).
	Entries []Entry
}

// OpenWAL opens (creating if needed) the WAL in dir and recovers its content on top of
// base, the newest snapshot the caller could load. A torn tail of the last segment (a
// crash during an unsynced write, told apart from damage as wal_torn.go explains) is cut
// off and the cut made durable; no record after it is ever used. Damage that a crash does
// not explain (a *WALDamageError), or a log that does not reach back to base, is an error
// wrapping ErrCorrupt: the member must halt rather than forget a vote or an entry.
func OpenWAL(fsys env.FS, dir string, base SnapshotMeta, segmentBytes int64) (*WAL, WALState, error) {
	if segmentBytes <= 0 {
		segmentBytes = defaultWALSegmentBytes
	}
	w := &WAL{fs: fsys, dir: dir, segmentBytes: segmentBytes}
	if err := mkdirDurable(fsys, dir); err != nil {
		return nil, WALState{}, fmt.Errorf("raft: wal: %w", err)
	}
	seqs, err := w.listSegments()
	if err != nil {
		return nil, WALState{}, err
	}
	// A halt may have come between creating a segment and syncing the directory: make the
	// names recovery is about to trust durable.
	if err := fsys.SyncDir(dir); err != nil {
		return nil, WALState{}, fmt.Errorf("raft: wal sync dir %s: %w", dir, err)
	}
	if len(seqs) == 0 {
		if err := w.create(1); err != nil {
			return nil, WALState{}, err
		}
		return w, WALState{}, nil
	}
	rp := replayer{base: base}
	for i, seq := range seqs {
		seg, rec, err := w.replaySegment(seq, &rp, i == len(seqs)-1)
		w.recovery.Segments = append(w.recovery.Segments, rec)
		if dmg, ok := err.(*WALDamageError); ok {
			dmg.Recovery = w.recovery
		}
		if err != nil {
			return nil, WALState{}, err
		}
		w.segs = append(w.segs, seg)
		w.size = rec.Kept
		if rec.Header {
			w.size = int64(len(hardStateRecord(nil, rp.hard)))
		}
	}
	st, err := rp.finish(base)
	if err != nil {
		return nil, WALState{}, fmt.Errorf("raft: wal %s: %w", dir, err)
	}
	w.hard = st.Hard
	f, err := fsys.OpenRW(w.segPath(w.segs[len(w.segs)-1].seq))
	if err != nil {
		return nil, WALState{}, fmt.Errorf("raft: wal open: %w", err)
	}
	w.f = f
	return w, st, nil
}

func (w *WAL) segPath(seq uint64) string { return path.Join(w.dir, segmentName(seq)) }

func (w *WAL) listSegments() ([]uint64, error) {
	names, err := w.fs.List(w.dir)
	if err != nil {
		return nil, fmt.Errorf("raft: wal list %s: %w", w.dir, err)
	}
	var seqs []uint64
	for _, n := range names {
		hex, ok := strings.CutSuffix(n, ".wal")
		if !ok {
			continue
		}
		seq, err := strconv.ParseUint(hex, 16, 64)
		if err != nil || segmentName(seq) != n {
			return nil, fmt.Errorf("%w: wal: stray segment name %q", ErrCorrupt, n)
		}
		seqs = append(seqs, seq) // List is sorted, and the names are fixed-width hex
	}
	return seqs, nil
}

// replaySegment feeds one segment's records to rp and says what it kept. In the last
// segment a record that does not verify ends the log if a crash explains it (a torn write,
// see wal_torn.go): the file is cut there and the cut synced. Damage a crash cannot explain,
// or any damage in a sealed segment, is a *WALDamageError.
func (w *WAL) replaySegment(seq uint64, rp *replayer, last bool) (walSegment, SegmentRecovery, error) {
	name := w.segPath(seq)
	data, err := readFile(w.fs, name)
	if err != nil {
		return walSegment{}, SegmentRecovery{}, err
	}
	seg := walSegment{seq: seq}
	rec := SegmentRecovery{Name: segmentName(seq), Size: int64(len(data))}
	off := 0
	for off < len(data) {
		payload, n, ok, repaired := readMirroredRepair(data[off:])
		if !ok {
			break
		}
		r, err := decodeWALRecord(payload)
		if err != nil {
			return seg, rec, fmt.Errorf("raft: wal %s at %d: %w", name, off, err)
		}
		if err := rp.apply(r); err != nil {
			return seg, rec, fmt.Errorf("raft: wal %s at %d: %w", name, off, err)
		}
		if r.kind == recEntry {
			seg.lastIndex = max(seg.lastIndex, r.entry.Index)
		}
		rec.Records++
		if repaired {
			rec.Repaired++
		}
		off += n
	}
	rec.Kept = int64(off)
	if off == len(data) && (!last || off > 0) {
		if !last {
			return seg, rec, nil
		}
		return seg, rec, w.rewriteTail(name, data)
	}
	if off == 0 && len(data) == 0 {
		// An empty last segment: its creation was cut before its first record landed.
		rec.Torn = "the segment is empty"
	}
	damage := &WALDamageError{Segment: name, Offset: int64(off), Size: int64(len(data))}
	if !last {
		damage.Why = "unreadable record in a sealed segment"
		return seg, rec, damage
	}
	if rec.Torn == "" {
		rec.Torn = tornEvidence(data, off)
	}
	if rec.Torn == "" {
		damage.Why = "neither copy verifies, and a crash cannot explain it (rot?)"
		return seg, rec, damage
	}
	good := data[:off]
	if off == 0 {
		// The segment's creation was cut short: give it back its first record, the hard state
		// the older segments end with, so that deleting them later cannot lose it.
		good, rec.Header = hardStateRecord(nil, rp.hard), true
	}
	return seg, rec, w.rewriteTail(name, good)
}

// rewriteTail makes the last segment durable as read: it is cut after its last good record
// (a torn write) and rewritten in full, then synced. Rewriting matters because what
// recovery read may sit only in the page cache: a sync that failed before the halt dropped
// those pages without persisting them, and no later sync would, so a power loss could
// otherwise cut the log there and take every record synced after it.
func (w *WAL) rewriteTail(name string, good []byte) error {
	f, err := w.fs.OpenRW(name)
	if err != nil {
		return fmt.Errorf("raft: wal open %s: %w", name, err)
	}
	defer f.Close()
	if err := f.Truncate(int64(len(good))); err != nil {
		return fmt.Errorf("raft: wal cut %s at %d: %w", name, len(good), err)
	}
	if len(good) > 0 {
		if _, err := f.WriteAt(good, 0); err != nil {
			return fmt.Errorf("raft: wal rewrite %s: %w", name, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("raft: wal sync %s: %w", name, err)
	}
	return nil
}

func readFile(fsys env.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, fmt.Errorf("raft: open %s: %w", name, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, fmt.Errorf("raft: size of %s: %w", name, err)
	}
	data := make([]byte, size)
	if _, err := f.ReadAt(data, 0); err != nil && !(err == io.EOF && size == 0) {
		return nil, fmt.Errorf("raft: read %s: %w", name, err)
	}
	return data, nil
}

// create starts segment seq with the current hard state as its first record, so that
// older segments can be deleted without losing it, and makes it durable before use.
func (w *WAL) create(seq uint64) error {
	name := w.segPath(seq)
	f, err := w.fs.Create(name)
	if err != nil {
		return fmt.Errorf("raft: wal create %s: %w", name, err)
	}
	hdr := hardStateRecord(nil, w.hard)
	if _, err := f.Write(hdr); err != nil {
		return fmt.Errorf("raft: wal write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("raft: wal sync %s: %w", name, err)
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		return fmt.Errorf("raft: wal sync dir after creating %s: %w", name, err)
	}
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("raft: wal close segment: %w", err)
		}
	}
	w.f, w.size = f, int64(len(hdr))
	w.segs = append(w.segs, walSegment{seq: seq})
	return nil
}

// Save appends a snapshot reset (a snapshot from the leader was installed), entries and
// the hard state, in that order, and with mustSync makes all of it (and everything saved
// before) durable with one Sync. Any error leaves the WAL unusable: the caller halts, and
// recovery cuts whatever part of the write did land.
func (w *WAL) Save(hard *HardState, ents []Entry, reset *SnapshotMeta, mustSync bool) error {
	w.buf = w.buf[:0]
	if reset != nil {
		w.buf = snapResetRecord(w.buf, *reset)
	}
	seg := &w.segs[len(w.segs)-1]
	for i := range ents {
		w.buf, w.scratch = entryRecord(w.buf, w.scratch, &ents[i])
		seg.lastIndex = max(seg.lastIndex, ents[i].Index)
	}
	if hard != nil {
		w.buf = hardStateRecord(w.buf, *hard)
		w.hard = *hard
	}
	if len(w.buf) > 0 {
		if _, err := w.f.Write(w.buf); err != nil {
			return fmt.Errorf("raft: wal write %s: %w", segmentName(seg.seq), err)
		}
		w.size += int64(len(w.buf))
	}
	if len(w.buf) > 4<<20 {
		w.buf = nil // do not pin a burst's buffer forever
	}
	if mustSync || w.size >= w.segmentBytes {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("raft: wal sync %s: %w", segmentName(seg.seq), err)
		}
	}
	if w.size >= w.segmentBytes {
		return w.create(seg.seq + 1)
	}
	return nil
}

// ReleaseTo deletes the oldest segments whose entries all lie at or below index (which a
// durable snapshot covers). The segment being written is kept.
func (w *WAL) ReleaseTo(index env.Index) error {
	n := 0
	for n < len(w.segs)-1 && w.segs[n].lastIndex <= index {
		name := w.segPath(w.segs[n].seq)
		if err := w.fs.Remove(name); err != nil {
			return fmt.Errorf("raft: wal remove %s: %w", name, err)
		}
		n++
	}
	if n == 0 {
		return nil
	}
	w.segs = append(w.segs[:0:0], w.segs[n:]...)
	if err := w.fs.SyncDir(w.dir); err != nil {
		return fmt.Errorf("raft: wal sync dir after removing segments: %w", err)
	}
	return nil
}

// Recovery reports what OpenWAL kept and dropped.
func (w *WAL) Recovery() WALRecovery { return w.recovery }

// Segments reports how many segment files the WAL holds.
func (w *WAL) Segments() int { return len(w.segs) }

// Close releases the open segment; it does not sync.
func (w *WAL) Close() error { return w.f.Close() }

// replayer rebuilds the log from records in write order.
type replayer struct {
	base     SnapshotMeta // the snapshot recovery starts from
	hard     HardState
	log      []Entry // contiguous
	maxReset SnapshotMeta
}

func (rp *replayer) apply(rec walRecord) error {
	switch rec.kind {
	case recHardState:
		rp.hard = rec.hard
	case recEntry:
		e := rec.entry
		n := len(rp.log)
		switch {
		case n == 0 || e.Index < rp.log[0].Index:
			rp.log = append(rp.log[:0], e)
		case e.Index <= rp.log[n-1].Index+1:
			rp.log = append(rp.log[:e.Index-rp.log[0].Index], e)
		case e.Index <= rp.base.Index+1:
			// The base snapshot covers the gap: it was installed (its file saved) but the
			// halt came before its reset record reached the WAL, and the member went on
			// from the snapshot after recovering on it.
			rp.log = append(rp.log[:0], e)
		default:
			return fmt.Errorf("%w: entry %d after %d leaves a gap", ErrCorrupt, e.Index, rp.log[n-1].Index)
		}
	case recSnapReset:
		rp.log = resetTo(rp.log, rec.snap)
		if rec.snap.Index > rp.maxReset.Index {
			rp.maxReset = rec.snap
		}
	}
	return nil
}

// resetTo applies a snapshot to a log: entries after it survive only if the log holds the
// snapshot's last entry (by Log Matching, then everything before it matches too).
func resetTo(log []Entry, s SnapshotMeta) []Entry {
	if len(log) == 0 || s.Index < log[0].Index || s.Index > log[len(log)-1].Index {
		return nil
	}
	if log[s.Index-log[0].Index].Term != s.Term {
		return nil
	}
	return log[s.Index-log[0].Index+1:]
}

func (rp *replayer) finish(base SnapshotMeta) (WALState, error) {
	if rp.maxReset.Index > base.Index {
		return WALState{}, fmt.Errorf("%w: installed snapshot %d/%d is missing (newest readable is %d)",
			ErrCorrupt, rp.maxReset.Term, rp.maxReset.Index, base.Index)
	}
	log := rp.log
	if len(log) > 0 && log[0].Index > base.Index+1 {
		return WALState{}, fmt.Errorf("%w: log starts at %d, after snapshot %d", ErrCorrupt, log[0].Index, base.Index)
	}
	if len(log) > 0 && log[0].Index <= base.Index {
		log = resetTo(log, base)
	}
	st := WALState{Hard: rp.hard, Entries: log}
	last := base.Index
	if len(log) > 0 {
		last = log[len(log)-1].Index
	}
	if st.Hard.Commit > last {
		return WALState{}, fmt.Errorf("%w: commit %d past the last entry %d", ErrCorrupt, st.Hard.Commit, last)
	}
	st.Hard.Commit = max(st.Hard.Commit, base.Index)
	return st, nil
}

// mkdirDurable creates dir and its missing parents and syncs every ancestor, so the whole
// path survives a crash (a directory entry is durable only once its parent is synced).
func mkdirDurable(fsys env.FS, dir string) error {
	if err := fsys.MkdirAll(dir); err != nil {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	for d := path.Clean(dir); ; d = path.Dir(d) {
		parent := path.Dir(d)
		if err := fsys.SyncDir(parent); err != nil {
			return fmt.Errorf("sync dir %s: %w", parent, err)
		}
		if parent == d || parent == "." || parent == "/" {
			return nil
		}
	}
}
