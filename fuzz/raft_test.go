package fuzz

import (
	"errors"
	"reflect"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
	"github.com/petrel-io/petrel/sim"
)

// FuzzRaftMessage feeds arbitrary bytes to raft's message decoder and frame reader: they
// must never panic, a rejection must wrap raft.ErrCorrupt, and anything accepted must
// re-encode to a message that decodes to itself.
func FuzzRaftMessage(f *testing.F) {
	seeds := []raft.Message{
		{Type: raft.MsgApp, To: 2, From: 1, Term: 3, LogTerm: 2, Index: 7, Commit: 6,
			Entries: []raft.Entry{{Term: 3, Index: 8, Type: raft.EntryNormal, Data: []byte("x")}}},
		{Type: raft.MsgVote, To: 3, From: 1, Term: 4, LogTerm: 3, Index: 9, Context: []byte("transfer")},
		{Type: raft.MsgSnap, To: 2, From: 1, Term: 5, Snap: &raft.SnapshotChunk{
			Meta:   raft.SnapshotMeta{Index: 10, Term: 4, Conf: raft.ConfState{Voters: []raft.ID{1, 2, 3}}},
			Offset: 4, Total: 9, Data: []byte("abc")}},
		{Type: raft.MsgAppResp, To: 1, From: 2, Term: 5, Index: 7, Reject: true, RejectHint: 3},
	}
	for i := range seeds {
		f.Add(raft.AppendMessage(nil, &seeds[i]))
		f.Add(raft.AppendFrame(nil, &seeds[i]))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := raft.DecodeMessage(p)
		if err != nil {
			if !errors.Is(err, raft.ErrCorrupt) {
				t.Fatalf("rejection %v does not wrap ErrCorrupt", err)
			}
		} else {
			again, err := raft.DecodeMessage(raft.AppendMessage(nil, &m))
			if err != nil || !reflect.DeepEqual(again, m) {
				t.Fatalf("re-encoding %+v gave %+v, %v", m, again, err)
			}
		}
		var r raft.FrameReader
		_ = r.Feed(p, func(m raft.Message) { // errors are expected; panics are not
			if _, err := raft.DecodeMessage(raft.AppendMessage(nil, &m)); err != nil {
				t.Fatalf("frame gave a message that does not re-encode: %v", err)
			}
		})
	})
}

// FuzzRaftWAL recovers a WAL whose one segment holds arbitrary bytes (after a few valid
// records, sometimes): recovery must not panic, must fail only with raft.ErrCorrupt, must
// give a contiguous log whose commit index it holds, and must be idempotent (recovering
// again after a crash gives the same state).
func FuzzRaftWAL(f *testing.F) {
	f.Add([]byte{}, uint8(0))
	f.Add([]byte("garbage after the records"), uint8(3))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, uint8(1))
	f.Fuzz(func(t *testing.T, tail []byte, records uint8) {
		quiet := sim.Quiet()
		w := sim.NewWorld(1, sim.Options{Profile: &quiet})
		var e *env.Env
		node := w.AddNode("n1", sim.NodeConfig{Crashable: true}, func(fresh *env.Env) { e = fresh })
		wal, _, err := raft.OpenWAL(e.FS, "wal", raft.SnapshotMeta{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := env.Index(records % 8)
		var ents []raft.Entry
		for i := env.Index(1); i <= n; i++ {
			ents = append(ents, raft.Entry{Term: 1, Index: i, Type: raft.EntryNormal, Data: []byte{byte(i)}})
		}
		if err := wal.Save(&raft.HardState{Term: 1, Commit: n / 2}, ents, nil, true); err != nil {
			t.Fatal(err)
		}
		file, err := e.FS.OpenRW("wal/0000000000000001.wal")
		if err != nil {
			t.Fatal(err)
		}
		size, _ := file.Size()
		if _, err := file.WriteAt(tail, size); err != nil {
			t.Fatal(err)
		}
		if err := file.Sync(); err != nil {
			t.Fatal(err)
		}
		node.Crash(false)
		node.Restart()
		_, st, err := raft.OpenWAL(e.FS, "wal", raft.SnapshotMeta{}, 0)
		if err != nil {
			if !errors.Is(err, raft.ErrCorrupt) {
				t.Fatalf("recovery failed with %v, not ErrCorrupt", err)
			}
			return
		}
		for i, en := range st.Entries {
			if en.Index != env.Index(i+1) {
				t.Fatalf("entry %d has index %d", i, en.Index)
			}
		}
		if int(st.Hard.Commit) > len(st.Entries) {
			t.Fatalf("commit %d past %d entries", st.Hard.Commit, len(st.Entries))
		}
		if len(st.Entries) < int(n) {
			t.Fatalf("lost synced records: %d of %d entries", len(st.Entries), n)
		}
		node.Crash(true)
		node.Restart()
		_, again, err := raft.OpenWAL(e.FS, "wal", raft.SnapshotMeta{}, 0)
		if err != nil || !reflect.DeepEqual(again, st) {
			t.Fatalf("second recovery differs: %+v vs %+v (%v)", again, st, err)
		}
	})
}
