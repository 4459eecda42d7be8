package jetstream

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"time"

	"github.com/klauspost/compress/s2"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
	fconsumer "github.com/petrel-io/petrel/fsm/consumer"
)

// A stream snapshot, as STREAM.SNAPSHOT sends it and STREAM.RESTORE takes it back, is
// Petrel's own container (not nats-server's archive: a backup restores on the server kind
// that made it), compressed as one S2 stream, because clients (jsm.go) read what they receive
// through an S2 reader to count progress and fail the backup if it is not S2.
//
// The container, version 1, uncompressed:
//
//	| part        | bytes                                                             |
//	|-------------|-------------------------------------------------------------------|
//	| magic       | "PTRLJSS" and the version byte 0x01                               |
//	| sections    | kind (1 byte), body length (8, little-endian), body,              |
//	|             | CRC-32C of kind, length and body (4, little-endian)               |
//	| order       | one stream definition (kind 1), the consumers (kind 2, any        |
//	|             | number), one store snapshot (kind 3), one end (kind 4), nothing   |
//	|             | after it                                                          |
//
// The definition body is JSON {config, created}; a consumer's is JSON {name, config,
// created, state}, state being fsm/consumer's encoding (its own checksum); the store body
// is filestore.Store.Snapshot's output (its own header and record checksums); the end body
// is the consumer count (4 bytes) and the CRC-32C of every byte before the end section.
// Decoding verifies all of it, every part's own checks included, before anything is made of
// it: any damage, truncation, reordering or trailing byte refuses the whole snapshot.

const (
	snapshotMagic   = "PTRLJSS\x01"
	sectionHeader   = 1 + 8
	sectionTrailer  = 4
	endBodyBytes    = 4 + 4
	sectionStream   = 1
	sectionConsumer = 2
	sectionStore    = 3
	sectionEnd      = 4
)

// ErrBadSnapshot classifies a snapshot that fails any of its checks.
var ErrBadSnapshot = errors.New("jetstream: bad snapshot")

// Snapshot is a stream's content as a snapshot carries it.
type Snapshot struct {
	Config    jsapi.StreamConfig
	Created   time.Time
	Consumers []SnapshotConsumer
	// Store is the stream's filestore.Store.Snapshot output.
	Store []byte
}

// SnapshotConsumer is one consumer in a snapshot: its definition and its delivery state.
type SnapshotConsumer struct {
	Name    string
	Config  jsapi.ConsumerConfig
	Created time.Time
	State   fconsumer.State
}

type consumerSection struct {
	Name    string               `json:"name"`
	Config  jsapi.ConsumerConfig `json:"config"`
	Created time.Time            `json:"created"`
	State   []byte               `json:"state"`
}

// MarshalBinary encodes the container (uncompressed).
func (s *Snapshot) MarshalBinary() ([]byte, error) {
	def, err := json.Marshal(streamMeta{Config: s.Config, Created: s.Created})
	if err != nil {
		return nil, fmt.Errorf("jetstream: snapshot definition: %w", err)
	}
	out := make([]byte, 0, len(snapshotMagic)+len(def)+len(s.Store)+4*sectionHeader)
	out = append(out, snapshotMagic...)
	out = appendSection(out, sectionStream, def)
	for _, c := range s.Consumers {
		body, err := json.Marshal(consumerSection{Name: c.Name, Config: c.Config, Created: c.Created, State: c.State.Encode()})
		if err != nil {
			return nil, fmt.Errorf("jetstream: snapshot consumer %s: %w", c.Name, err)
		}
		out = appendSection(out, sectionConsumer, body)
	}
	out = appendSection(out, sectionStore, s.Store)
	end := binary.LittleEndian.AppendUint32(nil, uint32(len(s.Consumers)))
	end = binary.LittleEndian.AppendUint32(end, crc32.Checksum(out, castagnoli))
	return appendSection(out, sectionEnd, end), nil
}

func appendSection(out []byte, kind byte, body []byte) []byte {
	start := len(out)
	out = append(out, kind)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(body)))
	out = append(out, body...)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out[start:], castagnoli))
}

// UnmarshalBinary decodes and verifies a whole container; on error s is left unchanged.
func (s *Snapshot) UnmarshalBinary(data []byte) error {
	if !bytes.HasPrefix(data, []byte(snapshotMagic)) {
		return fmt.Errorf("%w: not a Petrel stream snapshot of version 1", ErrBadSnapshot)
	}
	var out Snapshot
	names := map[string]bool{}
	p, want := len(snapshotMagic), byte(sectionStream)
	for {
		kind, body, next, err := readSection(data, p)
		if err != nil {
			return err
		}
		if kind != want && !(want == sectionStore && kind == sectionConsumer) {
			return fmt.Errorf("%w: section of kind %d at offset %d, expected %d", ErrBadSnapshot, kind, p, want)
		}
		switch kind {
		case sectionStream:
			err, want = decodeDefinition(body, &out), sectionStore
		case sectionConsumer:
			err = decodeConsumer(body, names, &out)
		case sectionStore:
			err, want = filestore.VerifySnapshot(body), sectionEnd
			out.Store = body
		case sectionEnd:
			if err := checkEnd(data, p, body, next, len(out.Consumers)); err != nil {
				return err
			}
			*s = out
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: section at offset %d: %w", ErrBadSnapshot, p, err)
		}
		p = next
	}
}

