// Package filestore is JetStream's message storage: a Store interface with two
// implementations, block files on the Env FS (OpenFile) and memory (NewMemory).
//
// A store keeps a stream's messages by sequence with their subject, headers, data, timestamp
// and TTL; answers loads by sequence, next/previous/last by subject filter (NATS tokens, "*"
// and ">"; one filter or many), per-subject state and pending counts; removes, erases,
// purges (all, by subject, keep N, below a sequence), compacts and truncates; enforces
// MaxMsgs, MaxBytes, MaxAge and MaxMsgsPerSubject with DiscardOld or DiscardNew, per-message
// TTLs and subject delete markers; and encodes its state and snapshots and restores whole.
// It has no goroutines and reads time only through env.Clock, so the simulator can crash it
// anywhere and control expiry.
//
// # Contract with the owner
//
// A store belongs to one executor: every call runs on it and every completion runs on it.
// Mutations take a done callback that runs later (never inside the call), once, after the
// mutation is durable, in call order. Under SyncAlways (the default) that means after an
// fsync called after its records were written returned nil, and, for a new block file, after
// the directory sync too. Mutations share fsyncs (group commit), and the file store runs them
// on a second executor of its own ("<dir> sync"): while one batch's fsync is in flight the
// store keeps taking, encoding and writing the next, whose fsync starts when that one
// returns (pipelined group commit; commit.go has the argument, pacer.go when a sync starts).
// There is no other way to learn that a Store succeeded, so acknowledging before durability
// cannot be written. SyncEvery is an opt-in relaxed mode: it acknowledges once the bytes are
// written to the OS and fsyncs every SyncInterval, so a power loss can lose up to an
// interval of acknowledged writes (a process crash loses none).
//
// Reads see a mutation as soon as the call returns, before it is durable; a crash before its
// completion may undo it.
//
// A failed fsync halts the node (env.Halt): Linux drops the dirty pages of a failed
// write-back, so no later fsync could make them durable, and the completions waiting on them
// must never run. A failed write (EIO, ENOSPC) breaks the store instead: pending and later
// calls get ErrFailed, and the owner closes it and opens it again, which recovers from the
// disk.
//
// # Recovery
//
// OpenFile scans every block and replays its records in order. It trusts a record only if
// its header passes its own checksum (so its length can be believed) and the whole record
// passes the trailing one. A record with an intact header and a failing body is skipped and
// reported (Damage, kind DamageCorrupt, with its sequence). A header that fails its checksum
// is first tried for a single flipped bit (DamageRepaired: corrected, written back, nothing
// lost). Other bytes with no valid header are skipped up to the next offset that holds the
// magic and a valid header (DamageUnreadable). So a flipped bit costs at most the one record
// it hit, and every record before and after it stays readable. Nothing after the last
// framed record can hold data: if it is all zeros it is room a preallocation left (kept),
// otherwise it is a torn tail, reported and cut off, so no stale bytes can sit behind new
// records. Recovery then fsyncs every block (after a process crash the page cache may
// hold records never synced) and rewrites the newest block's header in place, so nothing
// new depends on bytes a failed fsync may have left only in memory. It never panics on any
// bytes (fuzz/filestore_test.go). Reads check the checksum again: a record that rots after
// recovery is reported (ErrCorrupt, a *CorruptError) and leaves the index.
//
// What survives a crash is exactly what the contract promises: every mutation whose
// completion ran, plus possibly later ones whose records happen to be intact (they were
// written but their fsync had not completed).
//
// # Block file
//
// Files are named %010d.blk (the block id) in the store directory. Records are appended to
// the newest block; a new block starts when the next record would pass BlockBytes. A block
// file is zero-filled ahead of its records (64 KiB, then doubling up to BlockBytes), so most
// syncs overwrite blocks the file already has, which fdatasync makes durable without a
// journal commit; the zeros after the last record are not part of the format. Blocks are
// removed oldest first, once none of their messages is live and the records that removed
// them are durable: deletion records may refer to messages in any earlier block, so removing
// from the front keeps each deletion as long as its message.
//
// A block starts with a 64-byte header, written twice (offsets 0 and 64) so one flipped bit
// cannot cost a whole block:
//
//	| offset | size | field                                                      |
//	|--------|------|------------------------------------------------------------|
//	| 0      | 8    | magic "PTRLBLK1"                                           |
//	| 8      | 4    | block id                                                   |
//	| 12     | 1    | version (1)                                                |
//	| 13     | 1    | cipher: 0 none, 1 XChaCha20-Poly1305, 2 AES-256-GCM        |
//	| 14     | 2    | zero                                                       |
//	| 16     | 16   | salt (random): seeds record checksums, derives the key     |
//	| 32     | 8    | the store's last sequence when the block was created       |
//	| 40     | 8    | that sequence's time (Unix ns)                             |
//	| 48     | 4    | durable: every block up to this id was synced in full      |
//	| 52     | 4    | zero                                                       |
//	| 56     | 4    | key check: HMAC-SHA256(block key, "petrel filestore key check")[:4] |
//	| 60     | 4    | CRC32-C of bytes 0..59                                     |
//
// # Record
//
// All integers little-endian. Records follow the header back to back:
//
//	| offset   | size | field                                                          |
//	|----------|------|----------------------------------------------------------------|
//	| 0        | 4    | magic A7 2E C4 91                                              |
//	| 4        | 4    | length of the whole record (48 + body + 4)                      |
//	| 8        | 1    | kind: 1 message, 2 commit, 3 marker, 4 erased message, 6 batch |
//	| 9        | 1    | flags: 1 S2-compressed, 2 encrypted, 4 subject delete marker,  |
//	|          |      | 8 member of an atomic batch                                    |
//	| 10       | 2    | subject length (message)                                        |
//	| 12       | 4    | headers length (message, before compression)                    |
//	| 16       | 8    | sequence (message, erased); last sequence (commit, marker)      |
//	| 24       | 8    | time in Unix ns (message, erased); last time (commit, marker)   |
//	| 32       | 8    | TTL in ns (message): 0 none, -1 never                           |
//	| 40       | 4    | data length (message, before compression); body length (other)  |
//	| 44       | 4    | header check: CRC32-C, seeded by the block, of bytes 0..43      |
//	| 48       | n    | body                                                            |
//	| 48+n     | 4    | record check: CRC32-C, seeded by the block, of bytes 0..47+n    |
//
// Message body: subject | headers | data. With flag 1, headers | data are one S2 block
// (kept only when it saves an eighth). With flag 2, the body is nonce | AEAD-seal(plain
// body) with the header's bytes 0..43 as additional data, under the block's key
// (HKDF-SHA256 of the configured key and the block's salt); the nonce (24 bytes for
// XChaCha20, 12 for AES-GCM) comes from env.Rand. Compression and encryption are per record,
// so a flipped bit still costs one record.
//
// Commit body: the deleted sequences since the last commit, as uvarint(range count) then per
// range uvarint(first - previous last) and uvarint(last - first). Every batch of writes ends
// with one, and one precedes every marker; its header carries the store's last sequence and
// time, which replay sets (so a damaged newest message cannot make the sequence go back). A
// limit's eviction is logged only in a batch after the one holding the message that caused
// it, once that batch is durable (fileBackend.removed): a power loss that tears an unsynced
// batch can then never keep the eviction but lose its cause.
//
// Marker body (25 bytes): flags (1: reset), floor, last, last time. Replay removes every
// message below floor (all, with reset) and above last, then sets the last sequence and
// time. Compact, Truncate, Purge of everything and Restore are markers.
//
// Batch body (16 bytes): the first and last sequence of an atomic batch (StoreBatch), appended
// once a sync covering its members (flag 8) returned; replay keeps a flagged message only if
// a batch record naming it follows it, and removes the others (batch.go).
//
// Commit, marker and batch records are written twice in a row: they are small and each matters to
// many messages. Erased message: EraseMsg rewrites the record in place with the same length,
// sequence and time, kind 4 and a random body (from env.Rand), and logs the deletion; replay
// reads it as the message immediately deleted.
//
// The checksum is CRC32-C: hardware-accelerated on amd64 and arm64 (so the whole record is
// checked on every read at memory speed), in the standard library, and it detects every burst
// of up to 32 bits and every error of up to three bits in a record of any size we write
// (Hamming distance 4 up to 2^31 bits); other damage passes with odds of 2^-32. Seeding
// it with the block's salt keeps a record copied from another block (a block file stored as a
// message, say) from passing for one of this block's when recovery resynchronises. Encrypted
// records also carry a 128-bit AEAD tag.
//
// # Snapshot and encoded state
//
// A snapshot is a 44-byte header (magic "PTRLSNP1", first sequence, last sequence, last time,
// 8 zero bytes, CRC32-C of bytes 0..39), a message record per live message (checksum seed 0,
// never encrypted, compressed if the store compresses), and a final record of kind 5 whose
// 8-byte body is the message count. Restore verifies all of it before changing anything.
//
// EncodedState is magic "PTRLST01", uvarints msgs, bytes, first sequence, 8-byte first time,
// uvarint last sequence, 8-byte last time, uvarints subjects, deleted count, range count and
// the deleted ranges (as in a commit body), then CRC32-C of everything before.
//
// # Index
//
// Messages live in a seqMap (sorted chunks of sequences) with, per message, its time, TTL,
// subject, size and record location; subjects live in a token trie whose nodes hold each
// subject's own seqMap. A literal filter walks one node per token; a wildcard filter visits
// only the branches its tokens allow; a filter matching more than filterSubjectsScanMax
// subjects walks messages instead. Go map iteration never decides an outcome: walks feed
// sums, minimums, or lists sorted before use.
package filestore
