// Package filestore is JetStream's message storage on the Env FS: block files with a
// checksum per record, optional S2 compression and AEAD encryption, an index rebuilt from
// the blocks on recovery, per-subject state and limits, and a memory store with the same
// interface. A store call under the default sync policy returns only once its bytes are
// durable; many concurrent writes share one fsync.
//
// Not built yet: see the issue "[C] Filestore" and DESIGN.md.
package filestore
