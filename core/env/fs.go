package env

import (
	"errors"
	"io/fs"
)

// Errors the FS returns, classified so callers use errors.Is. Missing and existing files use
// io/fs's sentinels (fs.ErrNotExist, fs.ErrExist, fs.ErrClosed).
var (
	// ErrNoSpace: the device is full (ENOSPC). Part of a write may have happened.
	ErrNoSpace = errors.New("no space left on device")
	// ErrIO: the device failed the operation (EIO). After a failed Sync nothing the sync
	// covered may be assumed durable, now or later.
	ErrIO = errors.New("input/output error")
)

// SectorSize is the unit of torn writes: a crash keeps or loses each unsynced 512-byte
// sector of a file as a whole.
const SectorSize = 512

// FS is a node's file system. Names are slash-separated paths; directories must exist before
// files are created in them. See the package doc for what is durable after which call.
type FS interface {
	// Create creates or truncates the named file and opens it for reading and writing.
	Create(name string) (File, error)
	// Open opens an existing file for reading.
	Open(name string) (File, error)
	// OpenRW opens an existing file for reading and writing.
	OpenRW(name string) (File, error)
	// Remove deletes a file or an empty directory.
	Remove(name string) error
	// Rename atomically replaces newname, if it exists, with oldname.
	Rename(oldname, newname string) error
	// MkdirAll creates dir and any missing parents.
	MkdirAll(dir string) error
	// List returns the names (not paths) in dir, sorted.
	List(dir string) ([]string, error)
	// Stat describes the named file or directory.
	Stat(name string) (FileInfo, error)
	// SyncDir makes dir's entries durable: creations, renames and removals in it that
	// happened before the call survive a crash once it returns nil.
	SyncDir(dir string) error
}

// FileInfo describes a file.
type FileInfo struct {
	Name  string
	Size  int64
	IsDir bool
}

// File is an open file. It belongs to one executor at a time (its owner), with one
// exception: Sync may run on one other executor concurrently with the owner's Write, WriteAt,
// ReadAt and Size, so a caller can overlap an fsync with its next writes. Such a Sync covers
// every write that returned before Sync was called; a write racing with it may be covered,
// not covered, or covered in part (sector by sector, as if unsynced). At most one Sync of a
// File runs at a time (two overlapping Syncs could split one write-back error between them,
// and the one that misses it would return nil for lost data), and Truncate and Close never
// overlap a Sync.
type File interface {
	// Write appends p at the end of the file as this handle knows it (its size at open,
	// moved by its own writes and truncates). Two handles writing one file use WriteAt.
	Write(p []byte) (int, error)
	// WriteAt writes p at offset off, extending the file if needed.
	WriteAt(p []byte, off int64) (int, error)
	// ReadAt reads len(p) bytes at off; fewer only with an error (io.EOF at the end).
	ReadAt(p []byte, off int64) (int, error)
	// Sync makes the file's data and size durable: every write and truncate that returned
	// before the call (see File for the one call that may run on another executor).
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Size returns the current size.
	Size() (int64, error)
	// Close releases the file; it does not sync.
	Close() error
}

// IsNotExist reports whether err says a file is missing.
func IsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
