package websocket

import (
	"bytes"
	"compress/flate"
	"sync"
	"testing"
)

// Connections of one listener share compressors: at most flateIdleMax wait between uses,
// and concurrent users each get their own (run under -race).
func TestFlatePoolBoundsAndConcurrency(t *testing.T) {
	p := &flatePool{}
	var lent []*flate.Writer
	for range flateIdleMax + 5 {
		lent = append(lent, p.compressor(&bytes.Buffer{}))
	}
	for _, w := range lent {
		p.putCompressor(w)
	}
	if len(p.writers) != flateIdleMax {
		t.Fatalf("%d idle compressors, want %d", len(p.writers), flateIdleMax)
	}
	msg := bytes.Repeat([]byte("MSG subject 1 5\r\nhello\r\n"), 50)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := framer{deflate: true, frameMax: FramePayloadMax, pool: p}
			d := deframer{deflate: true, messageMax: 1 << 20, pool: p, onControl: func(Opcode, []byte) error { return nil }}
			for i := range 50 {
				var wire []byte
				f.frames(append([]byte(nil), msg...), func(b []byte) { wire = append(wire, b...) })
				out, err := d.feed(wire, nil)
				if err != nil || !bytes.Equal(out, msg) {
					t.Errorf("goroutine %d message %d: %v", g, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
