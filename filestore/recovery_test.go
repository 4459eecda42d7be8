package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

const blockFile = "data/stream/0000000001.blk"

// fillAndClose stores n messages with distinct payloads and closes the store cleanly.
func fillAndClose(t *testing.T, h *harness, n int) map[env.Seq]string {
	t.Helper()
	st := h.openFile()
	want := map[env.Seq]string{}
	for i := 0; i < n; i++ {
		data := fmt.Sprintf("payload-%02d-%s", i, strings.Repeat("z", i))
		want[h.mustStore(st, fmt.Sprintf("s.%d", i%3), data)] = data
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return want
}

// TestEveryBitFlip flips, one at a time, one bit of every byte of a block file (header,
// message records, commit records) and reopens: recovery never panics, never serves a
// message whose bytes changed, loses at most the one message the flip hit, reports that
// loss, and keeps the last sequence.
func TestEveryBitFlip(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Compression: CompressionS2, Cipher: CipherChaCha, Key: bytes.Repeat([]byte{1}, 32)},
		{Cipher: CipherAES, Key: bytes.Repeat([]byte{2}, 32)},
	} {
		t.Run(fmt.Sprintf("compression=%d cipher=%d", cfg.Compression, cfg.Cipher), func(t *testing.T) {
			h := newHarness(t, 11, cfg)
			want := fillAndClose(t, h, 8)
			original, err := h.n.Disk.ReadFile(blockFile)
			if err != nil {
				t.Fatal(err)
			}
			lossy := 0
			defer func() {
				if lossy == 0 && !t.Failed() {
					t.Fatal("no flip lost a message: the test is not reaching the records")
				}
			}()
			for off := int64(0); off < int64(len(original)); off++ {
				h.n.Disk.FlipBitAt(blockFile, off, uint(off%8))
				st := h.openFile()
				lost := checkSurvivors(t, st, want, off)
				if lost > 1 {
					t.Fatalf("flip at %d lost %d messages", off, lost)
				}
				lossy += lost
				if lost == 1 && len(st.Damage()) == 0 {
					t.Fatalf("flip at %d lost a message without reporting it", off)
				}
				if st.State().LastSeq != env.Seq(len(want)) {
					t.Fatalf("flip at %d: last seq %d, want %d", off, st.State().LastSeq, len(want))
				}
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
				restoreFile(t, h, blockFile, original)
			}
		})
	}
}

// checkSurvivors asserts every message the store serves is exactly what was stored, and
// returns how many are missing.
func checkSurvivors(t *testing.T, st Store, want map[env.Seq]string, flip int64) int {
	t.Helper()
	lost := 0
	for seq, data := range want {
		m, err := st.LoadMsg(seq)
		switch {
		case errors.Is(err, ErrNotFound) || errors.Is(err, ErrCorrupt):
			lost++
		case err != nil:
			t.Fatalf("flip at %d: load %d: %v", flip, seq, err)
		case string(m.Data) != data || m.Seq != seq:
			t.Fatalf("flip at %d: served seq %d as %q, stored %q", flip, seq, m.Data, data)
		}
	}
	return lost
}

// restoreFile puts a file's bytes back (through a fresh incarnation's FS) and syncs them.
func restoreFile(t *testing.T, h *harness, name string, data []byte) {
	t.Helper()
	f, err := h.e.FS.Create(name)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		t.Fatal(err)
	}
	_ = f.Close() // synced above
}

