package sim

import (
	"fmt"
	"io/fs"

	"github.com/petrel-io/petrel/core/env"
)

// Durability oracles: what a power loss right now is sure to keep. Checkers use them to judge,
// at the moment a program acknowledges something or sends a message that promises it, that
// the promise is already on the platter, instead of waiting for a crash to land in the window.

// DurableFS returns a private, writable copy of the disk's worst-case durable image: only the
// names the journal has committed and only synced content, as the unluckiest power loss would
// leave them. Recovery code can run on it (it may write) without touching the node's disk.
// It copies every durable file, so callers should cache by DurableVersion.
func (d *Disk) DurableFS() env.FS {
	return d.image(d.durableDirs, d.durableFiles, func(in *inode) []byte { return in.durable })
}

// CurrentFS returns a private, writable copy of the disk as reads see it now: after a crash
// and before the node reads anything, exactly what the crash left for its recovery (a process
// crash keeps unsynced bytes, which DurableFS leaves out).
func (d *Disk) CurrentFS() env.FS {
	return d.image(d.dirs, d.files, func(in *inode) []byte { return in.data })
}

// image is a private disk holding dirs and a copy of each file's content (hard links kept
// as one inode), all of it durable. Writes on it count as no fault and no statistic of the
// real disk's.
func (d *Disk) image(dirs map[string]bool, files map[string]*inode, content func(*inode) []byte) env.FS {
	c := &Disk{
		node: d.node, capacity: d.capacity,
		dirs: cloneSet(dirs), durableDirs: cloneSet(dirs),
		files: map[string]*inode{}, durableFiles: map[string]*inode{},
		failNext: map[string]error{},
		oracle:   true,
	}
	copies := map[*inode]*inode{}
	for _, name := range env.SortedKeys(files) {
		in := files[name]
		cp := copies[in]
		if cp == nil {
			c.nextIno++
			cp = &inode{ino: c.nextIno, data: append([]byte(nil), content(in)...)}
			cp.durable = append([]byte(nil), cp.data...)
			copies[in] = cp
		}
		c.files[name], c.durableFiles[name] = cp, cp
		c.used += int64(len(cp.data))
	}
	return c.fs()
}

// DurableVersion changes whenever the durable image may have changed (a sync, a directory
// sync, a crash), so an oracle can reuse what it derived from an unchanged image.
func (d *Disk) DurableVersion() uint64 { return d.durableVersion }

// ReadDurable returns a copy of one file's worst-case durable content (its synced bytes,
// under a name the journal has committed), without copying the whole disk as DurableFS does.
func (d *Disk) ReadDurable(name string) ([]byte, error) {
	in, ok := d.durableFiles[clean(name)]
	if !ok {
		return nil, fmt.Errorf("sim: read durable %s: %w", name, fs.ErrNotExist)
	}
	return append([]byte(nil), in.durable...), nil
}
