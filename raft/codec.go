package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/petrel-io/petrel/core/env"
)

// ErrCorrupt classifies bytes that do not decode: a bad checksum, a length past the end, an
// unknown type, a field out of range.
var ErrCorrupt = errors.New("raft: corrupt encoding")

// codecVersion leads every encoded message, so a future format can be told apart.
const codecVersion = 1

const (
	flagReject = 1 << 0
	flagSnap   = 1 << 1
	flagsKnown = flagReject | flagSnap
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is the CRC-32C used by frames, WAL records and snapshot files.
func checksum(p []byte) uint32 { return crc32.Checksum(p, castagnoli) }

func crcUpdate(crc uint32, p []byte) uint32 { return crc32.Update(crc, castagnoli, p) }

// AppendMessage appends m's encoding (see the package doc for the layout) to buf.
func AppendMessage(buf []byte, m *Message) []byte {
	buf = append(buf, codecVersion, byte(m.Type))
	buf = binary.AppendUvarint(buf, uint64(m.To))
	buf = binary.AppendUvarint(buf, uint64(m.From))
	buf = binary.AppendUvarint(buf, uint64(m.Term))
	buf = binary.AppendUvarint(buf, uint64(m.LogTerm))
	buf = binary.AppendUvarint(buf, uint64(m.Index))
	buf = binary.AppendUvarint(buf, uint64(m.Commit))
	buf = binary.AppendUvarint(buf, uint64(m.RejectHint))
	var flags byte
	if m.Reject {
		flags |= flagReject
	}
	if m.Snap != nil {
		flags |= flagSnap
	}
	buf = append(buf, flags)
	buf = appendBytes(buf, m.Context)
	buf = binary.AppendUvarint(buf, uint64(len(m.Entries)))
	for i := range m.Entries {
		buf = appendEntry(buf, &m.Entries[i])
	}
	if c := m.Snap; c != nil {
		buf = appendSnapMeta(buf, &c.Meta)
		buf = binary.AppendUvarint(buf, c.Offset)
		buf = binary.AppendUvarint(buf, c.Total)
		buf = appendBytes(buf, c.Data)
	}
	return buf
}

// DecodeMessage decodes one message encoded by AppendMessage. Byte slices in the result
// alias p. Errors wrap ErrCorrupt.
func DecodeMessage(p []byte) (Message, error) {
	d := decoder{p: p}
	var m Message
	if v := d.byte(); v != codecVersion && d.err == nil {
		return m, fmt.Errorf("%w: message version %d", ErrCorrupt, v)
	}
	m.Type = MessageType(d.byte())
	m.To, m.From = ID(d.uvarint()), ID(d.uvarint())
	m.Term, m.LogTerm = env.Term(d.uvarint()), env.Term(d.uvarint())
	m.Index, m.Commit = env.Index(d.uvarint()), env.Index(d.uvarint())
	m.RejectHint = env.Index(d.uvarint())
	flags := d.byte()
	m.Reject = flags&flagReject != 0
	m.Context = d.bytes()
	n := d.count(4) // an entry takes at least 4 bytes
	if n > 0 {
		m.Entries = make([]Entry, 0, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		m.Entries = append(m.Entries, d.entry())
	}
	if flags&flagSnap != 0 {
		c := &SnapshotChunk{Meta: d.snapMeta()}
		c.Offset, c.Total = d.uvarint(), d.uvarint()
		c.Data = d.bytes()
		m.Snap = c
	}
	if err := d.finish(); err != nil {
		return Message{}, fmt.Errorf("decode %v: %w", m.Type, err)
	}
	if err := m.validate(flags); err != nil {
		return Message{}, err
	}
	return m, nil
}

// validate rejects decoded messages that no member could have sent, so that the core's
// assertions only ever fire on its own bugs, never on a peer's bytes.
func (m *Message) validate(flags byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %v: %s", ErrCorrupt, m.Type, fmt.Sprintf(format, args...))
	}
	switch {
	case m.Type == 0 || m.Type >= msgTypeEnd || m.Type.isLocal():
		return bad("not a network message")
	case flags&^flagsKnown != 0:
		return bad("unknown flags %#x", flags)
	case (m.Snap != nil) != (m.Type == MsgSnap || m.Type == MsgSnapResp):
		return bad("snapshot chunk presence")
	case len(m.Entries) > 0 && m.Type != MsgApp:
		return bad("entries on a message that carries none")
	}
	for i := range m.Entries {
		if want := m.Index + 1 + env.Index(i); m.Entries[i].Index != want {
			return bad("entry %d has index %d, want %d", i, m.Entries[i].Index, want)
		}
	}
	if c := m.Snap; c != nil {
		if c.Offset > c.Total || uint64(len(c.Data)) > c.Total-c.Offset {
			return bad("chunk [%d+%d] past total %d", c.Offset, len(c.Data), c.Total)
		}
		if !c.Meta.Conf.valid() {
			return bad("snapshot configuration %v", c.Meta.Conf)
		}
	}
	return nil
}

func appendBytes(buf, p []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(p)))
	return append(buf, p...)
}

func appendEntry(buf []byte, e *Entry) []byte {
	buf = binary.AppendUvarint(buf, uint64(e.Term))
	buf = binary.AppendUvarint(buf, uint64(e.Index))
	buf = append(buf, byte(e.Type))
	return appendBytes(buf, e.Data)
}

func appendConf(buf []byte, c *ConfState) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(c.Voters)))
	for _, id := range c.Voters {
		buf = binary.AppendUvarint(buf, uint64(id))
	}
	buf = binary.AppendUvarint(buf, uint64(len(c.Learners)))
	for _, id := range c.Learners {
		buf = binary.AppendUvarint(buf, uint64(id))
	}
	return buf
}

