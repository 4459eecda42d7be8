package fuzz

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/fsm/consumer"
)

// FuzzConsumerState feeds arbitrary bytes to the consumer state decoder, as they are and
// framed with a correct header, length and checksum (so the fuzzer reaches the field parser
// and the invariant checks behind the CRC): Decode never panics; a state it accepts encodes
// and decodes back to itself, and a consumer can start from it (Decode accepts nothing that
// New's assertions refuse).
func FuzzConsumerState(f *testing.F) {
	f.Add(consumer.State{}.Encode())
	f.Add(consumer.State{Delivered: consumer.SeqPair{Consumer: 5, Stream: 9}, AckFloor: consumer.SeqPair{Consumer: 1, Stream: 2},
		Pending:     map[uint64]consumer.Pending{3: {Consumer: 2, Time: 100}, 9: {Consumer: 5, Time: -90}},
		Redelivered: map[uint64]uint64{3: 2, 7: 3}}.Encode())
	f.Add([]byte{0x05, 0x09, 0x01, 0x02, 0x02, 0x01, 0x01, 0xc8, 0x01, 0x06, 0x03, 0x13, 0x02, 0x03, 0x02, 0x04, 0x03})
	f.Fuzz(func(t *testing.T, data []byte) {
		checkConsumerState(t, data)
		checkConsumerState(t, frameConsumerState(data))
	})
}

// frameConsumerState wraps a body in version 1's framing: "PC", version 1, the body's length
// as a uvarint, the body, and the CRC-32C of all that, little-endian.
func frameConsumerState(body []byte) []byte {
	out := append([]byte{'P', 'C', 1}, binary.AppendUvarint(nil, uint64(len(body)))...)
	out = append(out, body...)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out, crc32.MakeTable(crc32.Castagnoli)))
}

func checkConsumerState(t *testing.T, data []byte) {
	st, err := consumer.Decode(data)
	if err != nil {
		return
	}
	again, err := consumer.Decode(st.Encode())
	if err != nil {
		t.Fatalf("decode of a re-encoded state: %v", err)
	}
	if !again.Equal(st) {
		t.Fatalf("round trip changed the state:\n %+v\n %+v", st, again)
	}
	cfg := jsapi.ConsumerConfig{AckPolicy: jsapi.AckExplicit, AckWait: time.Second, MaxDeliver: -1}
	c := consumer.New(cfg, st)
	if !c.State().Equal(st) {
		t.Fatalf("a consumer started from %+v holds %+v", st, c.State())
	}
}
