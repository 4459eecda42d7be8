package consumer

import (
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/petrel-io/petrel/core/env"
)

// The state file: one per consumer, <dir>/state, replaced whole on every write.
//
// A write goes to <dir>/state.tmp, is fsynced, renamed over <dir>/state, and the directory
// is fsynced. Why this is safe: the rename is atomic and the tmp file's bytes were durable
// before it, so after a crash <dir>/state is either the previous file or the new one, whole
// (a crash before the directory sync may keep either name); the encoding's checksum catches
// rot at rest, and OpenFile reports it instead of starting from an empty state. A Save's done
// runs only after the directory sync of a write carrying that Save's state (or a newer one)
// returned nil, so an acknowledged state is never older than what a restart reads. A failed
// fsync halts the node (env.Halt): the kernel may have dropped the pages, and no later sync
// could make them durable.
//
// At most one write is in flight, on the sync executor (which does nothing else of this
// file's); Saves made meanwhile are coalesced: only the newest state is written next, and
// every done waiting on it runs after that write. All of File's fields belong to the owner
// executor; the sync executor sees only a writeJob, built on the owner and not shared.

// ErrClosed is what a Save after Close completes with.
var ErrClosed = errors.New("consumer state file closed")

const (
	// StateFile is the state's file in the consumer's directory.
	StateFile = "state"
	tmpName   = "state.tmp"
	// stateReadTries: reads of a state that fails its checksum before it is called damaged.
	stateReadTries = 3
)

// filePhase names what the file is doing.
type filePhase int

const (
	// fileIdle: no write in flight; a Save starts one at once.
	fileIdle filePhase = iota
	// fileWriting: a write is in flight on the sync executor; Saves wait in next.
	fileWriting
)

// File keeps one consumer's State durable.
type File struct {
	fs     env.FS
	dir    string
	syncEx env.Executor
	owner  env.Executor
	phase  filePhase
	// closed: Close was called; Saves fail with ErrClosed (a write in flight, and the state
	// waiting for it, still complete).
	closed bool
	// flight: the dones the write in flight carries (fileWriting).
	flight []func(error)
	// next: the newest state waiting for the write after the one in flight, and its dones.
	next     []byte
	nextDone []func(error)
}

// OpenFile opens a consumer's state directory, creating it (durably) when missing, and reads
// <dir>/state: a missing file is the empty State; a damaged one is an error wrapping
// ErrDamaged, never a silent reset. Saves run their writes on syncEx and their dones on owner;
// OpenFile, Save and Close must be called on owner.
func OpenFile(fsys env.FS, dir string, syncEx, owner env.Executor) (*File, State, error) {
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, State{}, fmt.Errorf("consumer state %s: %w", dir, err)
	}
	// The directory's own entry (and its parents') must be durable before a state in it is.
	for d := dir; d != "." && d != "/" && d != ""; d = path.Dir(d) {
		if err := fsys.SyncDir(path.Dir(d)); err != nil {
			return nil, State{}, fmt.Errorf("consumer state %s: sync %s: %w", dir, path.Dir(d), err)
		}
	}
	// A leftover tmp file is a write that never reached its rename: nothing was promised.
	if err := fsys.Remove(path.Join(dir, tmpName)); err != nil && !env.IsNotExist(err) {
		return nil, State{}, fmt.Errorf("consumer state %s: remove %s: %w", dir, tmpName, err)
	}
	// A state that fails its checksum is read again: a bit flipped in transit passes, rot at
	// rest does not (the consumer then stays offline, for an operator).
	st, err := readState(fsys, path.Join(dir, StateFile))
	for try := 1; try < stateReadTries && errors.Is(err, ErrDamaged); try++ {
		st, err = readState(fsys, path.Join(dir, StateFile))
	}
	if err != nil {
		return nil, State{}, fmt.Errorf("consumer state %s: %w", dir, err)
	}
	return &File{fs: fsys, dir: dir, syncEx: syncEx, owner: owner}, st, nil
}

