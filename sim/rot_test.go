package sim

import (
	"bytes"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// TestRestartFlipAimsAtWhatRecoveryReads: a crash with restart flips on leaves one flipped
// bit in the last-written file, in the region written last or its tail, and then not again
// until something is written.
func TestRestartFlipAimsAtWhatRecoveryReads(t *testing.T) {
	old := bytes.Repeat([]byte{0x11}, 4096)
	fresh := bytes.Repeat([]byte{0x22}, 100)
	aimed := 0
	for seed := uint64(1); seed <= 40; seed++ {
		prof := Quiet()
		prof.RestartFlipProb = 1
		w := NewWorld(seed, Options{Profile: &prof})
		var e *env.Env
		n := w.AddNode("n1", NodeConfig{Crashable: true}, func(en *env.Env) { e = en })
		for _, name := range []string{"other", "log"} {
			f, err := e.FS.Create(name)
			mustOK(t, err)
			_, err = f.Write(old)
			mustOK(t, err)
			mustOK(t, f.Sync())
		}
		f, err := e.FS.OpenRW("log")
		mustOK(t, err)
		_, err = f.WriteAt(fresh, 1000)
		mustOK(t, err)
		mustOK(t, f.Sync())
		w.StartFaults(time.Second)
		n.Crash(false)
		if n.Disk.Stats.BitFlips != 1 {
			t.Fatalf("seed %d: %d flips, want 1", seed, n.Disk.Stats.BitFlips)
		}
		log, _ := n.Disk.ReadFile("log")
		for i := range log {
			if want := map[bool]byte{true: 0x22, false: 0x11}[i >= 1000 && i < 1100]; log[i] != want && (i >= 1000 && i < 1100 || i >= len(log)-64) {
				aimed++
			}
		}
		n.Restart()
		n.Crash(false)
		if n.Disk.Stats.BitFlips != 1 {
			t.Fatalf("seed %d: a second crash with no write between flipped again", seed)
		}
	}
	if aimed < 20 {
		t.Fatalf("only %d of 40 restart flips in the last write or the tail", aimed)
	}
}

// TestReadFlipLeavesTheDiskAlone: a read flip changes the bytes one read returns, in the
// recovery window of a restarted node only, and the disk keeps its content.
func TestReadFlipLeavesTheDiskAlone(t *testing.T) {
	prof := Quiet()
	prof.ReadFlipProb = 1
	w := NewWorld(1, Options{Profile: &prof})
	var e *env.Env
	n := w.AddNode("n1", NodeConfig{Crashable: true}, func(en *env.Env) { e = en })
	data := bytes.Repeat([]byte{7}, 512)
	f, err := e.FS.Create("f")
	mustOK(t, err)
	_, err = f.Write(data)
	mustOK(t, err)
	w.StartFaults(time.Minute)
	read := func() []byte {
		g, err := e.FS.Open("f")
		mustOK(t, err)
		buf := make([]byte, len(data))
		_, err = g.ReadAt(buf, 0)
		mustOK(t, err)
		return buf
	}
	if !bytes.Equal(read(), data) {
		t.Fatal("a read flip on a first boot (no recovery)")
	}
	n.Crash(false)
	n.Restart()
	if got := read(); bytes.Equal(got, data) {
		t.Fatal("no read flip in the recovery window")
	}
	if disk, _ := n.Disk.ReadFile("f"); !bytes.Equal(disk, data) || n.Disk.Stats.ReadFlips != 1 {
		t.Fatalf("the disk changed or the flip was not counted (%d)", n.Disk.Stats.ReadFlips)
	}
}
