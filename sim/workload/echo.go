package workload

import (
	"bytes"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// Echo runs TCP echo servers (which crash) and clients that check every byte that comes back
// against what they sent on that connection: nothing corrupted, reordered, duplicated or
// invented, across resets, stalls, partitions and crashes. A connection carries exactly
// echoConnBytes: the server closes it cleanly once it has echoed them, and a client that sees
// that clean close must have every byte back (a FIN never overtakes data, even while the
// client pauses its reads now and then). After faults stop, every client must get bytes back
// again.
type Echo struct {
	clients   []*echoStats
	faultsEnd time.Duration
}

// echoStats outlives client incarnations: it is the checker's view.
type echoStats struct {
	name              string
	echoed            int64
	echoedAtFaultsEnd int64
	conns             int
}

const (
	echoPort          = 7
	echoPendingMax    = 64 << 10
	echoWriteMax      = 4096
	echoProgressEvery = time.Second
	echoLivenessBytes = 4096
	echoConnBytes     = 256 << 10
	echoPauseOneIn    = 40 // chunks read between pauses, on average
)

func (e *Echo) Name() string { return "echo" }

func (e *Echo) Setup(w *sim.World) sim.Plan {
	var servers []string
	for i := range 1 + w.Rand().Intn(2) {
		n := w.AddNode(fmt.Sprintf("s%d", i+1), sim.NodeConfig{Crashable: true}, echoServer)
		servers = append(servers, fmt.Sprintf("%s:%d", n.Name, echoPort))
	}
	for i := range 3 {
		stats := &echoStats{name: fmt.Sprintf("c%d", i+1)}
		e.clients = append(e.clients, stats)
		w.AddNode(stats.name, sim.NodeConfig{}, func(en *env.Env) {
			c := &echoClient{e: en, stats: stats}
			c.rd = newRedialer(en, func() string { return servers[en.Rand.Intn(len(servers))] }, c)
			c.rd.start()
		})
	}
	plan := sim.Plan{Faults: 20 * time.Second, Liveness: 10 * time.Second}
	e.faultsEnd = plan.Faults
	w.At(plan.Faults, func() {
		for _, c := range e.clients {
			c.echoedAtFaultsEnd = c.echoed
		}
	})
	return plan
}

func (e *Echo) Check(w *sim.World) error {
	for _, c := range e.clients {
		if got := c.echoed - c.echoedAtFaultsEnd; got < echoLivenessBytes {
			return fmt.Errorf("echo: client %s got %d bytes back after faults stopped, want >= %d (total %d over %d connections)",
				c.name, got, echoLivenessBytes, c.echoed, c.conns)
		}
	}
	return nil
}

// echoServer is the server program: it writes back whatever it reads.
func echoServer(e *env.Env) {
	accept := e.Exec.New("accept")
	_, err := e.Net.Listen(fmt.Sprintf(":%d", echoPort), accept, func(c env.Conn) {
		c.Start(e.Exec.New("conn"), &echoServerConn{c: c})
	})
	env.Assertf(err == nil, "echo server %s: listen: %v", e.Name, err)
}

type echoServerConn struct {
	c      env.Conn
	echoed int
}

func (s *echoServerConn) OnData(p []byte) {
	// An error means the connection is going away; its OnClose follows.
	if s.c.Write(p) == nil {
		s.echoed += len(p)
	}
	if s.echoed >= echoConnBytes {
		_ = s.c.Close() // the FIN follows the last echoed byte
	}
}

func (s *echoServerConn) OnClose(error) { _ = s.c.Close() }

// echoClient is one incarnation of a client program.
type echoClient struct {
	e        *env.Env
	rd       *redialer
	stats    *echoStats
	conn     env.Conn
	pending  []byte // sent on this connection, not yet echoed
	sent     int    // bytes sent on this connection
	progress bool   // bytes came back since the watchdog last looked
	sendT    env.Timer
	watchT   env.Timer
}

func (c *echoClient) up(conn env.Conn) {
	c.conn, c.pending, c.sent = conn, nil, 0
	c.stats.conns++
	c.scheduleSend()
	c.watchT = c.e.Clock.AfterFunc(echoProgressEvery, c.rd.ex, c.watchdog)
}

func (c *echoClient) down(err error) {
	env.Assertf(err != nil || len(c.pending) == 0,
		"echo %s: the server's clean close arrived with %d of %d bytes not echoed: a FIN overtook data",
		c.e.Name, len(c.pending), c.sent)
	c.conn, c.pending = nil, nil
	c.sendT.Stop()
	c.watchT.Stop()
}

func (c *echoClient) scheduleSend() {
	d := time.Duration(1+c.e.Rand.Intn(20)) * time.Millisecond
	c.sendT = c.e.Clock.AfterFunc(d, c.rd.ex, c.send)
}

func (c *echoClient) send() {
	if c.conn == nil {
		return
	}
	if len(c.pending) < echoPendingMax && c.sent < echoConnBytes {
		p := make([]byte, min(1+c.e.Rand.Intn(echoWriteMax), echoConnBytes-c.sent))
		c.e.Rand.Fill(p)
		if c.conn.Write(p) == nil {
			c.pending = append(c.pending, p...)
			c.sent += len(p)
		}
	}
	c.scheduleSend()
}

// watchdog drops a connection that has bytes outstanding but made no progress, which is how
// a client survives a half-open connection.
func (c *echoClient) watchdog() {
	if c.conn == nil {
		return
	}
	if len(c.pending) > 0 && !c.progress {
		c.rd.drop()
		return
	}
	c.progress = false
	c.watchT = c.e.Clock.AfterFunc(echoProgressEvery, c.rd.ex, c.watchdog)
}

func (c *echoClient) data(p []byte) {
	env.Assertf(len(p) <= len(c.pending), "echo %s: %d bytes came back but only %d are outstanding",
		c.e.Name, len(p), len(c.pending))
	if !bytes.Equal(p, c.pending[:len(p)]) {
		i := 0
		for i < len(p) && p[i] == c.pending[i] {
			i++
		}
		env.Assertf(false, "echo %s: byte %d of a %d-byte chunk differs from what was sent", c.e.Name, i, len(p))
	}
	c.pending = c.pending[len(p):]
	c.stats.echoed += int64(len(p))
	c.progress = true
	if c.e.Rand.Intn(echoPauseOneIn) == 0 {
		c.pauseReads()
	}
}

// pauseReads stops reading for a few milliseconds, so echoed bytes (and the server's FIN
// behind them) wait in the simulated kernel and are handed over after the resume.
func (c *echoClient) pauseReads() {
	conn := c.conn
	conn.PauseReads()
	c.e.Clock.AfterFunc(time.Duration(1+c.e.Rand.Intn(50))*time.Millisecond, c.rd.ex, func() {
		if c.conn == conn {
			conn.ResumeReads()
		}
	})
}
