package jetstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"path"
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// Definitions on disk: meta.json holds two copies (encodeMeta) of a JSON document, a newline,
// and the CRC-32C of the document in hex. It is replaced durably (env.WriteFileDurable) before the change it
// records is answered. A stream being deleted gets a "deleted" file first, so a crash in the
// middle of removing its files ends the removal at the next start instead of leaving a
// stream with half its data.

const (
	metaReadTries = 3
	metaFile      = "meta.json"
	deletedFile   = "deleted"
	msgsDir       = "msgs"
	consumerDir   = "obs"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errDamagedMeta classifies a definition that fails its checksum or does not parse.
var errDamagedMeta = errors.New("jetstream: damaged definition")

// streamMeta is a stream's definition.
type streamMeta struct {
	Config  jsapi.StreamConfig `json:"config"`
	Created time.Time          `json:"created"`
}

// consumerMeta is a consumer's definition.
type consumerMeta struct {
	Config  jsapi.ConsumerConfig `json:"config"`
	Created time.Time            `json:"created"`
}

func writeMeta(fs env.FS, dir string, v any) error {
	doc, err := json.Marshal(v)
	env.Assertf(err == nil, "jetstream: marshal definition: %v", err)
	if err := fs.MkdirAll(dir); err != nil {
		return fmt.Errorf("jetstream: make %s: %w", dir, err)
	}
	if err := env.WriteFileDurable(fs, path.Join(dir, metaFile), encodeMeta(doc)); err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	return nil
}

// encodeMeta is a definition's file: two copies of "<JSON>\n<CRC-32C hex>\n", the second
// starting on its own sector, so that rot in one sector leaves a whole copy to read.
func encodeMeta(doc []byte) []byte {
	sum := strconv.FormatUint(uint64(crc32.Checksum(doc, castagnoli)), 16)
	one := append(append(append(append([]byte(nil), doc...), '\n'), sum...), '\n')
	pad := (env.SectorSize - len(one)%env.SectorSize) % env.SectorSize
	data := append(append([]byte(nil), one...), bytes.Repeat([]byte{' '}, pad)...)
	return append(data, one...)
}

// readMeta reads a definition. A read that finds no sound copy is tried again, up to
// metaReadTries times in all: a bit flipped in transit (not at rest) passes, and a stream
// kept offline for it would stay offline until an operator looked.
func readMeta(fs env.FS, dir string, v any) error {
	name := path.Join(dir, metaFile)
	if info, err := fs.Stat(name); err == nil && info.Size > metaFileMax {
		return fmt.Errorf("%w: %s is %d bytes", errDamagedMeta, name, info.Size)
	}
	var doc []byte
	for try := 0; doc == nil && try < metaReadTries; try++ {
		data, err := env.ReadFile(fs, name)
		if err != nil {
			return fmt.Errorf("jetstream: %w", err)
		}
		doc, _ = decodeMeta(data)
	}
	if doc == nil {
		return fmt.Errorf("%w: %s: no copy passes its checksum", errDamagedMeta, name)
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return fmt.Errorf("%w: %s: %v", errDamagedMeta, name, err)
	}
	return nil
}

// decodeMeta finds the first copy whose checksum holds. The copies are found by their
// places, not by scanning for newlines, so a flipped delimiter or padding byte cannot hide a
// sound copy: the second copy fills the file from the first sector boundary at or past the
// first copy's length, and both are equally long. A file of one copy reads too.
func decodeMeta(data []byte) ([]byte, bool) {
	for b := env.SectorSize; b < len(data); b += env.SectorSize {
		if n := len(data) - b; n <= b && n > b-env.SectorSize {
			for _, one := range [][]byte{data[:n], data[b:]} {
				if doc, ok := decodeMetaCopy(one); ok {
					return doc, true
				}
			}
			return nil, false
		}
	}
	return decodeMetaCopy(data)
}

// decodeMetaCopy checks one copy: "<JSON>\n<CRC-32C hex>\n".
func decodeMetaCopy(one []byte) ([]byte, bool) {
	body, ok := bytes.CutSuffix(one, []byte{'\n'})
	i := bytes.LastIndexByte(body, '\n')
	if !ok || i <= 0 {
		return nil, false
	}
	doc, sum := body[:i], string(body[i+1:])
	want, err := strconv.ParseUint(sum, 16, 32)
	if err != nil || len(sum) == 0 || uint32(want) != crc32.Checksum(doc, castagnoli) {
		return nil, false
	}
	return doc, true
}

// removeTree removes dir and everything below it, deepest first.
func removeTree(fs env.FS, dir string) error {
	names, err := fs.List(dir)
	if err != nil {
		return fmt.Errorf("jetstream: list %s: %w", dir, err)
	}
	for _, n := range names {
		p := path.Join(dir, n)
		info, err := fs.Stat(p)
		if err != nil {
			return fmt.Errorf("jetstream: stat %s: %w", p, err)
		}
		if info.IsDir {
			err = removeTree(fs, p)
		} else {
			err = fs.Remove(p)
		}
		if err != nil {
			return err
		}
	}
	if err := fs.Remove(dir); err != nil {
		return fmt.Errorf("jetstream: remove %s: %w", dir, err)
	}
	return nil
}

// markDeleted records durably that dir is being removed.
func markDeleted(fs env.FS, dir string) error {
	if err := env.WriteFileDurable(fs, path.Join(dir, deletedFile), nil); err != nil {
		return fmt.Errorf("jetstream: mark %s deleted: %w", dir, err)
	}
	return nil
}

func isMarkedDeleted(fs env.FS, dir string) bool {
	_, err := fs.Stat(path.Join(dir, deletedFile))
	return err == nil
}

// DefinitionReadable reports whether a definition file's content has a copy that passes its
// checksum, for checkers that judge whether the server was right to keep an asset offline.
func DefinitionReadable(data []byte) bool {
	_, ok := decodeMeta(data)
	return ok
}