func appendSnapMeta(buf []byte, s *SnapshotMeta) []byte {
	buf = binary.AppendUvarint(buf, uint64(s.Index))
	buf = binary.AppendUvarint(buf, uint64(s.Term))
	return appendConf(buf, &s.Conf)
}

// encodeConfChange is the Data of an EntryConfChange.
func encodeConfChange(cc ConfChange) []byte {
	buf := []byte{codecVersion, byte(cc.Type)}
	buf = binary.AppendUvarint(buf, uint64(cc.Node))
	return appendConf(buf, &cc.Conf)
}

// DecodeConfChange reads the Data of an EntryConfChange.
func DecodeConfChange(p []byte) (ConfChange, error) { return decodeConfChange(p) }

func decodeConfChange(p []byte) (ConfChange, error) {
	d := decoder{p: p}
	var cc ConfChange
	if v := d.byte(); v != codecVersion && d.err == nil {
		return cc, fmt.Errorf("%w: conf change version %d", ErrCorrupt, v)
	}
	cc.Type = ConfChangeType(d.byte())
	cc.Node = ID(d.uvarint())
	cc.Conf = d.conf()
	if err := d.finish(); err != nil {
		return ConfChange{}, fmt.Errorf("decode conf change: %w", err)
	}
	if cc.Type < AddLearner || cc.Type > RemoveNode || cc.Node == None || !cc.Conf.valid() {
		return ConfChange{}, fmt.Errorf("%w: conf change %v %d -> %v", ErrCorrupt, cc.Type, cc.Node, cc.Conf)
	}
	return cc, nil
}

// decoder reads the encodings above, remembering the first error so call sites stay flat.
type decoder struct {
	p   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	d.p = nil
}

func (d *decoder) byte() byte {
	if len(d.p) < 1 {
		d.fail("truncated")
		return 0
	}
	b := d.p[0]
	d.p = d.p[1:]
	return b
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.p)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.p = d.p[n:]
	return v
}

// count reads a length and checks that that many items of at least minBytes each can fit
// in what is left, so a corrupt count never drives a huge allocation.
func (d *decoder) count(minBytes int) int {
	n := d.uvarint()
	if n > uint64(len(d.p)/minBytes) {
		d.fail("count %d past the end", n)
		return 0
	}
	return int(n)
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if n > uint64(len(d.p)) {
		d.fail("length %d past the end", n)
		return nil
	}
	if n == 0 {
		return nil
	}
	b := d.p[:n:n]
	d.p = d.p[n:]
	return b
}

func (d *decoder) entry() Entry {
	e := Entry{Term: env.Term(d.uvarint()), Index: env.Index(d.uvarint())}
	e.Type = EntryType(d.byte())
	e.Data = d.bytes()
	if d.err == nil && e.Type != EntryNormal && e.Type != EntryConfChange {
		d.fail("entry type %d", e.Type)
	}
	return e
}

func (d *decoder) ids() []ID {
	n := d.count(1)
	if n == 0 {
		return nil
	}
	ids := make([]ID, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		ids = append(ids, ID(d.uvarint()))
	}
	return ids
}

func (d *decoder) conf() ConfState {
	c := ConfState{Voters: d.ids(), Learners: d.ids()}
	if d.err == nil && !c.valid() {
		d.fail("configuration %v", c)
	}
	return c
}

func (d *decoder) snapMeta() SnapshotMeta {
	return SnapshotMeta{Index: env.Index(d.uvarint()), Term: env.Term(d.uvarint()), Conf: d.conf()}
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err == nil && len(d.p) != 0 {
		d.fail("%d trailing bytes", len(d.p))
	}
	return d.err
}

// frameHeader is a frame's length and checksum, each 4 bytes little-endian.
const frameHeader = 8

// AppendFrame appends m as one frame for a byte stream: its length, the CRC-32C of the
// encoding, then the encoding. Streams may cut frames anywhere; FrameReader reassembles.
func AppendFrame(buf []byte, m *Message) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, frameHeader)...)
	buf = AppendMessage(buf, m)
	payload := buf[start+frameHeader:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+4:], checksum(payload))
	return buf
}

// FrameReader reassembles frames from a byte stream cut anywhere.
type FrameReader struct {
	buf []byte
}

// Feed adds stream bytes and calls each for every whole message they complete, in order.
// Each message owns its bytes (they are copied out of the stream buffer), so it may be
// posted elsewhere. An error (a length past
// maxFrameBytes, a checksum mismatch, a message that does not decode) means the stream is
// broken: the caller drops the connection.
func (r *FrameReader) Feed(p []byte, each func(Message)) error {
	r.buf = append(r.buf, p...)
	for {
		if len(r.buf) < frameHeader {
			break
		}
		n := binary.LittleEndian.Uint32(r.buf)
		if n > maxFrameBytes {
			return fmt.Errorf("%w: frame of %d bytes", ErrCorrupt, n)
		}
		if len(r.buf) < frameHeader+int(n) {
			break
		}
		payload := slices.Clone(r.buf[frameHeader : frameHeader+int(n)])
		if checksum(payload) != binary.LittleEndian.Uint32(r.buf[4:]) {
			return fmt.Errorf("%w: frame checksum", ErrCorrupt)
		}
		m, err := DecodeMessage(payload)
		if err != nil {
			return err
		}
		each(m)
		r.buf = r.buf[frameHeader+int(n):]
	}
	if len(r.buf) == 0 {
		r.buf = r.buf[:0:0] // let a big buffer go once drained
	} else {
		r.buf = slices.Clip(r.buf)
	}
	return nil
}
