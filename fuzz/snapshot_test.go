package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jetstream"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/fsm/consumer"
)

// fuzzSnapshotBytesMax bounds decompression here: a few bytes of S2 may claim up to the
// server's gigabyte, which would make each run slow rather than find anything.
const fuzzSnapshotBytesMax = 1 << 20

// FuzzSnapshotContainer feeds arbitrary bytes to the stream snapshot decoders: as a raw
// container, as a container whose sections are reframed with correct lengths and checksums
// (so the fuzzer reaches the parts' own decoders behind the CRCs), and as an S2-compressed
// snapshot. Decoding never panics; a snapshot it accepts encodes and decodes back to an equal
// one. Separately, a valid container with one byte damaged (at the input's offset, by its
// XOR) is always refused.
func FuzzSnapshotContainer(f *testing.F) {
	valid := fuzzSnapshot(f)
	raw, err := valid.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	packed, err := jetstream.EncodeSnapshot(valid)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw, uint32(0), byte(1))
	f.Add(packed, uint32(len(raw)/2), byte(0x80))
	f.Add([]byte("PTRLJSS\x01"), uint32(9), byte(0xff))
	f.Fuzz(func(t *testing.T, data []byte, at uint32, flip byte) {
		checkSnapshotDecode(t, data)
		checkSnapshotDecode(t, reframe(data))
		if s, err := jetstream.DecodeSnapshot(data, fuzzSnapshotBytesMax); err == nil {
			checkSnapshotRoundTrip(t, s)
		}
		damaged := append([]byte(nil), raw...)
		damaged[int(at)%len(damaged)] ^= flip | 1
		var s jetstream.Snapshot
		if err := s.UnmarshalBinary(damaged); !errors.Is(err, jetstream.ErrBadSnapshot) {
			t.Fatalf("a container damaged at %d was not refused: %v", int(at)%len(damaged), err)
		}
	})
}

func checkSnapshotDecode(t *testing.T, data []byte) {
	var s jetstream.Snapshot
	if err := s.UnmarshalBinary(data); err != nil {
		if !errors.Is(err, jetstream.ErrBadSnapshot) {
			t.Fatalf("refusal not classified: %v", err)
		}
		return
	}
	checkSnapshotRoundTrip(t, &s)
}

func checkSnapshotRoundTrip(t *testing.T, s *jetstream.Snapshot) {
	raw, err := s.MarshalBinary()
	if err != nil {
		t.Fatalf("re-encode an accepted snapshot: %v", err)
	}
	var back jetstream.Snapshot
	if err := back.UnmarshalBinary(raw); err != nil {
		t.Fatalf("decode a re-encoded snapshot: %v", err)
	}
	again, _ := back.MarshalBinary()
	if !bytes.Equal(raw, again) || len(back.Consumers) != len(s.Consumers) || !bytes.Equal(back.Store, s.Store) {
		t.Fatal("round trip changed the snapshot")
	}
	for i := range s.Consumers {
		if !back.Consumers[i].State.Equal(s.Consumers[i].State) {
			t.Fatalf("consumer %d's state changed", i)
		}
	}
}

// reframe reads data as sections after the magic (kind, a 4-byte length cut from the
// input, body) and writes them back framed as the container frames them, checksums and
// end included, so the fuzzer's bodies reach the definition, consumer and store decoders.
func reframe(data []byte) []byte {
	table := crc32.MakeTable(crc32.Castagnoli)
	out := []byte("PTRLJSS\x01")
	consumers := uint32(0)
	section := func(kind byte, body []byte) {
		start := len(out)
		out = append(out, kind)
		out = binary.LittleEndian.AppendUint64(out, uint64(len(body)))
		out = append(out, body...)
		out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out[start:], table))
	}
	for len(data) >= 5 {
		kind, n := data[0]%3+1, int(binary.LittleEndian.Uint32(data[1:]))
		data = data[5:]
		n = min(n, len(data))
		if kind == 2 {
			consumers++
		}
		section(kind, data[:n])
		data = data[n:]
	}
	end := binary.LittleEndian.AppendUint32(nil, consumers)
	section(4, binary.LittleEndian.AppendUint32(end, crc32.Checksum(out, table)))
	return out
}

// fuzzSnapshot is a valid snapshot: a memory store's snapshot with a few messages (one
// removed), and one consumer with pending and redelivered messages.
func fuzzSnapshot(f *testing.F) *jetstream.Snapshot {
	fw := newFuzzWorld(0)
	st, err := filestore.NewMemory(fw.e, fw.cfg)
	if err != nil {
		f.Fatal(err)
	}
	for i := 0; i < fuzzMsgs; i++ {
		st.Store(fuzzSubject(i), nil, fuzzData(i), filestore.StoreOpts{}, func(env.Seq, error) {})
	}
	if err := st.RemoveMsg(2, nil); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := st.Snapshot(&buf); err != nil {
		f.Fatal(err)
	}
	created := time.Unix(1700000000, 0).UTC()
	state := consumer.State{Delivered: consumer.SeqPair{Consumer: 5, Stream: 5}, AckFloor: consumer.SeqPair{Consumer: 2, Stream: 2},
		Pending:     map[uint64]consumer.Pending{3: {Consumer: 3, Time: 100}, 5: {Consumer: 5, Time: 120}},
		Redelivered: map[uint64]uint64{4: 1}}
	return &jetstream.Snapshot{Config: jsapi.StreamConfig{Name: "S", Subjects: []string{"f.>"}}, Created: created,
		Consumers: []jetstream.SnapshotConsumer{{Name: "C", Created: created, State: state,
			Config: jsapi.ConsumerConfig{Name: "C", Durable: "C", AckPolicy: jsapi.AckExplicit, AckWait: time.Second}}},
		Store: buf.Bytes()}
}
