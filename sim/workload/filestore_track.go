package workload

import (
	"encoding/binary"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// fsTracker wraps the store's FS to learn, per block file, how far records were written and
// how far a sync that returned covered them: the bytes between the two are what a power loss
// may tear. It outlives incarnations (the files do).
type fsTracker struct {
	files   map[string]*fsTrack
	written func() // called after every write of records
	// unsynced maps the sequence of every message record written and not yet covered by a
	// Sync of its file that returned, to that file: an acknowledgement of one of them ran
	// before its sync.
	unsynced map[uint64]*fsTrack
	// created: a block file was created since the oracle last recovered the durable image.
	created bool
}

type fsTrack struct {
	written int64    // end of the last write of records (zeros written ahead are not records)
	synced  int64    // what the last Sync that returned covered
	seqs    []uint64 // message records written since that Sync
}

func (t *fsTracker) wrap(fsys env.FS) env.FS { return trackFS{FS: fsys, t: t} }

func (t *fsTracker) file(name string) *fsTrack {
	f := t.files[name]
	if f == nil {
		f = &fsTrack{}
		t.files[name] = f
	}
	return f
}

// settle forgets files that are gone and, after a power loss, counts what survived as synced.
func (t *fsTracker) settle(disk *sim.Disk, powerLoss bool) {
	for _, name := range env.SortedKeys(t.files) {
		data, err := disk.ReadFile(name)
		f := t.files[name]
		if err != nil {
			t.forget(f)
			delete(t.files, name)
			continue
		}
		f.written = min(f.written, int64(len(data)))
		f.synced = min(f.synced, f.written)
		if powerLoss {
			f.synced = f.written
			t.forget(f)
		}
	}
}

type trackFS struct {
	env.FS
	t *fsTracker
}

func (f trackFS) Create(name string) (env.File, error) {
	h, err := f.FS.Create(name)
	if err != nil {
		return nil, err
	}
	tr := f.t.file(name)
	f.t.forget(tr)
	tr.written, tr.synced = 0, 0
	f.t.created = true
	return &trackFile{File: h, tr: tr, t: f.t}, nil
}

func (f trackFS) OpenRW(name string) (env.File, error) {
	h, err := f.FS.OpenRW(name)
	if err != nil {
		return nil, err
	}
	return &trackFile{File: h, tr: f.t.file(name), t: f.t}, nil
}

func (f trackFS) Remove(name string) error {
	err := f.FS.Remove(name)
	if tr := f.t.files[name]; err == nil && tr != nil {
		f.t.forget(tr)
		delete(f.t.files, name)
	}
	return err
}

type trackFile struct {
	env.File
	tr *fsTrack
	t  *fsTracker
}

func (f *trackFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := f.File.WriteAt(p, off)
	if n > 0 && p[0] != 0 { // records and headers start with a magic; preallocation is zeros
		f.tr.written = max(f.tr.written, off+int64(n))
		f.noteSeqs(p[:n])
		f.t.written()
	}
	return n, err
}

// noteSeqs records the message records in a write (one or more whole records, or a block
// header and records), hopping from header to header.
func (f *trackFile) noteSeqs(p []byte) {
	i := 0
	if p[0] == 'P' {
		i = recordsStart // a block's header copies first
	}
	for i+recordHeaderSize <= len(p) && binary.LittleEndian.Uint32(p[i:]) == recordMagicLE {
		length := int(binary.LittleEndian.Uint32(p[i+4:]))
		if length < recordHeaderSize+4 {
			return
		}
		if p[i+8] == recordKindMsg {
			seq := binary.LittleEndian.Uint64(p[i+16:])
			f.tr.seqs = append(f.tr.seqs, seq)
			f.t.unsynced[seq] = f.tr
		}
		i += length
	}
}

func (f *trackFile) Sync() error {
	err := f.File.Sync()
	if err == nil {
		f.tr.synced = f.tr.written
		f.t.forget(f.tr)
	}
	return err
}

// forget drops a file's unsynced sequences: a sync covered them, or a crash settled them.
func (t *fsTracker) forget(tr *fsTrack) {
	for _, seq := range tr.seqs {
		if t.unsynced[seq] == tr {
			delete(t.unsynced, seq)
		}
	}
	tr.seqs = tr.seqs[:0]
}

func (f *trackFile) Truncate(size int64) error {
	err := f.File.Truncate(size)
	if err == nil {
		f.tr.written = min(f.tr.written, size)
		f.tr.synced = min(f.tr.synced, size)
	}
	return err
}
