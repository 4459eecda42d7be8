package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/sim"
)

const fuzzBlock = "data/s/0000000001.blk"

// fuzzOriginals are the messages every base block holds: seq i+1 is subject fuzzSubject(i)
// with data fuzzData(i).
const fuzzMsgs = 6

func fuzzSubject(i int) string { return fmt.Sprintf("f.%d", i%3) }
func fuzzData(i int) []byte    { return bytes.Repeat([]byte{byte('a' + i)}, 5+i*7) }

// fuzzWorld is a simulated node with a file store config.
type fuzzWorld struct {
	w   *sim.World
	n   *sim.Node
	e   *env.Env
	cfg filestore.Config
}

func newFuzzWorld(mode byte) *fuzzWorld {
	quiet := sim.Quiet()
	fw := &fuzzWorld{w: sim.NewWorld(1, sim.Options{Profile: &quiet})}
	fw.n = fw.w.AddNode("n1", sim.NodeConfig{}, func(e *env.Env) { fw.e = e })
	fw.cfg = filestore.Config{Dir: "data/s", Executor: fw.e.Exec.New("store")}
	if mode&1 != 0 {
		fw.cfg.Compression = filestore.CompressionS2
	}
	if c := (mode >> 1) % 3; c != 0 {
		fw.cfg.Cipher, fw.cfg.Key = filestore.Cipher(c), bytes.Repeat([]byte{3}, 32)
	}
	return fw
}

// baseBlock writes the original messages with a store and returns the block file's bytes.
func (fw *fuzzWorld) baseBlock(t *testing.T) []byte {
	st, err := filestore.OpenFile(fw.e, fw.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < fuzzMsgs; i++ {
		st.Store(fuzzSubject(i), nil, fuzzData(i), filestore.StoreOpts{}, func(env.Seq, error) {})
	}
	if err := st.RemoveMsg(2, nil); err != nil { // a commit record with a deletion
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := fw.n.Disk.ReadFile(fuzzBlock)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// writeBlock replaces the block file with data, durably.
func (fw *fuzzWorld) writeBlock(t *testing.T, data []byte) {
	f, err := fw.e.FS.Create(fuzzBlock)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close() // synced
}

// FuzzFilestoreRecovery feeds block files to recovery. With raw set the file is the input
// itself (arbitrary bytes); otherwise it is a valid block written by the store with the
// input's edits applied (pairs of a 16-bit offset and a byte XORed in). Recovery must never
// panic, and must never serve a message whose record fails its checksum: from an edited
// block every message served must be exactly the one stored at its sequence, and from raw
// bytes every message served must be one CheckBlock counts as intact. A store recovered from
// the bytes must also take a new message and recover again.
func FuzzFilestoreRecovery(f *testing.F) {
	f.Add(byte(0), false, []byte{})
	f.Add(byte(0), false, []byte{200, 0, 1, 130, 0, 0x80})
	f.Add(byte(1), false, []byte{0, 1, 4, 64, 0, 8, 10, 1, 255})
	f.Add(byte(2), false, []byte{140, 0, 1})
	f.Add(byte(4), true, []byte("PTRLBLK1"))
	f.Add(byte(0), true, []byte{})
	f.Fuzz(func(t *testing.T, mode byte, raw bool, input []byte) {
		fw := newFuzzWorld(mode)
		base := fw.baseBlock(t)
		data := input
		if !raw {
			data = append([]byte(nil), base...)
			for len(input) >= 3 {
				off := int(binary.LittleEndian.Uint16(input)) % (len(data) + 1)
				if off == len(data) {
					data = data[:len(data)-min(len(data), int(input[2]))] // an edit past the end cuts the tail
				} else {
					data[off] ^= input[2]
				}
				input = input[3:]
			}
		}
		fw.writeBlock(t, data)
		st, err := filestore.OpenFile(fw.e, fw.cfg)
		if err != nil {
			return // refusing to open (a key mismatch, say) is allowed; panicking is not
		}
		intact := map[uint64]bool{}
		if rep, err := filestore.CheckBlock(data); err == nil {
			for _, seq := range rep.Seqs {
				intact[seq] = true
			}
		}
		for seq := env.Seq(1); ; {
			m, err := st.LoadNext(filestore.AllSubjects, seq)
			if err != nil {
				if !errors.Is(err, filestore.ErrNotFound) {
					t.Fatalf("scan: %v", err)
				}
				break
			}
			i := int(m.Seq) - 1
			switch {
			case !raw && (i < 0 || i >= fuzzMsgs || m.Subject != fuzzSubject(i) || !bytes.Equal(m.Data, fuzzData(i))):
				t.Fatalf("served seq %d %q %q, which was never stored so", m.Seq, m.Subject, m.Data)
			case raw && !intact[uint64(m.Seq)]:
				t.Fatalf("served seq %d, which no intact record holds", m.Seq)
			}
			seq = m.Seq + 1
		}
		st.Store("after.fuzz", nil, []byte("x"), filestore.StoreOpts{}, func(env.Seq, error) {})
		if err := st.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		st, err = filestore.OpenFile(fw.e, fw.cfg)
		if err != nil {
			t.Fatalf("second recovery: %v", err)
		}
		if _, err := st.LoadLast(filestore.MustFilter("after.fuzz")); err != nil {
			t.Fatalf("message stored after recovery is gone: %v", err)
		}
	})
}
