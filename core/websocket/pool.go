package websocket

import (
	"compress/flate"
	"io"
	"sync"
)

// flatePool lends deflate compressors and inflaters to the connections of one listener.
// A compressor holds about 1.2 MB and an inflater about 40 KB: kept per connection, as
// nats-server keeps them, a thousand compressed connections would hold over a gigabyte.
// Lent for one message at a time, they cost what the connections flushing at the same
// moment need, and at most flateIdleMax of each wait between uses.
type flatePool struct {
	mu        sync.Mutex
	writers   []*flate.Writer
	inflaters []io.ReadCloser
}

// compressor returns a BestSpeed compressor writing to dst: nats-server's level, since
// the server compresses every flush and CPU matters more than the last percent of size.
func (p *flatePool) compressor(dst io.Writer) *flate.Writer {
	p.mu.Lock()
	if n := len(p.writers); n > 0 {
		w := p.writers[n-1]
		p.writers = p.writers[:n-1]
		p.mu.Unlock()
		w.Reset(dst)
		return w
	}
	p.mu.Unlock()
	w, _ := flate.NewWriter(dst, flate.BestSpeed) // a valid level: NewWriter cannot fail
	return w
}

func (p *flatePool) putCompressor(w *flate.Writer) {
	w.Reset(io.Discard) // drop the reference to the caller's buffer
	p.mu.Lock()
	if len(p.writers) < flateIdleMax {
		p.writers = append(p.writers, w)
	}
	p.mu.Unlock()
}

// inflater returns an inflater reading src.
func (p *flatePool) inflater(src io.Reader) (io.ReadCloser, error) {
	p.mu.Lock()
	if n := len(p.inflaters); n > 0 {
		r := p.inflaters[n-1]
		p.inflaters = p.inflaters[:n-1]
		p.mu.Unlock()
		return r, r.(flate.Resetter).Reset(src, nil)
	}
	p.mu.Unlock()
	return flate.NewReader(src), nil
}

func (p *flatePool) putInflater(r io.ReadCloser) {
	p.mu.Lock()
	if len(p.inflaters) < flateIdleMax {
		p.inflaters = append(p.inflaters, r)
	}
	p.mu.Unlock()
}
