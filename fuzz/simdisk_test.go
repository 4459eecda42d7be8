package fuzz

import (
	"bytes"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// FuzzSimDisk checks the simulated disk against the durability contract in core/env: the
// input is a program of file operations and crashes, and after every power loss each sector
// of the file must hold either its last synced content or its latest written content, and
// the size must lie between the synced size and the written one.
func FuzzSimDisk(f *testing.F) {
	f.Add([]byte{0, 10, 1, 0, 20, 4}, uint64(1))
	f.Add([]byte{0, 200, 1, 2, 3, 7, 3, 1, 4, 0, 9, 5, 4}, uint64(2))
	f.Fuzz(func(t *testing.T, program []byte, seed uint64) {
		quiet := sim.Quiet()
		w := sim.NewWorld(seed, sim.Options{Profile: &quiet})
		var e *env.Env
		n := w.AddNode("n1", sim.NodeConfig{Crashable: true}, func(fresh *env.Env) { e = fresh })
		file, err := e.FS.Create("f")
		if err != nil {
			t.Fatal(err)
		}
		if err := e.FS.SyncDir("."); err != nil {
			t.Fatal(err)
		}
		var synced, current []byte
		next := func() int {
			if len(program) == 0 {
				return 0
			}
			b := program[0]
			program = program[1:]
			return int(b)
		}
		fill := byte(1)
		for len(program) > 0 {
			switch next() % 6 {
			case 0, 2: // write or overwrite
				size := 1 + next()*23
				off := len(current)
				if len(program) > 0 && program[0]%2 == 0 && len(current) > 0 {
					off = next() * 37 % len(current)
				}
				p := bytes.Repeat([]byte{fill}, size)
				fill++
				if _, err := file.WriteAt(p, int64(off)); err != nil {
					t.Fatal(err)
				}
				if end := off + size; end > len(current) {
					current = append(current, make([]byte, end-len(current))...)
				}
				copy(current[off:], p)
			case 1:
				if err := file.Sync(); err != nil {
					t.Fatal(err)
				}
				synced = append(synced[:0], current...)
			case 3:
				size := next() * 41
				if err := file.Truncate(int64(size)); err != nil {
					t.Fatal(err)
				}
				current = resize(current, size)
			case 4, 5:
				machine := program == nil || next()%2 == 0
				n.Crash(machine)
				n.Restart()
				got, err := n.Disk.ReadFile("f")
				if err != nil {
					t.Fatalf("a synced file vanished: %v", err)
				}
				if machine {
					checkCrashImage(t, got, synced, current)
					synced = append([]byte(nil), got...)
				} else if !bytes.Equal(got, current) {
					// The page cache outlives a process: nothing changes, and
					// nothing becomes durable either.
					t.Fatalf("a process crash changed the file")
				}
				current = append([]byte(nil), got...)
				if file, err = e.FS.OpenRW("f"); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func resize(b []byte, size int) []byte {
	if size <= len(b) {
		return b[:size]
	}
	return append(b, make([]byte, size-len(b))...)
}

// checkCrashImage asserts the disk model's promise for one file after a power loss.
func checkCrashImage(t *testing.T, got, synced, current []byte) {
	t.Helper()
	lo, hi := min(len(synced), len(current)), max(len(synced), len(current))
	if len(got) < lo || len(got) > hi {
		t.Fatalf("size after crash %d outside [%d, %d]", len(got), lo, hi)
	}
	old, cur := resize(append([]byte(nil), synced...), len(got)), resize(append([]byte(nil), current...), len(got))
	for s := 0; s < len(got); s += env.SectorSize {
		end := min(s+env.SectorSize, len(got))
		if !bytes.Equal(got[s:end], old[s:end]) && !bytes.Equal(got[s:end], cur[s:end]) {
			t.Fatalf("sector at %d is neither its synced nor its written content", s)
		}
	}
}
