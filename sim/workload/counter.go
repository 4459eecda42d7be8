package workload

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/sim"
)

// Counter runs a durable counter service on a crashing node. The server appends each new
// value to a log, fsyncs, and only then acknowledges; it halts (fail-stop) on any write or
// sync error. Clients send INC and GET; the checker asserts, at every reply:
//   - an acknowledged value is acknowledged once only (no acknowledged increment was lost and
//     handed out again);
//   - no value exceeds the number of increments sent (nothing invented);
//   - a GET returns at least every value acknowledged before it was sent.
//
// After faults stop, every client must get increments acknowledged again.
type Counter struct {
	w       *sim.World
	clients []*counterStats
	acked   map[uint64]string // value → who got it acknowledged
	maxAck  uint64
	incSent uint64
	oracle  counterOracle
	dmg     counterDamager
}

type counterStats struct {
	name            string
	acks            int
	acksAtFaultsEnd int
	gets            int
}

const (
	counterPort     = 9000
	counterDir      = "data"
	counterLog      = "data/counter.log"
	counterRecord   = 16
	counterSlot     = 2 * counterRecord // each record is written twice: one flipped bit spares the other
	counterMagic    = 0xC0FFEE01
	counterTimeout  = time.Second
	counterLiveAcks = 5
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func (c *Counter) Name() string { return "counter" }

func (c *Counter) Setup(w *sim.World) sim.Plan {
	c.w, c.acked = w, map[uint64]string{}
	c.dmg.init(w, 20*time.Second)
	server := w.AddNode("s1", sim.NodeConfig{Crashable: true}, c.server)
	c.oracle = counterOracle{w: w, node: server, log: &c.dmg.log}
	c.dmg.node = server
	addr := fmt.Sprintf("%s:%d", server.Name, counterPort)
	for i := range 3 {
		st := &counterStats{name: fmt.Sprintf("c%d", i+1)}
		c.clients = append(c.clients, st)
		w.AddNode(st.name, sim.NodeConfig{}, func(e *env.Env) {
			cl := &counterClient{e: e, chk: c, st: st}
			cl.rd = newRedialer(e, func() string { return addr }, cl)
			cl.rd.start()
		})
	}
	plan := sim.Plan{Faults: 20 * time.Second, Liveness: 10 * time.Second}
	w.At(plan.Faults, func() {
		for _, st := range c.clients {
			st.acksAtFaultsEnd = st.acks
		}
	})
	return plan
}

func (c *Counter) Check(w *sim.World) error {
	for _, st := range c.clients {
		if got := st.acks - st.acksAtFaultsEnd; got < counterLiveAcks {
			return fmt.Errorf("counter: client %s got %d increments acknowledged after faults stopped, want >= %d (%d in all)",
				st.name, got, counterLiveAcks, st.acks)
		}
	}
	return nil
}

// The checker's hooks, called by clients as replies arrive.

func (c *Counter) sentInc() { c.incSent++ }

func (c *Counter) ackedInc(who string, v uint64) {
	c.w.Note("%s inc acked %d", who, v)
	if prev, dup := c.acked[v]; dup {
		env.Assertf(false, "counter: value %d acknowledged twice (to %s, then %s): an acknowledged increment was lost", v, prev, who)
	}
	env.Assertf(v <= c.incSent, "counter: value %d acknowledged but only %d increments were sent", v, c.incSent)
	c.acked[v] = who
	c.maxAck = max(c.maxAck, v)
}

func (c *Counter) gotValue(who string, v, floor uint64) {
	c.w.Note("%s get %d (floor %d)", who, v, floor)
	env.Assertf(v >= floor, "counter: GET returned %d, but %d was acknowledged before the GET was sent", v, floor)
	env.Assertf(v <= c.incSent, "counter: GET returned %d but only %d increments were sent", v, c.incSent)
}

// server is the server program. Its log file is wrapped so that the checker knows what a
// sync covered, and so that the workload can tear a write (counterDamager).
func (c *Counter) server(e *env.Env) {
	c.dmg.boot(e)
	shown := *e
	shown.FS = counterFS{FS: e.FS, d: &c.dmg}
	s := &counterState{e: &shown, ex: e.Exec.New("counter"), chk: c}
	s.ex.Post(s.boot)
}

type counterState struct {
	e     *env.Env
	ex    env.Executor
	chk   *Counter
	f     env.File
	value uint64
	slots int64
}

// must halts the node on an error it cannot serve past: the restart recovers from disk.
func must(err error, what string) {
	if err != nil {
		env.Halt(fmt.Errorf("counter: %s: %w", what, err))
	}
}

func (s *counterState) boot() {
	fsys := s.e.FS
	must(fsys.MkdirAll(counterDir), "mkdir")
	must(fsys.SyncDir("."), "sync root")
	f, err := fsys.OpenRW(counterLog)
	if env.IsNotExist(err) {
		f, err = fsys.Create(counterLog)
		must(err, "create log")
		must(fsys.SyncDir(counterDir), "sync dir")
	}
	must(err, "open log")
	s.f = f
	s.recover()
	_, err = s.e.Net.Listen(fmt.Sprintf(":%d", counterPort), s.ex, func(c env.Conn) {
		c.Start(s.ex, &counterConn{s: s, c: c})
	})
	must(err, "listen")
}

// recover finds the highest intact value; slots whose both copies fail their checksum (torn
// or rotted) are skipped, and a partial slot at the end is cut off.
func (s *counterState) recover() {
	buf, err := readLog(s.f)
	must(err, "read log")
	r := recoverCounter(buf)
	s.value, s.slots = r.value, r.slots
	if r.torn {
		must(s.f.Truncate(s.slots*counterSlot), "truncate torn tail")
		s.e.Probe.Hit("counter.recover.torn-tail")
	}
	if r.rescued > 0 {
		s.e.Probe.Hit("counter.recover.copy-rotten")
	}
	if r.bad > 0 {
		s.e.Probe.Hit("counter.recover.slot-lost")
	}
	s.e.Log.Logf(env.LevelInfo, "counter recovered value %d from %d slots (%d unreadable, %d from their second copy)",
		s.value, s.slots, r.bad, r.rescued)
}

func readLog(f env.File) ([]byte, error) {
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, size)
	if size > 0 {
		if _, err := f.ReadAt(buf, 0); err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// counterRecovery is what a scan of the log found.
type counterRecovery struct {
	value   uint64
	slots   int64 // whole slots
	bad     int   // slots whose both copies fail
	rescued int   // slots read from their second copy
	torn    bool  // a partial slot at the end
}

func recoverCounter(buf []byte) counterRecovery {
	r := counterRecovery{slots: int64(len(buf)) / counterSlot, torn: len(buf)%counterSlot != 0}
	for i := int64(0); i < r.slots; i++ {
		slot := buf[i*counterSlot : (i+1)*counterSlot]
		v, ok := decodeCounter(slot[:counterRecord])
		if !ok {
			v, ok = decodeCounter(slot[counterRecord:])
			if ok {
				r.rescued++
			}
		}
		if !ok {
			r.bad++
			continue
		}
		r.value = max(r.value, v)
	}
	return r
}

func encodeCounter(v uint64) []byte {
	rec := make([]byte, counterSlot)
	binary.LittleEndian.PutUint64(rec, v)
	binary.LittleEndian.PutUint32(rec[8:], counterMagic)
	binary.LittleEndian.PutUint32(rec[12:], crc32.Checksum(rec[:12], crcTable))
	copy(rec[counterRecord:], rec[:counterRecord])
	return rec
}

func decodeCounter(rec []byte) (uint64, bool) {
	if binary.LittleEndian.Uint32(rec[8:]) != counterMagic ||
		binary.LittleEndian.Uint32(rec[12:]) != crc32.Checksum(rec[:12], crcTable) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(rec), true
}

// increment makes value+1 durable, then returns it.
func (s *counterState) increment() uint64 {
	next := s.value + 1
	_, err := s.f.WriteAt(encodeCounter(next), s.slots*counterSlot)
	must(err, "append")
	must(s.f.Sync(), "sync")
	s.value, s.slots = next, s.slots+1
	return next
}

// counterConn serves one client connection: newline-terminated requests "INC id" and
// "GET id", answered "OK id value" and "VAL id value".
type counterConn struct {
	s    *counterState
	c    env.Conn
	line lineBuffer
}

func (cc *counterConn) OnData(p []byte) {
	cc.line.feed(p, func(line string) {
		verb, id, _ := strings.Cut(line, " ")
		var reply string
		switch verb {
		case "INC":
			v := cc.s.increment()
			cc.s.chk.oracle.acked(v, cc.s.slots-1)
			reply = fmt.Sprintf("OK %s %d\n", id, v)
		case "GET":
			reply = fmt.Sprintf("VAL %s %d\n", id, cc.s.value)
		default:
			reply = fmt.Sprintf("ERR %s unknown verb\n", id)
		}
		// A failed write means the connection is ending; the client will retry.
		_ = cc.c.Write([]byte(reply))
	})
}

func (cc *counterConn) OnClose(error) { _ = cc.c.Close() }

// lineBuffer reassembles newline-terminated lines from a byte stream cut anywhere.
type lineBuffer struct{ partial []byte }

func (b *lineBuffer) feed(p []byte, each func(string)) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.partial = append(b.partial, p...)
			return
		}
		b.partial = append(b.partial, p[:i]...)
		each(string(b.partial))
		b.partial, p = b.partial[:0], p[i+1:]
	}
}