// readSection checks the section at p and returns its kind, body and the offset after it.
func readSection(data []byte, p int) (kind byte, body []byte, next int, err error) {
	if len(data)-p < sectionHeader+sectionTrailer {
		return 0, nil, 0, fmt.Errorf("%w: truncated at offset %d", ErrBadSnapshot, p)
	}
	n := binary.LittleEndian.Uint64(data[p+1:])
	if n > uint64(len(data)-p-sectionHeader-sectionTrailer) {
		return 0, nil, 0, fmt.Errorf("%w: section at offset %d claims %d bytes", ErrBadSnapshot, p, n)
	}
	end := p + sectionHeader + int(n)
	if crc32.Checksum(data[p:end], castagnoli) != binary.LittleEndian.Uint32(data[end:]) {
		return 0, nil, 0, fmt.Errorf("%w: section at offset %d fails its checksum", ErrBadSnapshot, p)
	}
	return data[p], data[p+sectionHeader : end], end + sectionTrailer, nil
}

func decodeDefinition(body []byte, out *Snapshot) error {
	var def streamMeta
	if err := json.Unmarshal(body, &def); err != nil {
		return fmt.Errorf("stream definition: %w", err)
	}
	if def.Config.Name == "" {
		return errors.New("stream definition has no name")
	}
	out.Config, out.Created = def.Config, def.Created
	return nil
}

func decodeConsumer(body []byte, names map[string]bool, out *Snapshot) error {
	if len(out.Consumers) >= snapshotConsumersMax {
		return fmt.Errorf("more than %d consumers", snapshotConsumersMax)
	}
	var c consumerSection
	if err := json.Unmarshal(body, &c); err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	switch {
	case c.Name == "" || c.Config.Name != c.Name:
		return fmt.Errorf("consumer %q is defined as %q", c.Name, c.Config.Name)
	case names[c.Name]:
		return fmt.Errorf("consumer %q twice", c.Name)
	}
	state, err := fconsumer.Decode(c.State)
	if err != nil {
		return fmt.Errorf("consumer %s: state: %w", c.Name, err)
	}
	names[c.Name] = true
	out.Consumers = append(out.Consumers, SnapshotConsumer{Name: c.Name, Config: c.Config, Created: c.Created, State: state})
	return nil
}

// checkEnd holds the end section, at offset p, against what came before it and what
// follows.
func checkEnd(data []byte, p int, body []byte, next, consumers int) error {
	switch {
	case len(body) != endBodyBytes:
		return fmt.Errorf("%w: end section of %d bytes", ErrBadSnapshot, len(body))
	case binary.LittleEndian.Uint32(body) != uint32(consumers):
		return fmt.Errorf("%w: end counts %d consumers, the snapshot holds %d", ErrBadSnapshot, binary.LittleEndian.Uint32(body), consumers)
	case binary.LittleEndian.Uint32(body[4:]) != crc32.Checksum(data[:p], castagnoli):
		return fmt.Errorf("%w: whole-snapshot checksum fails", ErrBadSnapshot)
	case next != len(data):
		return fmt.Errorf("%w: %d bytes after the end", ErrBadSnapshot, len(data)-next)
	}
	return nil
}

// EncodeSnapshot is the container compressed as one S2 stream: what STREAM.SNAPSHOT sends.
func EncodeSnapshot(s *Snapshot) ([]byte, error) {
	raw, err := s.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(len(raw)/2 + 64)
	// One goroutine-free writer: the engine starts no goroutines of its own.
	w := s2.NewWriter(&buf, s2.WriterConcurrency(1))
	if _, err := w.Write(raw); err != nil {
		return nil, fmt.Errorf("jetstream: compress snapshot: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("jetstream: compress snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeSnapshot decompresses and verifies a snapshot of at most limit bytes uncompressed
// (a few bytes of S2 can claim a great many, so the caller bounds what it will hold; a
// restore allows SnapshotBytesMax).
func DecodeSnapshot(data []byte, limit int) (*Snapshot, error) {
	r := s2.NewReader(bytes.NewReader(data))
	raw, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: decompress: %w", ErrBadSnapshot, err)
	}
	if len(raw) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes uncompressed", ErrBadSnapshot, limit)
	}
	var s Snapshot
	if err := s.UnmarshalBinary(raw); err != nil {
		return nil, err
	}
	return &s, nil
}
