package jetstream

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim"
)

// Any one flipped bit anywhere in a definition's file leaves a copy that passes its checksum,
// and it is the document written, for definitions of many lengths (so each copy boundary
// falls at many places within a sector).
func TestDefinitionSurvivesAnyOneFlip(t *testing.T) {
	for pad := 0; pad < 600; pad += 37 {
		cfg := jsapi.StreamConfig{Name: "KV_b", Subjects: []string{"$KV.b.>"}, Description: string(make([]byte, pad))}
		for i := range pad {
			cfg.Description = cfg.Description[:i] + "x" + cfg.Description[i+1:]
		}
		doc, err := json.Marshal(streamMeta{Config: cfg, Created: time.Unix(1, 0).UTC()})
		if err != nil {
			t.Fatal(err)
		}
		file := encodeMeta(doc)
		for off := range file {
			for bit := range 8 {
				file[off] ^= 1 << bit
				got, ok := decodeMeta(file)
				file[off] ^= 1 << bit
				if !ok || string(got) != string(doc) {
					t.Fatalf("doc of %d bytes, file of %d: flip at %d bit %d: ok=%v got %q", len(doc), len(file), off, bit, ok, got)
				}
			}
		}
	}
}

// flipFirstRead is an FS whose first read of any file returns one bit flipped (rot in
// transit, not at rest).
type flipFirstRead struct {
	env.FS
	flipped bool
}

func (f *flipFirstRead) Open(name string) (env.File, error) {
	file, err := f.FS.Open(name)
	return &flipFile{File: file, fs: f}, err
}

type flipFile struct {
	env.File
	fs *flipFirstRead
}

func (f *flipFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	if !f.fs.flipped && n > 0 {
		f.fs.flipped = true
		p[n/3] ^= 1 // inside the first copy: with the second damaged at rest, no copy passes
	}
	return n, err
}

// A definition with one copy rotten at rest and a read that flips a bit of the other in
// transit is read again, and found.
func TestDefinitionReadAgainAfterFlipInTransit(t *testing.T) {
	quiet := sim.Quiet()
	w := sim.NewWorld(1, sim.Options{Profile: &quiet})
	var fsys env.FS
	node := w.AddNode("s1", sim.NodeConfig{}, func(e *env.Env) { fsys = e.FS })
	w.RunUntil(time.Millisecond)
	want := streamMeta{Config: jsapi.StreamConfig{Name: "S", Subjects: []string{"s"}}, Created: time.Unix(1, 0).UTC()}
	if err := writeMeta(fsys, "d", want); err != nil {
		t.Fatal(err)
	}
	data, err := node.Disk.ReadFile("d/" + metaFile)
	if err != nil {
		t.Fatal(err)
	}
	node.Disk.FlipBitAt("d/"+metaFile, int64(len(data))-20, 0)
	var got streamMeta
	if err := readMeta(&flipFirstRead{FS: fsys}, "d", &got); err != nil || got.Config.Name != "S" {
		t.Fatalf("read after a flip in transit: %v %+v", err, got)
	}
}
