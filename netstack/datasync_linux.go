package netstack

import (
	"errors"
	"os"
	"syscall"
)

// datasync is fdatasync: the file's data and whatever metadata reading it back needs (its
// size, its block map), without timestamps. That is all the env contract promises for
// File.Sync, and it lets an overwrite of already allocated blocks (the file store's
// preallocated blocks) sync without a journal commit.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if !errors.Is(serr, syscall.EINTR) {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