// counterClient is one incarnation of a client program: one request at a time.
type counterClient struct {
	e      *env.Env
	rd     *redialer
	chk    *Counter
	st     *counterStats
	conn   env.Conn
	line   lineBuffer
	seq    int
	want   string // id of the outstanding request, "" if none
	isInc  bool
	floor  uint64 // highest value acknowledged anywhere when the outstanding GET was sent
	timer  env.Timer
	pacing env.Timer
}

func (cl *counterClient) up(c env.Conn) {
	cl.conn, cl.line = c, lineBuffer{}
	cl.next()
}

func (cl *counterClient) down(error) {
	cl.conn, cl.want = nil, ""
	if cl.timer != nil {
		cl.timer.Stop()
	}
	if cl.pacing != nil {
		cl.pacing.Stop()
	}
}

func (cl *counterClient) next() {
	if cl.conn == nil {
		return
	}
	cl.seq++
	cl.want = fmt.Sprintf("%s-%d", cl.e.Name, cl.seq)
	cl.isInc = cl.e.Rand.Intn(10) < 7
	verb := "GET"
	if cl.isInc {
		verb = "INC"
		cl.chk.sentInc()
	} else {
		cl.floor = cl.chk.maxAck
	}
	if cl.conn.Write([]byte(verb+" "+cl.want+"\n")) != nil {
		return
	}
	cl.timer = cl.e.Clock.AfterFunc(counterTimeout, cl.rd.ex, cl.rd.drop)
}

func (cl *counterClient) data(p []byte) {
	cl.line.feed(p, func(line string) {
		fields := strings.Fields(line)
		env.Assertf(len(fields) == 3, "counter %s: malformed reply %q", cl.e.Name, line)
		env.Assertf(fields[1] == cl.want, "counter %s: reply %q does not answer %s", cl.e.Name, line, cl.want)
		v, err := strconv.ParseUint(fields[2], 10, 64)
		env.Assertf(err == nil, "counter %s: reply %q: %v", cl.e.Name, line, err)
		cl.timer.Stop()
		cl.want = ""
		switch fields[0] {
		case "OK":
			cl.st.acks++
			cl.chk.ackedInc(cl.e.Name, v)
		case "VAL":
			cl.st.gets++
			cl.chk.gotValue(cl.e.Name, v, cl.floor)
		default:
			env.Assertf(false, "counter %s: unexpected reply %q", cl.e.Name, line)
		}
		cl.pacing = cl.e.Clock.AfterFunc(time.Duration(1+cl.e.Rand.Intn(30))*time.Millisecond, cl.rd.ex, cl.next)
	})
}
