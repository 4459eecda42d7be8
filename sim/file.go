package sim

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"

	"github.com/petrel-io/petrel/core/env"
)

// diskFS is one incarnation's env.FS over its node's Disk.
type diskFS struct {
	d   *Disk
	gen int
}

func (d *Disk) fs() env.FS { return &diskFS{d: d, gen: d.generation} }

func pathErr(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// errDeadProcess is what a crashed incarnation's file system calls return: only code
// unwinding from an aimed crash (deferred calls) can still make them, and they must change
// nothing.
var errDeadProcess = errors.New("sim: the process that opened this file system has crashed")

// stale fails the calls of a dead incarnation's handles.
func (f *diskFS) stale(op, name string) error {
	if f.gen != f.d.generation {
		return pathErr(op, name, errDeadProcess)
	}
	return nil
}

func (f *diskFS) parentExists(name string) bool { return f.d.dirs[path.Dir(name)] }

func (f *diskFS) Create(name string) (env.File, error) {
	if err := f.stale("create", name); err != nil {
		return nil, err
	}
	name = clean(name)
	if err := f.d.injected("create"); err != nil {
		return nil, pathErr("create", name, err)
	}
	if f.d.dirs[name] {
		return nil, pathErr("create", name, fmt.Errorf("is a directory"))
	}
	if !f.parentExists(name) {
		return nil, pathErr("create", name, fs.ErrNotExist)
	}
	in := f.d.files[name]
	if in != nil {
		f.d.used -= int64(len(in.data))
		f.d.markDirty(in, 0, int64(len(in.data)))
		in.data, in.sizeDirty = in.data[:0], true
	} else {
		f.d.nextIno++
		in = &inode{ino: f.d.nextIno, sizeDirty: true}
		f.d.files[name] = in
		f.d.journal = append(f.d.journal, metaOp{kind: opCreate, name: name, ino: in})
	}
	return &file{fs: f, name: name, in: in, writable: true}, nil
}

func (f *diskFS) open(name string, writable bool) (env.File, error) {
	if err := f.stale("open", name); err != nil {
		return nil, err
	}
	name = clean(name)
	in := f.d.files[name]
	if in == nil {
		return nil, pathErr("open", name, fs.ErrNotExist)
	}
	return &file{fs: f, name: name, in: in, writable: writable}, nil
}

func (f *diskFS) Open(name string) (env.File, error)   { return f.open(name, false) }
func (f *diskFS) OpenRW(name string) (env.File, error) { return f.open(name, true) }

func (f *diskFS) Remove(name string) error {
	if err := f.stale("remove", name); err != nil {
		return err
	}
	name = clean(name)
	if in := f.d.files[name]; in != nil {
		delete(f.d.files, name)
		delete(f.d.dirtyInodes, in.ino)
		f.d.used -= int64(len(in.data))
		f.d.journal = append(f.d.journal, metaOp{kind: opRemove, name: name})
		return nil
	}
	if !f.d.dirs[name] {
		return pathErr("remove", name, fs.ErrNotExist)
	}
	if names, _ := f.List(name); len(names) > 0 {
		return pathErr("remove", name, fmt.Errorf("directory not empty"))
	}
	delete(f.d.dirs, name)
	f.d.journal = append(f.d.journal, metaOp{kind: opRmdir, name: name})
	return nil
}

func (f *diskFS) Rename(oldname, newname string) error {
	if err := f.stale("rename", oldname); err != nil {
		return err
	}
	oldname, newname = clean(oldname), clean(newname)
	if err := f.d.injected("rename"); err != nil {
		return pathErr("rename", oldname, err)
	}
	if !f.parentExists(newname) {
		return pathErr("rename", newname, fs.ErrNotExist)
	}
	if in := f.d.files[oldname]; in != nil {
		if f.d.dirs[newname] {
			return pathErr("rename", newname, fmt.Errorf("is a directory"))
		}
		if old := f.d.files[newname]; old != nil {
			f.d.used -= int64(len(old.data))
			delete(f.d.dirtyInodes, old.ino)
		}
		f.d.files[newname] = in
		delete(f.d.files, oldname)
		f.d.journal = append(f.d.journal, metaOp{kind: opRename, name: oldname, newName: newname, ino: in})
		return nil
	}
	if !f.d.dirs[oldname] {
		return pathErr("rename", oldname, fs.ErrNotExist)
	}
	if f.d.dirs[newname] || f.d.files[newname] != nil {
		return pathErr("rename", newname, fs.ErrExist)
	}
	renameTree(f.d.dirs, f.d.files, oldname, newname)
	f.d.journal = append(f.d.journal, metaOp{kind: opRename, name: oldname, newName: newname, isDirRen: true})
	return nil
}

func (f *diskFS) MkdirAll(dir string) error {
	if err := f.stale("mkdirall", dir); err != nil {
		return err
	}
	dir = clean(dir)
	if f.d.files[dir] != nil {
		return pathErr("mkdir", dir, fs.ErrExist)
	}
	if f.d.dirs[dir] {
		return nil
	}
	if parent := path.Dir(dir); parent != dir {
		if err := f.MkdirAll(parent); err != nil {
			return err
		}
	}
	f.d.dirs[dir] = true
	f.d.journal = append(f.d.journal, metaOp{kind: opMkdir, name: dir})
	return nil
}

func (f *diskFS) List(dir string) ([]string, error) {
	if err := f.stale("list", dir); err != nil {
		return nil, err
	}
	dir = clean(dir)
	if !f.d.dirs[dir] {
		return nil, pathErr("list", dir, fs.ErrNotExist)
	}
	var names []string
	for _, name := range env.SortedKeys(f.d.files) {
		if path.Dir(name) == dir {
			names = append(names, path.Base(name))
		}
	}
	for _, name := range env.SortedKeys(f.d.dirs) {
		if name != dir && path.Dir(name) == dir {
			names = append(names, path.Base(name))
		}
	}
	sort.Strings(names)
	return names, nil
}

func (f *diskFS) Stat(name string) (env.FileInfo, error) {
	if err := f.stale("stat", name); err != nil {
		return env.FileInfo{}, err
	}
	name = clean(name)
	if in := f.d.files[name]; in != nil {
		return env.FileInfo{Name: path.Base(name), Size: int64(len(in.data))}, nil
	}
	if f.d.dirs[name] {
		return env.FileInfo{Name: path.Base(name), IsDir: true}, nil
	}
	return env.FileInfo{}, pathErr("stat", name, fs.ErrNotExist)
}

func (f *diskFS) SyncDir(dir string) error {
	if err := f.stale("syncdir", dir); err != nil {
		return err
	}
	dir = clean(dir)
	f.d.diskSync()
	if err := f.d.injected("syncdir"); err != nil {
		return pathErr("syncdir", dir, err)
	}
	if !f.d.dirs[dir] {
		return pathErr("syncdir", dir, fs.ErrNotExist)
	}
	f.d.syncDir(dir)
	f.d.aimDisk(aimAfterSync)
	return nil
}

// file is an open handle on an inode.
type file struct {
	fs       *diskFS
	name     string
	in       *inode
	writable bool
	closed   bool
}

func (h *file) check(op string) error {
	if err := h.fs.stale(op, h.name); err != nil {
		return err
	}
	if h.closed {
		return pathErr(op, h.name, fs.ErrClosed)
	}
	if !h.writable && op != "read" && op != "size" {
		return pathErr(op, h.name, fmt.Errorf("file opened read-only"))
	}
	return nil
}

func (h *file) Write(p []byte) (int, error) { return h.WriteAt(p, int64(len(h.in.data))) }

func (h *file) WriteAt(p []byte, off int64) (int, error) {
	if err := h.check("write"); err != nil {
		return 0, err
	}
	d := h.fs.d
	d.diskWrite()
	if err := d.injected("write"); err != nil {
		return 0, pathErr("write", h.name, err)
	}
	if !d.oracle && env.Chance(d.node.w.rng, d.node.w.Profile.WriteEIOProb) {
		d.Stats.WriteEIO++
		d.note("eio write %s", h.name)
		return 0, pathErr("write", h.name, env.ErrIO)
	}
	grow := max(0, off+int64(len(p))-int64(len(h.in.data)))
	n, err := int64(len(p)), error(nil)
	if grow > 0 && (d.full || d.used+grow > d.capacity) {
		room := int64(0)
		if !d.full {
			room = d.capacity - d.used
		}
		n = max(0, min(n, int64(len(h.in.data))-off+room))
		err = pathErr("write", h.name, env.ErrNoSpace)
		d.Stats.NoSpace++
	}
	if n > 0 {
		end := off + n
		if end > int64(len(h.in.data)) {
			d.used += end - int64(len(h.in.data))
			h.in.data = growTo(h.in.data, end)
			h.in.sizeDirty = true
		}
		copy(h.in.data[off:end], p[:n])
		d.markDirty(h.in, off, n)
		d.lastWrite = lastWrite{in: h.in, off: off, len: n}
		d.aimDisk(aimAfterWrite)
	}
	return int(n), err
}

// growTo extends b to size with zeros (a hole reads as zeros).
func growTo(b []byte, size int64) []byte {
	if int64(cap(b)) >= size {
		out := b[:size]
		clear(out[len(b):])
		return out
	}
	out := make([]byte, size, max(size, int64(cap(b))*2))
	copy(out, b)
	return out
}

func (h *file) ReadAt(p []byte, off int64) (int, error) {
	if err := h.check("read"); err != nil {
		return 0, err
	}
	if off >= int64(len(h.in.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.in.data[off:])
	h.fs.d.readFlip(p[:n])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *file) Sync() error {
	if err := h.check("sync"); err != nil {
		return err
	}
	d := h.fs.d
	d.diskSync()
	err := d.injected("sync")
	if err == nil && !d.oracle && env.Chance(d.node.w.rng, d.node.w.Profile.SyncEIOProb) {
		err = env.ErrIO
	}
	in := h.in
	if err != nil {
		// Write-back failed: the dirty pages are dropped as clean without reaching the
		// platter, so not even a later successful Sync persists them.
		d.Stats.SyncEIO++
		d.note("eio sync %s", h.name)
		in.dirty, in.sizeDirty = nil, false
		delete(d.dirtyInodes, in.ino)
		return pathErr("sync", h.name, err)
	}
	d.aimSync(in)
	// Only dirty sectors reach the platter: a sector whose earlier write-back failed keeps
	// its old durable content until it is written again.
	d.durableVersion++
	size := int64(len(in.data))
	if int64(len(in.durable)) > size {
		in.durable = in.durable[:size]
	} else {
		in.durable = growTo(in.durable, size)
	}
	for s := range in.dirty {
		lo := s * env.SectorSize
		if lo < size {
			copy(in.durable[lo:min(lo+env.SectorSize, size)], in.data[lo:])
		}
	}
	in.dirty, in.sizeDirty = nil, false
	delete(d.dirtyInodes, in.ino)
	if d.lastWrite.in == in {
		d.lastWrite.synced = true
	}
	d.aimDisk(aimAfterSync)
	return nil
}

func (h *file) Truncate(size int64) error {
	if err := h.check("truncate"); err != nil {
		return err
	}
	in, d := h.in, h.fs.d
	old := int64(len(in.data))
	if size == old {
		return nil
	}
	if size > old {
		d.used += size - old
		in.data = growTo(in.data, size)
		d.markDirty(in, old, size-old)
	} else {
		d.used -= old - size
		d.markDirty(in, size, old-size)
		in.data = in.data[:size]
	}
	in.sizeDirty = true
	return nil
}

func (h *file) Size() (int64, error) {
	if err := h.check("size"); err != nil {
		return 0, err
	}
	return int64(len(h.in.data)), nil
}

func (h *file) Close() error {
	if h.closed {
		return pathErr("close", h.name, fs.ErrClosed)
	}
	h.closed = true
	return nil
}
