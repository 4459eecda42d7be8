package filestore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/petrel-io/petrel/core/env"
)

// Block file header; doc.go draws it as a table. It is written twice, back to back, so one
// flipped bit can never cost a whole block.
const (
	blockMagic       = "PTRLBLK1"
	blockHeaderBytes = 64
	blockDataStart   = 2 * blockHeaderBytes // records start after both copies
	blockVersion     = 1
	blockSuffix      = ".blk"
)

// blockHeader is what a block file starts with.
type blockHeader struct {
	id       uint32
	cipher   Cipher
	salt     [16]byte // per block: seeds the record checksums and derives the block's key
	last     uint64   // the store's last sequence when the block was created
	lastTime int64
	// durable: every block up to this id was synced in full before this block was created,
	// so recovery need only make the blocks after it durable again (see recover).
	durable  uint32
	keyCheck uint32 // proves the configured key is the one the block was written with
}

func (h *blockHeader) encode() []byte {
	b := make([]byte, blockDataStart)
	copy(b, blockMagic)
	binary.LittleEndian.PutUint32(b[8:], h.id)
	b[12], b[13] = blockVersion, byte(h.cipher)
	copy(b[16:32], h.salt[:])
	binary.LittleEndian.PutUint64(b[32:], h.last)
	binary.LittleEndian.PutUint64(b[40:], uint64(h.lastTime))
	binary.LittleEndian.PutUint32(b[48:], h.durable)
	binary.LittleEndian.PutUint32(b[56:], h.keyCheck)
	binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], castagnoli))
	copy(b[blockHeaderBytes:], b[:blockHeaderBytes])
	return b
}

// parseBlockHeader returns the first intact copy of the header, and how many copies were
// intact (0, 1 or 2).
func parseBlockHeader(data []byte) (blockHeader, int, error) {
	var found blockHeader
	intact := 0
	var firstErr error
	for c := 0; c < 2; c++ {
		off := c * blockHeaderBytes
		if len(data) < off+blockHeaderBytes {
			break
		}
		h, err := parseHeaderCopy(data[off : off+blockHeaderBytes])
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if intact == 0 {
			found = h
		}
		intact++
	}
	if intact == 0 && len(data) >= 2*blockHeaderBytes {
		// A flipped bit in each copy: correct one of them (CRC32-C over 60 bytes corrects
		// one bit unambiguously), and the caller writes both copies again.
		for c := 0; c < 2 && intact == 0; c++ {
			fixed := append([]byte(nil), data[c*blockHeaderBytes:(c+1)*blockHeaderBytes]...)
			var h blockHeader // the one copy that parses, when there is exactly one
			if repairOneBit(fixed, func(b []byte) bool {
				parsed, err := parseHeaderCopy(b)
				if err == nil {
					h = parsed
				}
				return err == nil
			}) {
				found, intact = h, 1
			}
		}
	}
	if intact == 0 {
		if firstErr == nil {
			firstErr = fmt.Errorf("file of %d bytes is shorter than a block header", len(data))
		}
		return blockHeader{}, 0, firstErr
	}
	return found, intact, nil
}

func parseHeaderCopy(b []byte) (blockHeader, error) {
	if string(b[:8]) != blockMagic || crc32.Checksum(b[:60], castagnoli) != binary.LittleEndian.Uint32(b[60:]) {
		return blockHeader{}, fmt.Errorf("header copy fails its magic or checksum")
	}
	if b[12] != blockVersion {
		return blockHeader{}, fmt.Errorf("%w %d", errUnsupportedBlock, b[12])
	}
	h := blockHeader{
		id: binary.LittleEndian.Uint32(b[8:]), cipher: Cipher(b[13]),
		last: binary.LittleEndian.Uint64(b[32:]), lastTime: int64(binary.LittleEndian.Uint64(b[40:])),
		durable: binary.LittleEndian.Uint32(b[48:]), keyCheck: binary.LittleEndian.Uint32(b[56:]),
	}
	copy(h.salt[:], b[16:32])
	if h.cipher > CipherAES {
		return blockHeader{}, fmt.Errorf("unknown cipher %d", h.cipher)
	}
	return h, nil
}

// seedOf turns a block's salt into its record checksum seed. Seeding by block means a
// record copied from another block (say, a block file stored as a message payload) never
// passes for a record of this one when recovery resynchronises after damage.
func seedOf(salt [16]byte) uint32 { return crc32.Checksum(salt[:], castagnoli) }

// blockAEAD derives the block's key from the master key and the block's salt (HKDF-SHA256)
// and returns the AEAD and the key check value. Per-block keys bound how many records any
// one key seals.
func blockAEAD(c Cipher, master []byte, salt [16]byte) (cipher.AEAD, uint32, error) {
	key, err := hkdf.Key(sha256.New, master, salt[:], "petrel filestore block key v1", 32)
	if err != nil {
		return nil, 0, fmt.Errorf("derive block key: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	_, _ = mac.Write([]byte("petrel filestore key check")) // a hash never fails to write
	check := binary.LittleEndian.Uint32(mac.Sum(nil))
	var aead cipher.AEAD
	switch c {
	case CipherChaCha:
		aead, err = chacha20poly1305.NewX(key)
	case CipherAES:
		var blk cipher.Block
		if blk, err = aes.NewCipher(key); err == nil {
			aead, err = cipher.NewGCM(blk)
		}
	default:
		return nil, 0, fmt.Errorf("no AEAD for cipher %d", c)
	}
	return aead, check, err
}

// block is one open block file.
//
// Invariant: written <= size; pending holds exactly bytes [written, size); a record lies
// wholly below written or wholly in pending; past written the file holds only zeros (up to
// alloc) or nothing.
type block struct {
	id      uint32
	name    string
	f       env.File
	hdr     blockHeader
	seal    sealer
	size    int64  // logical end: written bytes plus pending ones
	written int64  // bytes handed to the file
	alloc   int64  // the file holds written zeros (or records) up to here (preallocate)
	pending []byte // appended records not yet written
	unsync  bool   // written since the last successful sync
	// tail: during recovery, the bytes after the block's last record (see settleTails).
	tail *Damage
	// scanSum: the checksum of the records recovery scanned (with corrected headers), which
	// rewriteBlock's second read must match.
	scanSum uint32
	live    int // live messages whose record is here
}

func blockName(dir string, id uint32) string {
	return fmt.Sprintf("%s/%010d%s", dir, id, blockSuffix)
}

// parseBlockName returns the id of a block file name, or false for other files.
func parseBlockName(name string) (uint32, bool) {
	digits, ok := strings.CutSuffix(name, blockSuffix)
	if !ok || len(digits) != 10 {
		return 0, false
	}
	id, err := strconv.ParseUint(digits, 10, 32)
	return uint32(id), err == nil && id > 0
}

// read returns the record bytes at [off, off+n), from the pending buffer or the file.
func (b *block) read(off int64, n int) ([]byte, error) {
	if off >= b.written {
		start := off - b.written
		if start+int64(n) > int64(len(b.pending)) {
			return nil, fmt.Errorf("read past the pending end of block %d", b.id)
		}
		return append([]byte(nil), b.pending[start:start+int64(n)]...), nil
	}
	buf := make([]byte, n)
	if _, err := b.f.ReadAt(buf, off); err != nil {
		return nil, fmt.Errorf("read block %d at %d: %w", b.id, off, err)
	}
	return buf, nil
}
