package filestore

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/petrel-io/petrel/core/env"
)

// Snapshot stream format (doc.go has the table): a 44-byte header (magic, first and last
// sequence, last time, checksum), then one message record per live message in sequence
// order (the block record format, checksum seed 0, never encrypted: a snapshot leaves the
// store's custody), then an end record carrying the message count. Any damage, truncation
// or trailing byte makes Restore reject the whole snapshot.
const (
	snapMagic       = "PTRLSNP1"
	snapHeaderBytes = 44
	snapSeed        = 0
)

// Snapshot implements Store.
func (s *store) Snapshot(w io.Writer) error {
	if err := s.usable(); err != nil {
		return err
	}
	st := s.State()
	hdr := make([]byte, snapHeaderBytes)
	copy(hdr, snapMagic)
	binary.LittleEndian.PutUint64(hdr[8:], uint64(st.FirstSeq))
	binary.LittleEndian.PutUint64(hdr[16:], uint64(st.LastSeq))
	binary.LittleEndian.PutUint64(hdr[24:], uint64(st.LastTime))
	binary.LittleEndian.PutUint32(hdr[40:], crc32.Checksum(hdr[:40], castagnoli))
	bw := bufio.NewWriter(w)
	if _, err := bw.Write(hdr); err != nil {
		return fmt.Errorf("filestore: snapshot: %w", err)
	}
	seal := sealer{seed: snapSeed, compress: s.cfg.Compression == CompressionS2}
	var rec []byte
	var count uint64
	for seq, ok := uint64(0), true; ok; {
		var next uint64
		next, _, ok = s.msgs.next(seq + 1)
		if !ok {
			break
		}
		seq = next
		m, err := s.LoadMsg(env.Seq(seq))
		if err != nil {
			continue // a corrupt record left the index; the snapshot holds what is intact
		}
		e := s.msgs.get(seq)
		length, flags := seal.msgRecordLen(m.Subject, m.Header, m.Data)
		rec = seal.encodeMsg(rec[:0], length, flags, seq, e, m.Subject, m.Header, m.Data)
		if _, err := bw.Write(rec); err != nil {
			return fmt.Errorf("filestore: snapshot: %w", err)
		}
		count++
	}
	end := encodeMeta(nil, kindSnapEnd, 0, 0, binary.LittleEndian.AppendUint64(nil, count), snapSeed)
	if _, err := bw.Write(end); err != nil {
		return fmt.Errorf("filestore: snapshot: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("filestore: snapshot: %w", err)
	}
	return nil
}

// snapshotContent is a verified snapshot.
type snapshotContent struct {
	first, last uint64
	lastTime    int64
	msgs        []*Msg
	markers     []bool // per message: a subject delete marker
}

// parseSnapshot verifies a whole snapshot.
func parseSnapshot(data []byte) (*snapshotContent, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrBadSnapshot, fmt.Sprintf(format, args...))
	}
	if len(data) < snapHeaderBytes || string(data[:8]) != snapMagic ||
		crc32.Checksum(data[:40], castagnoli) != binary.LittleEndian.Uint32(data[40:]) {
		return nil, bad("header damaged")
	}
	sc := &snapshotContent{
		first: binary.LittleEndian.Uint64(data[8:]), last: binary.LittleEndian.Uint64(data[16:]),
		lastTime: int64(binary.LittleEndian.Uint64(data[24:])),
	}
	if sc.first == 0 || sc.first > sc.last+1 {
		return nil, bad("sequence range %d..%d", sc.first, sc.last)
	}
	p := snapHeaderBytes
	prev := sc.first - 1
	for {
		h, ok := parseHeader(data[p:], snapSeed)
		if !ok || p+int(h.length) > len(data) || !checkRecord(data[p:p+int(h.length)], snapSeed) {
			return nil, bad("record at offset %d damaged", p)
		}
		rec := data[p : p+int(h.length)]
		p += int(h.length)
		if h.kind == kindSnapEnd {
			body := rec[recordHeaderBytes : len(rec)-recordTrailerBytes]
			if len(body) != 8 || binary.LittleEndian.Uint64(body) != uint64(len(sc.msgs)) || p != len(data) {
				return nil, bad("end record does not match the content")
			}
			return sc, nil
		}
		if h.kind != kindMsg || h.seq <= prev || h.seq > sc.last {
			return nil, bad("record at offset %d out of order or of kind %d", p-int(h.length), h.kind)
		}
		m, err := decodeMsg(rec, h, nil, decodeOpts{})
		if err != nil || !validSubject(m.Subject) {
			return nil, bad("record at offset %d: %v", p-int(h.length), err)
		}
		prev = h.seq
		sc.msgs = append(sc.msgs, m)
		sc.markers = append(sc.markers, h.flags&flagMarkerMsg != 0)
	}
}

// Restore implements Store.
func (s *store) Restore(r io.Reader, done func(error)) error {
	if err := s.usable(); err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("filestore: restore: read: %w", err)
	}
	sc, err := parseSnapshot(data)
	if err != nil {
		return err
	}
	if err := s.logMarker(marker{reset: true, floor: sc.first, last: sc.first - 1}); err != nil {
		return err
	}
	for i, m := range sc.msgs {
		e := entry{time: m.Time, ttl: int64(m.TTL), size: uint32(msgSize(m.Subject, m.Header, m.Data))}
		if m.TTL < 0 {
			e.ttl = -1
		}
		if sc.markers[i] {
			e.flags |= entryMarker
		}
		if err := s.b.appendMsg(uint64(m.Seq), &e, m.Subject, m.Header, m.Data); err != nil {
			s.fail(err)
			return fmt.Errorf("%w: restore: %w", ErrFailed, err)
		}
		s.index(uint64(m.Seq), e, m.Subject)
	}
	if err := s.logMarker(marker{last: sc.last, lastTime: sc.lastTime}); err != nil {
		return err
	}
	return s.SetLimits(s.cfg.Limits, done)
}

// logMarker persists a marker and applies it to the index.
func (s *store) logMarker(m marker) error {
	if err := s.b.appendMarker(m); err != nil {
		s.fail(err)
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	s.applyMarker(m)
	return nil
}

// VerifySnapshot checks a whole snapshot as Restore does before changing anything (header,
// every record's checksum and order, the end record), so a caller holding a snapshot with
// other data can refuse the lot before it creates anything. It returns ErrBadSnapshot,
// wrapped, for any damage.
func VerifySnapshot(data []byte) error {
	_, err := parseSnapshot(data)
	return err
}
