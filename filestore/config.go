package filestore

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Config configures a store. Zero values are the defaults.
type Config struct {
	// Dir holds the block files (file store only). It is created if missing.
	Dir string
	// Executor owns the store: every call and every completion runs on it.
	Executor env.Executor
	// BlockBytes is the size at which the file store starts a new block file
	// (default 8 MiB).
	BlockBytes int64
	// Sync is the durability policy (default SyncAlways).
	Sync SyncPolicy
	// SyncInterval is the period of SyncEvery (default 1s).
	SyncInterval time.Duration
	// Compression compresses message headers and data per record.
	Compression Compression
	// Cipher encrypts every message record; Key is then required.
	Cipher Cipher
	// Key is the master key (at least 32 bytes); per-block keys are derived from it.
	Key []byte
	// Limits bound what the store keeps.
	Limits Limits
	// Recovered, when set, is called by OpenFile (file store only) once recovery has made
	// what it recovered durable, before the limits are applied: what it kept and dropped.
	// It runs on the opening executor and must not call the store.
	Recovered func(Recovery)
	// Marked, when set, is called on the executor once the subject delete markers an expiry
	// stored are durable, in sequence order: messages no caller stored, which the owner's
	// readers (consumers) and republish must hear of.
	Marked func(markers []Marker)
}

// Marker is a subject delete marker an expiry stored: its sequence, and the sequence of the
// subject's message whose expiry left it (what a republish reports as the subject's last).
type Marker struct {
	Seq, Prev env.Seq
}

// Limits bound a store. Zero means unlimited.
type Limits struct {
	MaxMsgs           uint64
	MaxBytes          uint64
	MaxAge            time.Duration
	MaxMsgsPerSubject uint64
	// Discard says what happens when MaxMsgs or MaxBytes would be exceeded.
	Discard Discard
	// DiscardNewPerSubject, with Discard == DiscardNew, also rejects a message that would
	// exceed MaxMsgsPerSubject (otherwise the subject's oldest message goes).
	DiscardNewPerSubject bool
	// SubjectDeleteMarkerTTL, when > 0, makes expiry (MaxAge or a message's TTL) that
	// removes the last message of a subject store a marker message on that subject with
	// headers "Nats-Marker-Reason: MaxAge", "Nats-TTL: <this TTL>" and "Nats-Rollup: sub"
	// (nats-server's marker headers).
	SubjectDeleteMarkerTTL time.Duration
}

// Discard is the policy at the MaxMsgs and MaxBytes limits.
type Discard uint8

const (
	// DiscardOld removes the oldest messages to make room.
	DiscardOld Discard = iota
	// DiscardNew rejects the new message.
	DiscardNew
)

// SyncPolicy says when written bytes are made durable and acknowledged.
type SyncPolicy uint8

const (
	// SyncAlways acknowledges a mutation only after an fsync covering it returned; the
	// mutations queued on the executor meanwhile share the next fsync (group commit).
	SyncAlways SyncPolicy = iota
	// SyncEvery acknowledges a mutation once it is written to the operating system and
	// fsyncs every SyncInterval. A power loss can lose up to an interval of acknowledged
	// writes; a process crash loses none. It is opt-in, for data that may be lost.
	SyncEvery
)

// Compression is the per-record compression of message headers and data.
type Compression uint8

const (
	CompressionNone Compression = iota
	// CompressionS2 compresses with S2 (klauspost/compress), kept only when it saves space.
	CompressionS2
)

// Cipher is the AEAD that seals message records.
type Cipher uint8

const (
	CipherNone Cipher = iota
	// CipherChaCha is XChaCha20-Poly1305 (24-byte random nonces: safe to draw at random for
	// any number of records).
	CipherChaCha
	// CipherAES is AES-256-GCM (12-byte random nonces; per-block keys keep each key's
	// record count far below the random-nonce bound).
	CipherAES
)

// validate fills defaults and rejects what cannot work.
func (c *Config) validate(file bool) error {
	if c.Executor == nil {
		return fmt.Errorf("%w: no executor", ErrBadConfig)
	}
	if file && c.Dir == "" {
		return fmt.Errorf("%w: no directory", ErrBadConfig)
	}
	if c.BlockBytes == 0 {
		c.BlockBytes = blockBytesDefault
	}
	if c.BlockBytes < blockBytesMin || c.BlockBytes > blockBytesMax {
		return fmt.Errorf("%w: block size %d outside [%d, %d]", ErrBadConfig, c.BlockBytes, blockBytesMin, blockBytesMax)
	}
	switch c.Sync {
	case SyncAlways:
	case SyncEvery:
		if c.SyncInterval == 0 {
			c.SyncInterval = syncIntervalDefault
		}
		if c.SyncInterval < 0 {
			return fmt.Errorf("%w: negative sync interval", ErrBadConfig)
		}
	default:
		return fmt.Errorf("%w: unknown sync policy %d", ErrBadConfig, c.Sync)
	}
	if c.Compression > CompressionS2 {
		return fmt.Errorf("%w: unknown compression %d", ErrBadConfig, c.Compression)
	}
	if c.Cipher > CipherAES {
		return fmt.Errorf("%w: unknown cipher %d", ErrBadConfig, c.Cipher)
	}
	if c.Cipher != CipherNone && len(c.Key) < keyBytesMin {
		return fmt.Errorf("%w: key of %d bytes, need at least %d", ErrBadConfig, len(c.Key), keyBytesMin)
	}
	return c.Limits.validate()
}

func (l *Limits) validate() error {
	if l.MaxAge < 0 || l.SubjectDeleteMarkerTTL < 0 {
		return fmt.Errorf("%w: negative duration limit", ErrBadConfig)
	}
	if l.Discard > DiscardNew {
		return fmt.Errorf("%w: unknown discard policy %d", ErrBadConfig, l.Discard)
	}
	return nil
}
