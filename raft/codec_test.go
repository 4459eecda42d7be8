package raft

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/petrel-io/petrel/core/env"
	"pgregory.net/rapid"
)

func drawIDs(t *rapid.T, label string) []ID {
	raw := rapid.SliceOfNDistinct(rapid.Uint64Range(1, 1<<40), 0, 5, rapid.ID[uint64]).Draw(t, label)
	var ids []ID
	for _, v := range raw {
		ids = insert(ids, ID(v))
	}
	return ids
}

func drawConf(t *rapid.T) ConfState {
	c := ConfState{Voters: drawIDs(t, "voters")}
	for _, id := range drawIDs(t, "learners") {
		if !c.IsVoter(id) {
			c.Learners = append(c.Learners, id)
		}
	}
	return c
}

func drawBytes(t *rapid.T, label string) []byte {
	b := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, label)
	if len(b) == 0 {
		return nil // decoding gives nil for empty
	}
	return b
}

// drawMessage draws a message that a member could send.
func drawMessage(t *rapid.T) Message {
	types := []MessageType{MsgApp, MsgAppResp, MsgVote, MsgVoteResp, MsgPreVote, MsgPreVoteResp,
		MsgHeartbeat, MsgHeartbeatResp, MsgSnap, MsgSnapResp, MsgTimeoutNow, MsgReadIndex,
		MsgReadIndexResp, MsgTransferLeader}
	m := Message{
		Type: rapid.SampledFrom(types).Draw(t, "type"),
		To:   ID(rapid.Uint64().Draw(t, "to")), From: ID(rapid.Uint64().Draw(t, "from")),
		Term: env.Term(rapid.Uint64().Draw(t, "term")), LogTerm: env.Term(rapid.Uint64().Draw(t, "logterm")),
		Index: env.Index(rapid.Uint64Range(0, 1<<50).Draw(t, "index")), Commit: env.Index(rapid.Uint64().Draw(t, "commit")),
		Reject: rapid.Bool().Draw(t, "reject"), RejectHint: env.Index(rapid.Uint64().Draw(t, "hint")),
		Context: drawBytes(t, "context"),
	}
	if m.Type == MsgApp {
		n := rapid.IntRange(0, 5).Draw(t, "entries")
		for i := range n {
			m.Entries = append(m.Entries, Entry{
				Term: env.Term(rapid.Uint64().Draw(t, "eterm")), Index: m.Index + 1 + env.Index(i),
				Type: rapid.SampledFrom([]EntryType{EntryNormal, EntryConfChange}).Draw(t, "etype"),
				Data: drawBytes(t, "data"),
			})
		}
	}
	if m.Type == MsgSnap || m.Type == MsgSnapResp {
		data := drawBytes(t, "chunk")
		off := rapid.Uint64Range(0, 1<<20).Draw(t, "offset")
		m.Snap = &SnapshotChunk{
			Meta:   SnapshotMeta{Index: env.Index(rapid.Uint64().Draw(t, "sindex")), Term: env.Term(rapid.Uint64().Draw(t, "sterm")), Conf: drawConf(t)},
			Offset: off, Total: off + uint64(len(data)) + rapid.Uint64Range(0, 100).Draw(t, "rest"), Data: data,
		}
	}
	return m
}

// TestCodecRoundTrip: every message a member can send decodes to itself, through a frame
// stream cut at arbitrary points.
func TestCodecRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		msgs := rapid.SliceOfN(rapid.Custom(drawMessage), 1, 8).Draw(t, "msgs")
		var stream []byte
		for i := range msgs {
			got, err := DecodeMessage(AppendMessage(nil, &msgs[i]))
			if err != nil {
				t.Fatalf("decode %v: %v", msgs[i], err)
			}
			if !reflect.DeepEqual(got, msgs[i]) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", got, msgs[i])
			}
			stream = AppendFrame(stream, &msgs[i])
		}
		var r FrameReader
		var out []Message
		for len(stream) > 0 {
			n := rapid.IntRange(1, len(stream)).Draw(t, "cut")
			if err := r.Feed(stream[:n], func(m Message) { out = append(out, m) }); err != nil {
				t.Fatal(err)
			}
			stream = stream[n:]
		}
		if !reflect.DeepEqual(out, msgs) {
			t.Fatalf("frames: got %d messages, want %d", len(out), len(msgs))
		}
	})
}

// TestCodecRejects: damaged or impossible encodings are errors wrapping ErrCorrupt, never
// panics or silently wrong messages.
func TestCodecRejects(t *testing.T) {
	good := Message{Type: MsgApp, To: 2, From: 1, Term: 3, Index: 4, LogTerm: 2,
		Entries: []Entry{{Term: 3, Index: 5, Type: EntryNormal, Data: []byte("x")}}}
	enc := AppendMessage(nil, &good)
	local := good
	local.Type, local.Entries = MsgHup, nil
	gap := good
	gap.Entries = []Entry{{Term: 3, Index: 7, Type: EntryNormal}}
	cases := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"bad version", append([]byte{9}, enc[1:]...)},
		{"truncated", enc[:len(enc)-1]},
		{"trailing byte", append(append([]byte(nil), enc...), 0)},
		{"local message type", AppendMessage(nil, &local)},
		{"entries not following Index", AppendMessage(nil, &gap)},
		{"huge entry count", []byte{codecVersion, byte(MsgApp), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := DecodeMessage(c.in); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
		})
	}
	// A flipped bit anywhere in a frame fails the frame.
	frame := AppendFrame(nil, &good)
	for i := range frame {
		for bit := range 8 {
			bad := bytes.Clone(frame)
			bad[i] ^= 1 << bit
			var r FrameReader
			got := 0
			err := r.Feed(bad, func(Message) { got++ })
			if err == nil && got > 0 {
				t.Fatalf("flip byte %d bit %d: frame accepted", i, bit)
			}
		}
	}
}

func TestConfChangeRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cc := ConfChange{
			Type: rapid.SampledFrom([]ConfChangeType{AddLearner, AddVoter, RemoveNode}).Draw(t, "type"),
			Node: ID(rapid.Uint64Range(1, 1<<60).Draw(t, "node")),
			Conf: drawConf(t),
		}
		got, err := decodeConfChange(encodeConfChange(cc))
		if err != nil || !reflect.DeepEqual(got, cc) {
			t.Fatalf("got %+v, %v; want %+v", got, err, cc)
		}
	})
}