// readState reads and decodes a state file; a missing one is the empty state.
func readState(fsys env.FS, name string) (State, error) {
	f, err := fsys.Open(name)
	if env.IsNotExist(err) {
		return State{}, nil
	}
	if err != nil {
		return State{}, err
	}
	defer func() { _ = f.Close() }() // read only: a failed close loses nothing
	size, err := f.Size()
	if err != nil {
		return State{}, err
	}
	if size > stateBytesMax {
		return State{}, fmt.Errorf("%w: %d bytes, more than %d", ErrDamaged, size, stateBytesMax)
	}
	b := make([]byte, size)
	if _, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
		return State{}, fmt.Errorf("read: %w", err)
	}
	return Decode(b)
}

// Save makes st (an encoded State, which Save now owns) the state to keep, and runs done on
// the owner executor once a write containing st or a newer state is durable, or with the
// error that stopped that write (the previous state stays in place). done may be nil.
func (f *File) Save(st []byte, done func(error)) {
	env.Assertf(len(st) > 0, "consumer state %s: save of nothing", f.dir)
	if f.closed {
		if done != nil {
			f.owner.Post(func() { done(ErrClosed) })
		}
		return
	}
	f.next = st
	if done != nil {
		f.nextDone = append(f.nextDone, done)
	}
	if f.phase == fileIdle {
		f.startWrite()
	}
}

// startWrite hands the newest state to the sync executor.
func (f *File) startWrite() {
	env.Assertf(f.phase == fileIdle && f.next != nil, "consumer state %s: write started with one in flight", f.dir)
	job := writeJob{fs: f.fs, dir: f.dir, data: f.next}
	f.flight, f.next, f.nextDone = f.nextDone, nil, nil
	f.phase = fileWriting
	f.syncEx.Post(func() {
		err := job.run()
		f.owner.Post(func() { f.writeDone(err) })
	})
}

// writeDone ends a write (on the owner): its dones run, and the state that waited for it, if
// any, goes next.
func (f *File) writeDone(err error) {
	env.Assertf(f.phase == fileWriting, "consumer state %s: write ended with none in flight", f.dir)
	dones := f.flight
	f.flight, f.phase = nil, fileIdle
	if f.next != nil {
		f.startWrite()
	}
	for _, done := range dones {
		done(err)
	}
}

// Close stops taking Saves. A write in flight and the state waiting for it still complete
// (their dones run); the caller must not remove the directory before they have.
func (f *File) Close() error {
	if f.closed {
		return ErrClosed
	}
	f.closed = true
	return nil
}

// writeJob is one write of the state file, run on the sync executor.
type writeJob struct {
	fs   env.FS
	dir  string
	data []byte
}

// run writes, syncs and renames the tmp file, then syncs the directory. Operating errors
// (no space, a failed write) are returned and leave the previous state in place; a failed
// sync halts the node.
func (j writeJob) run() error {
	tmp, final := path.Join(j.dir, tmpName), path.Join(j.dir, StateFile)
	f, err := j.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("consumer state %s: create: %w", j.dir, err)
	}
	if _, err := f.Write(j.data); err != nil {
		_ = f.Close() // the write failed already; the tmp file is rewritten next time
		return fmt.Errorf("consumer state %s: write: %w", j.dir, err)
	}
	if err := f.Sync(); err != nil {
		env.Halt(fmt.Errorf("consumer state %s: sync: %w", j.dir, err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("consumer state %s: close: %w", j.dir, err)
	}
	if err := j.fs.Rename(tmp, final); err != nil {
		return fmt.Errorf("consumer state %s: rename: %w", j.dir, err)
	}
	if err := j.fs.SyncDir(j.dir); err != nil {
		env.Halt(fmt.Errorf("consumer state %s: sync directory: %w", j.dir, err))
	}
	return nil
}
