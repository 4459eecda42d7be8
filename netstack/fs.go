package netstack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/petrel-io/petrel/core/env"
)

// osFS is the production env.FS: names are host paths, written with slashes.
type osFS struct{}

// mapFSErr classifies OS errors for errors.Is. Both the env sentinel and the original error
// stay in the chain, so callers can test either and the message keeps the path and syscall.
// Missing and existing files need no mapping: os already wraps them as fs.ErrNotExist and
// fs.ErrExist.
func mapFSErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		// A quota is a full device as far as the writer can tell: the remedy is the same.
		return fmt.Errorf("%w: %w", env.ErrNoSpace, err)
	case errors.Is(err, syscall.EIO):
		return fmt.Errorf("%w: %w", env.ErrIO, err)
	}
	return err
}

func hostPath(name string) string { return filepath.FromSlash(name) }

// Create implements env.FS.
func (osFS) Create(name string) (env.File, error) {
	return openFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
}

// Open implements env.FS.
func (osFS) Open(name string) (env.File, error) {
	return openFile(name, os.O_RDONLY)
}

// OpenRW implements env.FS.
func (osFS) OpenRW(name string) (env.File, error) {
	return openFile(name, os.O_RDWR)
}

// Remove implements env.FS.
func (osFS) Remove(name string) error {
	return mapFSErr(os.Remove(hostPath(name)))
}

// Rename implements env.FS. rename(2) is atomic on POSIX file systems, which is what the
// contract promises.
func (osFS) Rename(oldname, newname string) error {
	return mapFSErr(os.Rename(hostPath(oldname), hostPath(newname)))
}

// MkdirAll implements env.FS.
func (osFS) MkdirAll(dir string) error {
	return mapFSErr(os.MkdirAll(hostPath(dir), 0o755))
}

// List implements env.FS. os.ReadDir already sorts by name.
func (osFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(hostPath(dir))
	if err != nil {
		return nil, mapFSErr(err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// Stat implements env.FS.
func (osFS) Stat(name string) (env.FileInfo, error) {
	fi, err := os.Stat(hostPath(name))
	if err != nil {
		return env.FileInfo{}, mapFSErr(err)
	}
	return env.FileInfo{Name: fi.Name(), Size: fi.Size(), IsDir: fi.IsDir()}, nil
}

// SyncDir implements env.FS. Directory entries live in the directory's own data, so making
// a create, rename or remove durable takes an fsync of the directory itself.
func (osFS) SyncDir(dir string) error {
	d, err := os.Open(hostPath(dir))
	if err != nil {
		return mapFSErr(err)
	}
	syncErr := d.Sync()
	closeErr := d.Close()
	if syncErr != nil {
		return fmt.Errorf("sync dir %s: %w", dir, mapFSErr(syncErr))
	}
	return mapFSErr(closeErr)
}

// osFile is an open file. end is where Write appends: tracking it here, instead of opening
// with O_APPEND, keeps WriteAt usable on the same handle (Linux ignores pwrite's offset on
// O_APPEND files) and makes an append one pwrite. It assumes this handle is the only writer
// of the file while open, which is how the engine uses files (one owner each).
//
// The env contract lets Sync run on another executor (another goroutine here) while the owner
// writes. That is safe without a lock: end is read and written only by the owner's calls
// (Write, WriteAt, Truncate), Sync touches nothing but f, which never changes after open, and
// *os.File serialises its own use of the descriptor (pwrite and fsync on one descriptor from two
// threads are fine for the kernel too). fs_sync_test.go checks it under -race.
type osFile struct {
	f   *os.File
	end int64
}

func openFile(name string, flag int) (env.File, error) {
	f, err := os.OpenFile(hostPath(name), flag, 0o644)
	if err != nil {
		return nil, mapFSErr(err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close() // the Stat error is the one worth reporting
		return nil, mapFSErr(err)
	}
	return &osFile{f: f, end: fi.Size()}, nil
}

// Write implements env.File.
func (o *osFile) Write(p []byte) (int, error) {
	n, err := o.f.WriteAt(p, o.end)
	o.end += int64(n) // bytes that made it are in the file even when the rest failed
	return n, mapFSErr(err)
}

// WriteAt implements env.File.
func (o *osFile) WriteAt(p []byte, off int64) (int, error) {
	n, err := o.f.WriteAt(p, off)
	o.end = max(o.end, off+int64(n))
	return n, mapFSErr(err)
}

// ReadAt implements env.File. os.File.ReadAt already returns io.EOF on a short read at the
// end, which must stay unwrapped for callers comparing with ==.
func (o *osFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := o.f.ReadAt(p, off)
	return n, mapFSErr(err)
}

// Sync implements env.File with fdatasync, which covers the size as well as the data (see
// datasync). It must not read end: it may run beside the owner's writes (see osFile).
func (o *osFile) Sync() error {
	return mapFSErr(datasync(o.f))
}

// Truncate implements env.File.
func (o *osFile) Truncate(size int64) error {
	if err := o.f.Truncate(size); err != nil {
		return mapFSErr(err)
	}
	o.end = size
	return nil
}

// Size implements env.File. It asks the OS rather than returning end, so that a read-only
// handle sees what another handle has appended since it was opened.
func (o *osFile) Size() (int64, error) {
	fi, err := o.f.Stat()
	if err != nil {
		return 0, mapFSErr(err)
	}
	return fi.Size(), nil
}

// Close implements env.File.
func (o *osFile) Close() error {
	return mapFSErr(o.f.Close())
}
