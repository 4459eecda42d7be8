package server

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// rawConn is a plain TCP client speaking the protocol by hand, for what nats.go would
// never send.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	r  *bufio.Reader
}

func dialRaw(t *testing.T, port string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", "127.0.0.1:"+port)
	must(t, err)
	t.Cleanup(func() { nc.Close() })
	rc := &rawConn{t: t, nc: nc, r: bufio.NewReader(nc)}
	rc.expect("INFO ")
	return rc
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	_, err := r.nc.Write([]byte(s))
	must(r.t, err)
}

// expect reads lines until one starts with prefix, skipping PINGs and +OKs.
func (r *rawConn) expect(prefix string) string {
	r.t.Helper()
	must(r.t, r.nc.SetReadDeadline(time.Now().Add(testTimeout)))
	for {
		line, err := r.r.ReadString('\n')
		if err != nil {
			r.t.Fatalf("waiting for %q: %v", prefix, err)
		}
		if strings.HasPrefix(line, prefix) {
			return strings.TrimRight(line, "\r\n")
		}
		if line != "PING\r\n" && line != "+OK\r\n" {
			r.t.Fatalf("waiting for %q, got %q", prefix, line)
		}
	}
}

func (r *rawConn) expectEOF() {
	r.t.Helper()
	must(r.t, r.nc.SetReadDeadline(time.Now().Add(testTimeout)))
	rest, err := io.ReadAll(r.r)
	if err != nil {
		r.t.Fatalf("waiting for the server to close: %v (read %q)", err, rest)
	}
}