// TestTornTail cuts the block file at every length: recovery keeps every message whose
// record lies wholly before the cut and reports the cut as a torn tail.
func TestTornTail(t *testing.T) {
	h := newHarness(t, 12, Config{})
	want := fillAndClose(t, h, 5)
	original, _ := h.n.Disk.ReadFile(blockFile)
	rep, err := CheckBlock(original)
	if err != nil || len(rep.Seqs) != 5 {
		t.Fatalf("check: %+v %v", rep, err)
	}
	for cut := len(original) - 1; cut >= 0; cut-- {
		restoreFile(t, h, blockFile, original[:cut])
		st := h.openFile()
		for seq, data := range want {
			m, err := st.LoadMsg(seq)
			if err == nil && string(m.Data) != data {
				t.Fatalf("cut %d: seq %d served %q", cut, seq, m.Data)
			}
		}
		if seq := h.mustStore(st, "after", "x"); seq == 0 {
			t.Fatalf("cut %d: store after recovery failed", cut)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCorruptOnRead: a bit rotting after recovery is caught when the record is read: the
// message is reported and never served, and the ones around it stay readable.
func TestCorruptOnRead(t *testing.T) {
	h := newHarness(t, 13, Config{})
	st := h.openFile()
	for i := 0; i < 3; i++ {
		h.mustStore(st, "a", fmt.Sprintf("message %d", i))
	}
	rep, _ := CheckBlock(mustRead(t, h, blockFile))
	if len(rep.Seqs) != 3 {
		t.Fatalf("report %+v", rep)
	}
	second := int64(st.(*store).msgs.get(2).off)
	h.n.Disk.FlipBitAt(blockFile, second+recordHeaderBytes+3, 3)
	_, err := st.LoadMsg(2)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Seq != 2 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("load 2: %v", err)
	}
	if m, err := st.LoadNext(AllSubjects, 2); err != nil || m.Seq != 3 {
		t.Fatalf("next after corrupt: %v %v", m, err)
	}
	if _, err := st.LoadMsg(2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("corrupt message served again: %v", err)
	}
	if d := st.Damage(); len(d) != 1 || d[0].Seq != 2 || d[0].Kind != DamageCorrupt {
		t.Fatalf("damage %v", d)
	}
}

func mustRead(t *testing.T, h *harness, name string) []byte {
	t.Helper()
	data, err := h.n.Disk.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestEncryptionAndCompression: ciphertext on disk, round trips, key checks, and S2 saving
// space on compressible data.
func TestEncryptionAndCompression(t *testing.T) {
	secret := strings.Repeat("secret payload ", 40)
	for _, cipher := range []Cipher{CipherChaCha, CipherAES} {
		h := newHarness(t, 14, Config{Cipher: cipher, Compression: CompressionS2, Key: bytes.Repeat([]byte{9}, 32)})
		st := h.openFile()
		h.mustStore(st, "top.secret", secret)
		rlen := st.(*store).msgs.get(1).rlen
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		raw := mustRead(t, h, blockFile)
		if bytes.Contains(raw, []byte("secret")) {
			t.Fatalf("cipher %d: plaintext on disk", cipher)
		}
		if int(rlen) > len(secret)/2 {
			t.Fatalf("cipher %d: a %d-byte record for a compressible %d-byte payload", cipher, rlen, len(secret))
		}
		st = h.openFile()
		m, err := st.LoadMsg(1)
		if err != nil || string(m.Data) != secret || m.Subject != "top.secret" {
			t.Fatalf("cipher %d: round trip: %v", cipher, err)
		}
		_ = st.Close() // reopened below with other keys
		h.cfg.Key = bytes.Repeat([]byte{8}, 32)
		if _, err := OpenFile(h.e, h.config()); !errors.Is(err, ErrBadKey) {
			t.Fatalf("cipher %d: wrong key: %v", cipher, err)
		}
		h.cfg.Key, h.cfg.Cipher = nil, CipherNone
		if _, err := OpenFile(h.e, h.config()); !errors.Is(err, ErrBadKey) {
			t.Fatalf("cipher %d: no key: %v", cipher, err)
		}
	}
}

// TestEraseOverwrites: after EraseMsg the payload is gone from the disk, the message from
// the store, and recovery sees a deleted message, not damage.
func TestEraseOverwrites(t *testing.T) {
	h := newHarness(t, 15, Config{})
	st := h.openFile()
	h.mustStore(st, "a", "first-secret")
	h.mustStore(st, "a", "keep")
	if err := h.waitDone(func(done func(error)) error { return st.EraseMsg(1, done) }); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(mustRead(t, h, blockFile), []byte("first-secret")) {
		t.Fatal("erased payload still on disk")
	}
	st = h.openFile()
	wantSeqs(t, st, 2)
	if d := st.Damage(); len(d) != 0 {
		t.Fatalf("erase reported as damage: %v", d)
	}
}

// TestSnapshotRestore: a snapshot restored into a fresh store of either kind reproduces the
// state, the deleted list and every message; a damaged snapshot is refused whole.
func TestSnapshotRestore(t *testing.T) {
	h := newHarness(t, 16, Config{BlockBytes: 512})
	src := h.openFile()
	for i := 0; i < 30; i++ {
		h.mustStore(src, fmt.Sprintf("s.%d", i%4), fmt.Sprintf("m%d", i))
	}
	for _, seq := range []env.Seq{3, 7, 8, 30} {
		if err := src.RemoveMsg(seq, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Compact(2, nil); err != nil {
		t.Fatal(err)
	}
	h.settle()
	var snap bytes.Buffer
	if err := src.Snapshot(&snap); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, 17, Config{BlockBytes: 512})
	for _, dst := range []Store{h2.openFile(), h2.openMem()} {
		h2.mustStore(dst, "old", "replaced by the restore")
		if err := h2.waitDone(func(done func(error)) error { return dst.Restore(bytes.NewReader(snap.Bytes()), done) }); err != nil {
			t.Fatal(err)
		}
		sameContent(t, src, dst)
	}
	dst := h2.openMem()
	damaged := append([]byte(nil), snap.Bytes()...)
	damaged[len(damaged)/2] ^= 1
	if err := dst.Restore(bytes.NewReader(damaged), nil); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("damaged snapshot: %v", err)
	}
	if err := dst.Restore(bytes.NewReader(snap.Bytes()[:snap.Len()-1]), nil); !errors.Is(err, ErrBadSnapshot) {
		t.Fatalf("truncated snapshot: %v", err)
	}
}

func sameContent(t *testing.T, a, b Store) {
	t.Helper()
	if sa, sb := a.State(), b.State(); fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Fatalf("states differ:\n %+v\n %+v", sa, sb)
	}
	if da, db := fmt.Sprint(a.Deleted()), fmt.Sprint(b.Deleted()); da != db {
		t.Fatalf("deleted differ: %s vs %s", da, db)
	}
	for _, seq := range seqsOf(t, a) {
		ma, _ := a.LoadMsg(seq)
		mb, err := b.LoadMsg(seq)
		if err != nil || fmt.Sprint(ma) != fmt.Sprint(mb) {
			t.Fatalf("seq %d differs: %v / %v %v", seq, ma, mb, err)
		}
	}
}

// TestEncodedState: the encoding round-trips, deleted ranges included, and refuses damage.
func TestEncodedState(t *testing.T) {
	h := newHarness(t, 18, Config{})
	st := h.openMem()
	for i := 0; i < 10; i++ {
		h.mustStore(st, "a", "x")
	}
	for _, seq := range []env.Seq{2, 3, 6} {
		if err := st.RemoveMsg(seq, nil); err != nil {
			t.Fatal(err)
		}
	}
	enc := st.EncodedState()
	got, err := DecodeState(enc)
	want := st.State()
	want.Deleted = st.Deleted()
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("decode: %+v %v, want %+v", got, err, want)
	}
	for i := range enc {
		bad := append([]byte(nil), enc...)
		bad[i] ^= 0x10
		if _, err := DecodeState(bad); err == nil {
			t.Fatalf("flip at %d accepted", i)
		}
	}
}

// TestEraseLastKeepsSequence: erasing the newest message and crashing before the erase is
// durable must not lose the last sequence (found by the rapid test: the erased record used to
// carry no sequence, so replay lowered the last sequence and would have handed it out again).
func TestEraseLastKeepsSequence(t *testing.T) {
	for _, machine := range []bool{false, true} {
		h := newHarness(t, 25, Config{})
		st := h.openFile()
		h.mustStore(st, "a", "only")
		if err := st.EraseMsg(1, nil); err != nil {
			t.Fatal(err)
		}
		h.crash(machine) // before the erase's commit ran
		st = h.openFile()
		if got := st.State(); got.LastSeq != 1 {
			t.Fatalf("machine=%v: last seq %d after an erase and a crash, want 1", machine, got.LastSeq)
		}
		if seq := h.mustStore(st, "a", "next"); seq != 2 {
			t.Fatalf("machine=%v: next store got seq %d, want 2", machine, seq)
		}
	}
}

// TestHeaderFlipRepaired: one flipped bit in a record header is corrected, on disk too, and
// costs nothing, including in the last record of a block, where it would otherwise look
// like a torn tail (found by the filestore sim workload, seeds 100275, 100679, 101016).
func TestHeaderFlipRepaired(t *testing.T) {
	// 400-byte blocks: each message fills its block, so its commit records go to the next
	// one and the message is the block's last record.
	h := newHarness(t, 26, Config{BlockBytes: 400})
	st := h.openFile()
	for i := 0; i < 3; i++ {
		h.mustStore(st, "a", strings.Repeat(fmt.Sprint(i), 150))
	}
	e := st.(*store).msgs.get(2)
	name := blockName("data/stream", e.block)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	data := mustRead(t, h, name)
	if end := int64(e.off) + int64(e.rlen); end > int64(len(data)) || !allZero(data[end:]) {
		t.Fatalf("seq 2 is not the last record of its block (%d+%d of %d)", e.off, e.rlen, len(data))
	}
	for _, bit := range []int64{0, 17, 333, 47*8 + 7} {
		h.n.Disk.FlipBitAt(name, int64(e.off)+bit/8, uint(bit%8))
		st = h.openFile()
		wantSeqs(t, st, 1, 2, 3)
		d := st.Damage()
		if len(d) != 1 || d[0].Kind != DamageRepaired || d[0].Seq != 2 {
			t.Fatalf("bit %d: damage %v", bit, d)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		st = h.openFile()
		if d := st.Damage(); len(d) != 0 {
			t.Fatalf("bit %d: the repair did not reach the disk: %v", bit, d)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHeaderFlipRepairedOnRead: a header bit that rots while the store runs is corrected on
// read as well, so the message is served and not lost.
func TestHeaderFlipRepairedOnRead(t *testing.T) {
	h := newHarness(t, 27, Config{})
	st := h.openFile()
	h.mustStore(st, "a", "first")
	h.mustStore(st, "a", "second")
	e := st.(*store).msgs.get(2)
	h.n.Disk.FlipBitAt(blockFile, int64(e.off)+20, 4)
	m, err := st.LoadMsg(2)
	if err != nil || string(m.Data) != "second" {
		t.Fatalf("load: %v %v", m, err)
	}
	if d := st.Damage(); len(d) != 1 || d[0].Kind != DamageRepaired {
		t.Fatalf("damage %v", d)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st = h.openFile(); len(st.Damage()) != 0 {
		t.Fatalf("repair not written back: %v", st.Damage())
	}
}

// TestPreallocatedBlocks: a block file is zero-filled ahead of its records, in stretches that
// double up to BlockBytes; recovery keeps an all-zero tail as room (no damage, nothing cut)
// and appends after it land in place; a tail with anything but zeros after the last record is
// still a torn tail, reported and cut, so no stale bytes can sit behind new records.
func TestPreallocatedBlocks(t *testing.T) {
	h := newHarness(t, 28, Config{BlockBytes: 1 << 20})
	st := h.openFile()
	h.mustStore(st, "a", "one")
	size := func() int64 { return int64(len(mustRead(t, h, blockFile))) }
	if got := size(); got != preallocBytesMin {
		t.Fatalf("block file of %d bytes after one message, want %d", got, preallocBytesMin)
	}
	for i := 0; i < 100; i++ {
		h.mustStore(st, "a", strings.Repeat("x", 1000))
	}
	if got := size(); got != 2*preallocBytesMin {
		t.Fatalf("block file of %d bytes after ~100 KB, want %d", got, 2*preallocBytesMin)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = h.openFile()
	if d := st.Damage(); len(d) != 0 {
		t.Fatalf("a zero tail reported as damage: %v", d)
	}
	h.mustStore(st, "a", "after reopen")
	end := int64(st.(*store).msgs.get(102).off) + int64(st.(*store).msgs.get(102).rlen)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if got := size(); got != 2*preallocBytesMin {
		t.Fatalf("reopen changed the block file to %d bytes", got)
	}

	// Stale bytes past the last record (say, a torn write of records never acknowledged).
	f, err := h.e.FS.OpenRW(blockFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("stale"), end+100); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	st = h.openFile()
	if d := st.Damage(); len(d) != 1 || d[0].Kind != DamageTornTail || d[0].Offset < end {
		t.Fatalf("damage %v, want one torn tail after %d", d, end)
	}
	if got := size(); got >= 2*preallocBytesMin || got < end {
		t.Fatalf("block file of %d bytes: the stale tail was not cut after %d", got, end)
	}
	h.mustStore(st, "a", "after the cut")
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = h.openFile()
	if d := st.Damage(); len(d) != 0 {
		t.Fatalf("damage after the cut and a new append: %v", d)
	}
	if m, err := st.LoadLast(AllSubjects); err != nil || string(m.Data) != "after the cut" || m.Seq != 103 {
		t.Fatalf("last %v %v", m, err)
	}
}

// TestNoPreallocationForLargeSyncs: once syncs average more than preallocSyncBytesMax,
// writing zeros ahead costs more than it saves, and new blocks grow by appends only.
func TestNoPreallocationForLargeSyncs(t *testing.T) {
	h := newHarness(t, 29, Config{BlockBytes: 1 << 20})
	st := h.openFile()
	big := strings.Repeat("y", 200<<10)
	var last env.Seq
	for i := 0; i < 12; i++ {
		last = h.mustStore(st, "a", big) // one sync each
	}
	e := st.(*store).msgs.get(uint64(last))
	if e.block < 2 {
		t.Fatalf("seq %d in block %d: no rotation", last, e.block)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	data := mustRead(t, h, blockName("data/stream", e.block))
	if tail := data[len(data)-64:]; allZero(tail) {
		t.Fatalf("block %d (%d bytes) ends in zeros: preallocated for 200 KiB syncs", e.block, len(data))
	}
	if first := mustRead(t, h, blockFile); !allZero(first[len(first)-64:]) {
		t.Fatalf("the first block (small syncs so far) was not preallocated")
	}
}

// TestFailedSyncRewrittenAtOpen: a failed fsync leaves its pages readable but clean, so no
// later sync writes them. Recovery reads them and serves them, so it must write them again:
// everything a reopened store served survives the next power loss, including records in a
// block older than the newest (the failed batch spanned a rotation).
func TestFailedSyncRewrittenAtOpen(t *testing.T) {
	h := newHarness(t, 31, Config{BlockBytes: 4096})
	st := h.openFile()
	h.mustStore(st, "a", "one")
	want := map[env.Seq]string{1: "one", 2: strings.Repeat("2", 2000), 3: strings.Repeat("3", 3000)}
	h.n.Disk.FailNext("sync", env.ErrIO)
	st.Store("a", nil, []byte(want[2]), StoreOpts{}, func(env.Seq, error) { t.Error("acknowledged a write whose sync failed") })
	st.Store("a", nil, []byte(want[3]), StoreOpts{}, func(env.Seq, error) { t.Error("acknowledged a write whose sync failed") })
	h.settle()
	if h.n.Up() {
		t.Fatal("the node survived a failed fsync")
	}
	h.n.Restart()
	check := func(when string, st Store) {
		t.Helper()
		for seq, data := range want {
			if m, err := st.LoadMsg(seq); err != nil || string(m.Data) != data {
				t.Fatalf("%s: seq %d: %v", when, seq, err)
			}
		}
	}
	st = h.openFile()
	check("reopened after the failed sync", st)
	want[h.mustStore(st, "a", "four")] = "four"
	h.crash(true)
	check("after a power loss", h.openFile())
}

// TestRecoveryRewritesOnlyRecentBlocks: the blocks synced in full before the newest was
// created are not written again at open, so reopening a large store costs a few blocks.
func TestRecoveryRewritesOnlyRecentBlocks(t *testing.T) {
	h := newHarness(t, 32, Config{BlockBytes: 4096})
	st := h.openFile()
	for i := range 200 {
		h.mustStore(st, "a", fmt.Sprintf("%0500d", i))
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	h.settle()
	st, counting := h.openCounting(t)
	if n := st.State().Msgs; n != 200 {
		t.Fatalf("reopened with %d messages", n)
	}
	if counting.written == 0 || counting.written > 3*4096 {
		t.Fatalf("recovery wrote %d bytes over 200 messages in 4 KiB blocks, want the newest few blocks", counting.written)
	}
}

// TestBothHeaderCopiesFlipped: one flipped bit in each copy of a block header is corrected,
// not taken for a block with no header (which would cost every message in it), and both
// copies are written again.
func TestBothHeaderCopiesFlipped(t *testing.T) {
	h := newHarness(t, 35, Config{})
	want := fillAndClose(t, h, 5)
	data, _ := h.n.Disk.ReadFile(blockFile)
	data[40] ^= 1 << 1
	data[blockHeaderBytes+56] ^= 1 << 3
	restoreFile(t, h, blockFile, data)
	st := h.openFile()
	for seq, payload := range want {
		if m, err := st.LoadMsg(seq); err != nil || string(m.Data) != payload {
			t.Fatalf("seq %d: %v", seq, err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ = h.n.Disk.ReadFile(blockFile)
	if _, copies, err := parseBlockHeader(data); copies != 2 || err != nil {
		t.Fatalf("after the repair the header has %d intact copies (%v)", copies, err)
	}
}
