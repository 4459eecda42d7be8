package raft

import (
	"fmt"
	"path"
	"strings"

	"github.com/petrel-io/petrel/core/env"
)

// snapshotsKept is how many snapshot files a SnapStore keeps: the newest, and one older
// one to fall back on should the newest rot. The WAL keeps the log back to the older one,
// so either suffices for recovery.
const snapshotsKept = 2

// SnapStore keeps snapshots as files in a directory, one mirrored record per file (see
// wal_record.go), named by index and term so that names sort oldest first.
type SnapStore struct {
	fs  env.FS
	dir string
}

func snapName(m SnapshotMeta) string { return fmt.Sprintf("%016x-%016x.snap", m.Index, m.Term) }

// OpenSnapStore opens (creating if needed) the snapshot directory and removes temporary
// files a crash left behind.
func OpenSnapStore(fsys env.FS, dir string) (*SnapStore, error) {
	if err := mkdirDurable(fsys, dir); err != nil {
		return nil, fmt.Errorf("raft: snapshots: %w", err)
	}
	s := &SnapStore{fs: fsys, dir: dir}
	names, err := fsys.List(dir)
	if err != nil {
		return nil, fmt.Errorf("raft: snapshots: list %s: %w", dir, err)
	}
	for _, n := range names {
		if strings.HasSuffix(n, ".tmp") {
			if err := fsys.Remove(path.Join(dir, n)); err != nil {
				return nil, fmt.Errorf("raft: snapshots: remove %s: %w", n, err)
			}
		}
	}
	// A halt may have come between a rename and its directory sync: make the names that
	// recovery will trust durable. (The files' bytes were synced before the rename.)
	if err := fsys.SyncDir(dir); err != nil {
		return nil, fmt.Errorf("raft: snapshots: sync dir %s: %w", dir, err)
	}
	return s, nil
}

// Save makes snap durable: it is written to a temporary file, synced, renamed into place
// and the directory synced. Older snapshots beyond snapshotsKept are then removed.
func (s *SnapStore) Save(snap Snapshot) error {
	name := path.Join(s.dir, snapName(snap.Meta))
	tmp := name + ".tmp"
	payload := appendSnapMeta([]byte{codecVersion}, &snap.Meta)
	payload = appendBytes(payload, snap.Data)
	f, err := s.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("raft: snapshot create %s: %w", tmp, err)
	}
	_, err = f.Write(appendMirrored(nil, payload))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("raft: snapshot write %s: %w", tmp, err)
	}
	if err := s.fs.Rename(tmp, name); err != nil {
		return fmt.Errorf("raft: snapshot rename %s: %w", name, err)
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return fmt.Errorf("raft: snapshot sync dir %s: %w", s.dir, err)
	}
	return s.prune()
}

func (s *SnapStore) names() ([]string, error) {
	all, err := s.fs.List(s.dir)
	if err != nil {
		return nil, fmt.Errorf("raft: snapshots: list %s: %w", s.dir, err)
	}
	var names []string
	for _, n := range all {
		if strings.HasSuffix(n, ".snap") {
			names = append(names, n)
		}
	}
	return names, nil
}

func (s *SnapStore) prune() error {
	names, err := s.names()
	if err != nil {
		return err
	}
	if len(names) <= snapshotsKept {
		return nil
	}
	for _, n := range names[:len(names)-snapshotsKept] {
		if err := s.fs.Remove(path.Join(s.dir, n)); err != nil {
			return fmt.Errorf("raft: snapshot remove %s: %w", n, err)
		}
	}
	if err := s.fs.SyncDir(s.dir); err != nil {
		return fmt.Errorf("raft: snapshot sync dir %s: %w", s.dir, err)
	}
	return nil
}

// Load returns the snapshots that verify, newest first, and how many files did not.
func (s *SnapStore) Load() (snaps []Snapshot, bad int, err error) {
	names, err := s.names()
	if err != nil {
		return nil, 0, err
	}
	for i := len(names) - 1; i >= 0; i-- {
		snap, ok, err := s.load(names[i])
		if err != nil {
			return nil, 0, err
		}
		if !ok {
			bad++
			continue
		}
		snaps = append(snaps, snap)
	}
	return snaps, bad, nil
}

func (s *SnapStore) load(name string) (Snapshot, bool, error) {
	data, err := readFile(s.fs, path.Join(s.dir, name))
	if err != nil {
		return Snapshot{}, false, err
	}
	payload, n, ok := readMirrored(data)
	if !ok || n != len(data) {
		return Snapshot{}, false, nil
	}
	d := decoder{p: payload}
	if d.byte() != codecVersion {
		return Snapshot{}, false, nil
	}
	snap := Snapshot{Meta: d.snapMeta(), Data: d.bytes()}
	if d.finish() != nil || snapName(snap.Meta) != name {
		return Snapshot{}, false, nil
	}
	return snap, true, nil
}
