package route

import (
	"errors"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/s2stream"
)

// Route compression, as nats-server 2.10+ negotiates it. Each side's INFO names its mode.
// A side whose mode is not off picks one from both when it reads the peer's first INFO
// (negotiateCompression, the same rule on both sides, so they agree on whether to
// compress, though each compresses at its own level). If they compress, each sends a
// second INFO naming the mode it picked, and the handshake waits for the peer's
// (PhaseAwaitSecondInfo) before the route is registered. Where the streams turn
// compressed:
//
//	dialer:    writes its second INFO plain, compresses what follows; the acceptor's bytes
//	           are compressed from right after the acceptor's first INFO
//	acceptor:  compresses its second INFO and what follows; the dialer's bytes are
//	           compressed from right after the dialer's second INFO
//
// The Router decodes what it reads (s2stream.Decoder); compressing output is the host's,
// at each flush, so a frame holds a flush's worth of messages rather than one message:
// Ready's Write.CompressAfter says from where.

// Compression modes, nats-server's names, as INFO carries them.
const (
	CompressionOff            = "off"
	CompressionAccept         = "accept"
	CompressionNotSupported   = "not supported"
	CompressionS2Uncompressed = "s2_uncompressed"
	CompressionS2Fast         = "s2_fast"
	CompressionS2Better       = "s2_better"
	CompressionS2Best         = "s2_best"
	CompressionS2Auto         = "s2_auto"
)

// compresses reports whether mode means compressing (or negotiating to).
func compresses(mode string) bool {
	return mode != "" && mode != CompressionOff && mode != CompressionNotSupported
}

// negotiateCompression is the mode this side uses given its own (which compresses) and the
// peer's: none when the peer cannot or will not, or when neither side starts it; else ours,
// or the peer's when we only accept (s2_fast for a peer's s2_auto).
func negotiateCompression(ours, theirs string) (string, error) {
	switch theirs {
	case "", CompressionNotSupported:
		return CompressionNotSupported, nil
	case CompressionOff:
		return CompressionOff, nil
	case CompressionAccept:
		if ours == CompressionAccept {
			return CompressionOff, nil
		}
		return ours, nil
	case CompressionS2Auto, CompressionS2Uncompressed, CompressionS2Fast, CompressionS2Better, CompressionS2Best:
		if ours != CompressionAccept {
			return ours, nil
		}
		if theirs == CompressionS2Auto {
			return CompressionS2Fast, nil
		}
		return theirs, nil
	}
	return "", fmt.Errorf("unsupported route compression mode %q", theirs)
}

// autoMode is s2_auto's level for a round trip: the first step rtt is within (a 0 step
// skips its level), else the last level the steps name (s2_best with three or more).
func autoMode(rtt time.Duration, steps []time.Duration) string {
	levels := [...]string{CompressionS2Uncompressed, CompressionS2Fast, CompressionS2Better, CompressionS2Best}
	for i, d := range steps {
		if rtt <= d && i < len(levels) {
			return levels[i]
		}
	}
	if len(steps) >= 3 || len(steps) == 0 {
		return CompressionS2Best
	}
	return levels[len(steps)-1]
}

// EncoderLevel is the s2stream level a negotiated mode compresses at.
func EncoderLevel(mode string) s2stream.Level {
	switch mode {
	case CompressionS2Fast:
		return s2stream.Fast
	case CompressionS2Better:
		return s2stream.Better
	case CompressionS2Best:
		return s2stream.Best
	case CompressionS2Uncompressed:
		return s2stream.Uncompressed
	}
	panic(fmt.Sprintf("route: no encoder level for compression mode %q", mode))
}

// startCompression runs on the peer's first INFO: it settles the mode and, when the route
// compresses, sends the second INFO and reports that the handshake waits for the peer's.
// For a dialer the rest of this read is compressed: it returns proto.ErrHandOff.
func (c *Conn) startCompression(info *proto.RouteInfo) (wait bool, err error) {
	ours := c.r.cfg.Compression
	if !compresses(ours) {
		return false, nil
	}
	mode, err := negotiateCompression(ours, info.Compression)
	if err != nil {
		return false, c.r.closeConn(c, ReasonProtocolViolation, err.Error())
	}
	if mode == CompressionS2Auto {
		mode = autoMode(c.r.now-c.start, c.r.cfg.CompressionRTT)
	}
	c.compression = mode
	if !compresses(mode) {
		return false, nil
	}
	second := proto.AppendInfo(nil, c.r.infoJSONCompressed(c, mode))
	c.phase = PhaseAwaitSecondInfo
	if c.solicited {
		c.write(second)
		c.compressOutput()
		return true, proto.ErrHandOff
	}
	c.compressOutput()
	c.write(second)
	return true, nil
}

// compressOutput hands the host what is written so far, to send plain; it compresses what
// the connection writes after.
func (c *Conn) compressOutput() {
	r := c.r
	r.ready.Writes = append(r.ready.Writes, Write{Conn: c.id, Bytes: c.out, CompressAfter: c.compression})
	c.out = nil
}

// secondInfo is the peer's second INFO, which ends a compressing handshake. For an
// acceptor the rest of the read is compressed.
func (c *Conn) secondInfo(info *proto.RouteInfo) error {
	c.fillPeerURL(info)
	if !c.r.stillPlaced(c) {
		return c.r.closeConn(c, ReasonPoolResized, "") // dialled again, into the new shape
	}
	if !c.r.register(c, info) {
		return errStop
	}
	if !c.solicited {
		return proto.ErrHandOff
	}
	return nil
}

// inflate parses the rest of a read that turned compressed, and every read after, through
// the connection's decoder.
func (r *Router) inflate(c *Conn, err error) {
	for errors.Is(err, proto.ErrHandOff) && c.live() {
		env.Assertf(c.decoder == nil, "route: conn %d turned compressed twice", c.id)
		c.decoder = &s2stream.Decoder{}
		err = r.parseCompressed(c, c.parser.Rest())
	}
	if err != nil && !errors.Is(err, errStop) && c.live() {
		_ = r.closeConn(c, ReasonParseError, parseErrText(err)) // returns errStop
	}
}

// parseCompressed decodes data and parses what it gave.
func (r *Router) parseCompressed(c *Conn, data []byte) error {
	plain, err := c.decoder.Feed(data)
	if err != nil {
		return fmt.Errorf("route: conn %d: %w", c.id, err)
	}
	return c.parser.Parse(plain)
}

// infoJSONCompressed is our INFO on c naming the compression mode picked for it.
func (r *Router) infoJSONCompressed(c *Conn, mode string) []byte {
	info := r.routeInfo(c.nonce, c.slot, c.account)
	info.Compression = mode
	return mustJSON(&info)
}
