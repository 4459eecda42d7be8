package netstack

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

func TestFSRoundTrip(t *testing.T) {
	fsys := osFS{}
	dir := path.Join(t.TempDir(), "a", "b")
	must(t, fsys.MkdirAll(dir))
	name := path.Join(dir, "log")
	f, err := fsys.Create(name)
	must(t, err)
	writeAll(t, f, "hello ")
	writeAll(t, f, "world")
	must(t, f.Sync())
	must(t, f.Close())
	must(t, fsys.SyncDir(dir))

	r, err := fsys.Open(name)
	must(t, err)
	defer r.Close()
	if size, err := r.Size(); err != nil || size != 11 {
		t.Fatalf("Size = %d, %v; want 11", size, err)
	}
	if got := readAt(t, r, 0, 11); got != "hello world" {
		t.Fatalf("read %q", got)
	}
	p := make([]byte, 8)
	if n, err := r.ReadAt(p, 6); n != 5 || err != io.EOF {
		t.Fatalf("ReadAt past the end = %d, %v; want 5, io.EOF", n, err)
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Fatal("Write on a read-only file succeeded")
	}
	fi, err := fsys.Stat(dir)
	if err != nil || !fi.IsDir || fi.Name != "b" {
		t.Fatalf("Stat(dir) = %+v, %v", fi, err)
	}
}

func TestFSListSortedAndRename(t *testing.T) {
	fsys := osFS{}
	dir := t.TempDir()
	for _, n := range []string{"c", "a", "b"} {
		f, err := fsys.Create(path.Join(dir, n))
		must(t, err)
		writeAll(t, f, n)
		must(t, f.Close())
	}
	names, err := fsys.List(dir)
	must(t, err)
	if !slices.Equal(names, []string{"a", "b", "c"}) {
		t.Fatalf("List = %v", names)
	}
	must(t, fsys.Rename(path.Join(dir, "a"), path.Join(dir, "c"))) // replaces c
	names, err = fsys.List(dir)
	must(t, err)
	if !slices.Equal(names, []string{"b", "c"}) {
		t.Fatalf("List after rename = %v", names)
	}
	f, err := fsys.Open(path.Join(dir, "c"))
	must(t, err)
	defer f.Close()
	if got := readAt(t, f, 0, 1); got != "a" {
		t.Fatalf("renamed file holds %q, want a", got)
	}
	must(t, fsys.Remove(path.Join(dir, "b")))
	if _, err := fsys.Stat(path.Join(dir, "b")); !errors.Is(err, fs.ErrNotExist) || !env.IsNotExist(err) {
		t.Fatalf("Stat(removed) = %v", err)
	}
}

func TestFSErrorsClassified(t *testing.T) {
	fsys := osFS{}
	dir := t.TempDir()
	missing := path.Join(dir, "missing")
	_, errOpen := fsys.Open(missing)
	_, errRW := fsys.OpenRW(missing)
	_, errCreate := fsys.Create(path.Join(missing, "f"))
	_, errList := fsys.List(missing)
	for i, err := range []error{errOpen, errRW, errCreate, errList, fsys.Remove(missing),
		fsys.Rename(missing, path.Join(dir, "x")), fsys.SyncDir(missing)} {
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("case %d: %v is not fs.ErrNotExist", i, err)
		}
	}
	f, err := fsys.Create(path.Join(dir, "f"))
	must(t, err)
	must(t, f.Close())
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close = %v, want fs.ErrClosed", err)
	}
}

func TestFSErrnoMapping(t *testing.T) {
	for _, tc := range []struct {
		errno    syscall.Errno
		sentinel error
	}{{syscall.ENOSPC, env.ErrNoSpace}, {syscall.EDQUOT, env.ErrNoSpace}, {syscall.EIO, env.ErrIO}} {
		orig := &os.PathError{Op: "write", Path: "/data/f", Err: tc.errno}
		err := mapFSErr(orig)
		if !errors.Is(err, tc.sentinel) || !errors.Is(err, tc.errno) {
			t.Errorf("%v: mapped to %v, which is not both %v and the errno", tc.errno, err, tc.sentinel)
		}
		if want := orig.Error(); !strings.Contains(err.Error(), want) {
			t.Errorf("%v: message %q lost %q", tc.errno, err, want)
		}
	}
	plain := &os.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT}
	if err := mapFSErr(plain); err != error(plain) {
		t.Errorf("ENOENT was rewrapped: %v", err)
	}
}

// Write appends at the end even after WriteAt and Truncate moved it, which O_APPEND would
// get wrong on Linux (it ignores pwrite's offset) and a stale file offset would get wrong.
func TestFSWriteThenWriteAtThenReadAt(t *testing.T) {
	fsys := osFS{}
	name := path.Join(t.TempDir(), "f")
	f, err := fsys.Create(name)
	must(t, err)
	defer f.Close()
	writeAll(t, f, "aaaa")
	if _, err := f.WriteAt([]byte("bb"), 1); err != nil {
		t.Fatal(err)
	}
	writeAll(t, f, "cc")
	if got := readAt(t, f, 0, 6); got != "abbacc" {
		t.Fatalf("after WriteAt and Write: %q", got)
	}
	if _, err := f.WriteAt([]byte("zz"), 8); err != nil { // extends with a hole
		t.Fatal(err)
	}
	writeAll(t, f, "!")
	if got := readAt(t, f, 0, 11); got != "abbacc\x00\x00zz!" {
		t.Fatalf("after extending WriteAt: %q", got)
	}
	must(t, f.Truncate(3))
	writeAll(t, f, "Z")
	if size, err := f.Size(); err != nil || size != 4 {
		t.Fatalf("Size = %d, %v; want 4", size, err)
	}
	if got := readAt(t, f, 0, 4); got != "abbZ" {
		t.Fatalf("after Truncate and Write: %q", got)
	}

	// Reopening read-write picks up the end from the file.
	must(t, f.Close())
	rw, err := fsys.OpenRW(name)
	must(t, err)
	defer rw.Close()
	writeAll(t, rw, "?")
	if got := readAt(t, rw, 0, 5); got != "abbZ?" {
		t.Fatalf("after reopening: %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func writeAll(t *testing.T, f env.File, s string) {
	t.Helper()
	if n, err := f.Write([]byte(s)); n != len(s) || err != nil {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

func readAt(t *testing.T, f env.File, off int64, n int) string {
	t.Helper()
	p := make([]byte, n)
	if got, err := f.ReadAt(p, off); got != n || err != nil {
		t.Fatalf("ReadAt(%d bytes at %d) = %d, %v", n, off, got, err)
	}
	return string(p)
}
