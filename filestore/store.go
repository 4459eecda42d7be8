package filestore

import (
	"errors"
	"io"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Store is a stream's message store. OpenFile and NewMemory return the two implementations:
// block files on the Env FS, and memory.
//
// Threading: a Store belongs to one executor (Config.Executor). Every method must be called
// from a function running on it, and every completion (the done callbacks) runs on it.
//
// Durability: a mutation takes a done callback. done never runs inside the call; it runs
// later, once, after the mutation is durable (under SyncAlways: after the fsync covering it
// returned nil), or with the error that kept it from becoming durable. There is no other way
// to learn that a Store call succeeded, so a caller cannot acknowledge a message before it is
// on disk. Reads see a mutation as soon as the call returns, before it is durable, as
// nats-server's stores do; a crash before done may undo it.
//
// Returned *Msg values are fresh copies owned by the caller, except LoadNextShared's.
type Store interface {
	// Store appends a message. done gets its sequence once it is durable, or the error
	// that rejected it (limits with DiscardNew, a bad subject, a failed write). done must
	// not be nil.
	Store(subject string, header, data []byte, opts StoreOpts, done func(seq env.Seq, err error))
	// StoreBatch appends msgs (at least one) as one all-or-nothing unit at consecutive
	// sequences: every check (the limits with DiscardNew included) is made for the whole
	// batch before anything is stored, and no crash can leave a part of it (batch.go). done
	// gets the first sequence once all of it is durable, or the error that rejected all of
	// it; on a store that broke meanwhile, recovery keeps all of it or none.
	StoreBatch(msgs []BatchMsg, done func(first env.Seq, err error))

	// LoadMsg returns the message at seq: ErrNotFound if there is none, ErrCorrupt
	// (wrapped in a *CorruptError) if its record fails its checksum.
	LoadMsg(seq env.Seq) (*Msg, error)
	// LoadNext returns the first message with sequence >= start matching f.
	LoadNext(f Filter, start env.Seq) (*Msg, error)
	// LoadNextShared is LoadNext returning a message the store keeps: it and its bytes stay
	// valid only until the next load or change of the store, and must not be changed. For a
	// caller that copies each message out at once (a consumer's delivery): a load from the
	// read-ahead window then allocates nothing.
	LoadNextShared(f Filter, start env.Seq) (*Msg, error)
	// LoadPrev returns the last message with sequence <= start matching f.
	LoadPrev(f Filter, start env.Seq) (*Msg, error)
	// LoadLast returns the last message matching f.
	LoadLast(f Filter) (*Msg, error)

	// SubjectsState returns, per subject matching f, its message count and first and last
	// sequence. The map is the caller's.
	SubjectsState(f Filter) map[string]SubjectState
	// NumPending counts messages with sequence >= start matching f; with lastPerSubject it
	// counts the matching subjects whose last message is >= start.
	NumPending(start env.Seq, f Filter, lastPerSubject bool) uint64
	// State summarises the store.
	State() State
	// Deleted lists, as ranges, the sequences between the first and the last that hold no
	// message (ranges, because a skipped span may be billions long).
	Deleted() []SeqRange

	// RemoveMsg deletes one message; EraseMsg also overwrites its bytes on disk with
	// random ones. Both return ErrNotFound (and never call done) if seq holds no message.
	RemoveMsg(seq env.Seq, done func(error)) error
	EraseMsg(seq env.Seq, done func(error)) error
	// Purge removes messages (see PurgeOpts) and returns how many.
	Purge(opts PurgeOpts, done func(error)) (uint64, error)
	// Compact removes every message below seq; the first sequence becomes seq.
	Compact(seq env.Seq, done func(error)) (uint64, error)
	// Truncate removes every message above seq; the last sequence becomes seq.
	Truncate(seq env.Seq, done func(error)) error
	// SetLimits replaces the limits and applies them at once.
	SetLimits(l Limits, done func(error)) error
	// Err is what broke the store (ErrFailed: a write failed; ErrClosed), or nil: until it
	// is reopened, reads answer from an index that may hold what the disk does not.
	Err() error
	// Flush calls done once every mutation made before it is durable and its completion
	// ran (at once if nothing is pending), or with the error that broke the store. Readers
	// use it to answer only from state a crash cannot take back.
	Flush(done func(error))

	// EncodedState is State (with the deleted list) in a compact, checksummed binary form;
	// see DecodeState.
	EncodedState() []byte
	// Snapshot writes the whole store (every message and the sequence range) to w.
	Snapshot(w io.Writer) error
	// Restore replaces the store's whole content with a snapshot. It reads and verifies all
	// of r before changing anything.
	Restore(r io.Reader, done func(error)) error

	// Damage lists what recovery and reads found broken: records that failed their checksum,
	// unreadable regions, trimmed torn tails. It is for logs, monitoring and health.
	Damage() []Damage
	// Close makes everything written durable (whatever the sync policy), fires pending
	// completions and releases files. Later calls return ErrClosed. If a sync is in flight
	// Close writes everything and returns without blocking; the last sync, the completions
	// and the release of the files follow on the executor when that sync returns. The store
	// may be opened again at once either way.
	Close() error
}

// Msg is a stored message.
type Msg struct {
	Subject string
	Header  []byte
	Data    []byte
	Seq     env.Seq
	// Time is the message's timestamp in Unix nanoseconds (wall clock).
	Time int64
	// TTL is the per-message time to live (0: none, TTLNever: never expires).
	TTL time.Duration
}

// TTLNever marks a message that never expires, not even by MaxAge ("Nats-TTL: never").
const TTLNever time.Duration = -1

// StoreOpts carries the optional parts of a Store call.
type StoreOpts struct {
	// Seq, when non-zero, is the sequence to store at (a replica applying its leader's
	// log). It must be above the last sequence; the skipped ones count as deleted.
	Seq env.Seq
	// Time, when non-zero, is the timestamp in Unix nanoseconds; otherwise Clock.Now().
	Time int64
	// TTL is the message's time to live: 0 for none (MaxAge applies), TTLNever, or > 0
	// (the message expires TTL after its timestamp, whatever MaxAge says).
	TTL time.Duration
}

// BatchMsg is one message of a StoreBatch.
type BatchMsg struct {
	Subject string
	Header  []byte
	Data    []byte
	// Time and TTL as in StoreOpts.
	Time int64
	TTL  time.Duration
}

// SubjectState is one subject's share of the store.
type SubjectState struct {
	Msgs  uint64
	First env.Seq
	Last  env.Seq
}

// State summarises a store. With no messages, FirstSeq is LastSeq+1.
type State struct {
	Msgs        uint64
	Bytes       uint64
	FirstSeq    env.Seq
	FirstTime   int64 // Unix nanoseconds of the first message, 0 if none
	LastSeq     env.Seq
	LastTime    int64 // Unix nanoseconds of the last message stored at LastSeq, 0 if none
	NumDeleted  uint64
	NumSubjects uint64
	// Deleted is filled only by DecodeState (EncodedState carries it); State() leaves it
	// nil because listing is O(messages): call Deleted().
	Deleted []SeqRange
}

// SeqRange is an inclusive range of sequences.
type SeqRange struct{ First, Last env.Seq }

// PurgeOpts selects what Purge removes. The zero value removes everything.
type PurgeOpts struct {
	// Subject restricts the purge to subjects matching this filter ("" for all).
	Subject string
	// Seq, when non-zero, removes only messages below Seq.
	Seq env.Seq
	// Keep, when non-zero, keeps the newest Keep messages (per subject when Subject is a
	// filter, overall otherwise). It cannot be combined with Seq.
	Keep uint64
}

// Errors, classified with errors.Is.
var (
	ErrNotFound         = errors.New("filestore: no message found")
	ErrCorrupt          = errors.New("filestore: record failed its checksum")
	ErrClosed           = errors.New("filestore: store is closed")
	ErrFailed           = errors.New("filestore: store failed a write; close and reopen it to recover")
	ErrMaxMsgs          = errors.New("maximum messages exceeded")
	ErrMaxBytes         = errors.New("maximum bytes exceeded")
	ErrMaxMsgsPerSubj   = errors.New("maximum messages per subject exceeded")
	ErrBadSubject       = errors.New("filestore: invalid subject")
	ErrBadFilter        = errors.New("filestore: invalid subject filter")
	ErrSeqNotAfterLast  = errors.New("filestore: sequence is not above the last sequence")
	ErrMsgTooBig        = errors.New("filestore: message too large")
	ErrBadConfig        = errors.New("filestore: invalid configuration")
	ErrBadKey           = errors.New("filestore: encryption key does not match the store")
	ErrBadSnapshot      = errors.New("filestore: invalid snapshot")
	ErrBadEncodedState  = errors.New("filestore: invalid encoded state")
	ErrBadPurge         = errors.New("filestore: purge cannot combine seq and keep")
	ErrTruncateTooLow   = errors.New("filestore: truncate below the first sequence")
	ErrBatchNotDurable  = errors.New("filestore: the store closed before the batch was committed")
	errUnsupportedBlock = errors.New("filestore: unsupported block version")
)

// CorruptError locates a record that failed its checksum on read.
type CorruptError struct {
	Block  uint32
	Offset int64
	Seq    env.Seq
}

func (c *CorruptError) Error() string {
	return "filestore: block " + itoa(uint64(c.Block)) + " offset " + itoa(uint64(c.Offset)) +
		" seq " + itoa(uint64(c.Seq)) + ": record failed its checksum"
}

func (c *CorruptError) Unwrap() error { return ErrCorrupt }

// DamageKind classifies what recovery or a read found.
type DamageKind uint8

const (
	// DamageCorrupt: a record whose header is intact failed its checksum (a flipped bit, or
	// an unsynced record torn by a crash). It is skipped; Seq names it.
	DamageCorrupt DamageKind = iota + 1
	// DamageUnreadable: bytes that hold no valid record header, between two valid records.
	// Recovery skipped them and resumed at the next valid record. Seq is unknown (0).
	DamageUnreadable
	// DamageTornTail: the end of a block that may hold unsynced writes held a partial record
	// (a crash during an unsynced write); it was cut off. (At the end of a block synced in
	// full such bytes are damage: DamageUnreadable, kept.)
	DamageTornTail
	// DamageBlock: a whole block file was unusable (no intact header copy), or one of its
	// two header copies was damaged and rewritten.
	DamageBlock
	// DamageRepaired: a record header had one flipped bit; recovery corrected it (on disk
	// too) and lost nothing.
	DamageRepaired
)

func (k DamageKind) String() string {
	switch k {
	case DamageCorrupt:
		return "corrupt record"
	case DamageUnreadable:
		return "unreadable bytes"
	case DamageTornTail:
		return "torn tail trimmed"
	case DamageBlock:
		return "block header damage"
	case DamageRepaired:
		return "record header repaired"
	}
	return "damage(" + itoa(uint64(k)) + ")"
}

// Damage is one finding of recovery or of a read.
type Damage struct {
	Kind   DamageKind
	Block  uint32
	Offset int64
	Length int64
	Seq    env.Seq // 0 when unknown
	Reason string
}

func (d Damage) String() string {
	s := "filestore: " + d.Kind.String() + " in block " + itoa(uint64(d.Block)) + " at offset " +
		itoa(uint64(d.Offset)) + " (" + itoa(uint64(d.Length)) + " bytes"
	if d.Seq != 0 {
		s += ", seq " + itoa(uint64(d.Seq))
	}
	s += ")"
	if d.Reason != "" {
		s += ": " + d.Reason
	}
	return s
}

func itoa(v uint64) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return string(b[i:])
}
