package server

import (
	"bytes"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/proto/prototest"
)

var rewriteNats = flag.Bool("rewrite-nats", false,
	"rewrite testdata/proto transcripts with what nats-server (NATS_SERVER_BIN) answers")

// TestProtoGoldenReal runs the testdata/proto transcripts over real TCP: against the petrel
// binary always, and against nats-server when NATS_SERVER_BIN names one (go install
// github.com/nats-io/nats-server/v2@v2.15.2), so the goldens the simulator checks are
// checked against the server they copy. Each script gets a fresh process with its options
// written as a configuration file.
func TestProtoGoldenReal(t *testing.T) {
	files, err := filepath.Glob("../testdata/proto/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	natsBin := os.Getenv("NATS_SERVER_BIN")
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run("petrel/"+name, func(t *testing.T) {
			runRealScript(t, file, prototest.TargetPetrel, func(conf string) string {
				return startPetrel(t, "-c", conf).port
			})
		})
		if natsBin == "" {
			continue
		}
		t.Run("nats/"+name, func(t *testing.T) {
			runRealScript(t, file, prototest.TargetNats, func(conf string) string {
				return startNatsServerConf(t, natsBin, conf)
			})
		})
	}
}

func runRealScript(t *testing.T, file, target string, start func(conf string) string) {
	text, err := os.ReadFile(file)
	must(t, err)
	s, err := prototest.Parse(file, string(text))
	must(t, err)
	conf, err := prototest.Config(s.Options)
	must(t, err)
	confPath := filepath.Join(t.TempDir(), "golden.conf")
	must(t, os.WriteFile(confPath, []byte(conf), 0o644))
	tg := &tcpTarget{t: t, name: target, port: start(confPath)}
	if *rewriteNats && target == prototest.TargetNats {
		out, err := prototest.Record(s, tg)
		must(t, err)
		must(t, os.WriteFile(file, []byte(out), 0o644))
		return
	}
	if err := prototest.Run(s, tg); err != nil {
		t.Fatal(err)
	}
}

// startNatsServerConf runs nats-server on a free loopback port with conf, waiting until it
// logs that it is ready (dialling to find out would itself count as a connection, which a
// max_connections script notices).
func startNatsServerConf(t *testing.T, bin, conf string) string {
	port := freePort(t)
	startNatsServer(t, bin, []string{"-a", "127.0.0.1", "-p", port, "-c", conf})
	return port
}

// tcpTarget dials a real server.
type tcpTarget struct {
	t    *testing.T
	name string
	port string
}

func (tg *tcpTarget) Name() string          { return tg.name }
func (tg *tcpTarget) Sleep(d time.Duration) { time.Sleep(d) }

func (tg *tcpTarget) Dial() (prototest.Conn, error) {
	nc, err := net.Dial("tcp", "127.0.0.1:"+tg.port)
	if err != nil {
		return nil, err
	}
	c := &tcpConn{nc: nc}
	c.cond = sync.NewCond(&c.mu)
	go c.read()
	return c, nil
}

// tcpConn reads on its own goroutine into buf, so bytes are taken off the socket as soon as
// they arrive (a server that closes with our input unread resets the connection, and a reset
// discards what the kernel holds unread).
type tcpConn struct {
	nc     net.Conn
	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	closed bool
}

func (c *tcpConn) read() {
	p := make([]byte, 64<<10)
	for {
		n, err := c.nc.Read(p)
		c.mu.Lock()
		c.buf = append(c.buf, p[:n]...)
		if err != nil {
			c.closed = true
		}
		c.cond.Broadcast()
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (c *tcpConn) Send(p []byte) error {
	_, err := c.nc.Write(p)
	return err
}

func (c *tcpConn) Close() { c.nc.Close() }

func (c *tcpConn) Next(wait time.Duration) (string, bool, bool) {
	timer := time.AfterFunc(wait, func() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer timer.Stop()
	deadline := time.Now().Add(wait)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if i := bytes.Index(c.buf, []byte("\r\n")); i >= 0 {
			line := string(c.buf[:i])
			c.buf = c.buf[i+2:]
			if line == "PING" {
				// The server's first RTT probe (about 2 s after CONNECT): a slow machine can
				// stretch a script past it, and no transcript pins its timing.
				continue
			}
			return line, true, false
		}
		if c.closed {
			if len(c.buf) > 0 {
				line := string(c.buf)
				c.buf = nil
				return line, true, false
			}
			return "", false, true
		}
		if !time.Now().Before(deadline) {
			return "", false, false
		}
		c.cond.Wait()
	}
}

// A server PING (its RTT probe) is skipped by the real-connection reader: a script on a slow
// machine outlasting the probe's 2 s failed with "unexpected PING at the end".
func TestGoldenReaderSkipsServerPings(t *testing.T) {
	c := &tcpConn{buf: []byte("PING\r\n+OK\r\nPING\r\n")}
	c.cond = sync.NewCond(&c.mu)
	if line, ok, _ := c.Next(10 * time.Millisecond); !ok || line != "+OK" {
		t.Fatalf("read %q %v", line, ok)
	}
	if line, ok, _ := c.Next(10 * time.Millisecond); ok {
		t.Fatalf("a trailing PING was read: %q", line)
	}
}
