package sim

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// recorder is a ConnHandler that keeps what it got.
type recorder struct {
	data   []byte
	chunks int
	closed bool
	err    error
	onData func() // optional: runs after each chunk, on the connection's executor
}

func (r *recorder) OnData(p []byte) {
	r.data = append(r.data, p...)
	r.chunks++
	if r.onData != nil {
		r.onData()
	}
}
func (r *recorder) OnClose(err error) {
	r.closed, r.err = true, err
}

// pair builds a world with nodes a and b, b listening on :1 with a recorder per accepted
// connection, and a dialing b. It returns the world, a's connection and a's and b's recorders.
func pair(t *testing.T, seed uint64, prof Profile) (w *World, conn env.Conn, aRec, bRec *recorder) {
	t.Helper()
	w = NewWorld(seed, Options{Profile: &prof})
	aRec, bRec = &recorder{}, &recorder{}
	var serverConn env.Conn
	w.AddNode("b", NodeConfig{Crashable: true}, func(e *env.Env) {
		ex := e.Exec.New("srv")
		_, err := e.Net.Listen(":1", ex, func(c env.Conn) {
			serverConn = c
			c.Start(ex, bRec)
		})
		mustOK(t, err)
	})
	w.AddNode("a", NodeConfig{}, func(e *env.Env) {
		ex := e.Exec.New("cli")
		e.Net.Dial("b:1", time.Second, ex, func(c env.Conn, err error) {
			mustOK(t, err)
			conn = c
			c.Start(ex, aRec)
		})
	})
	w.RunUntil(100 * time.Millisecond)
	if conn == nil || serverConn == nil {
		t.Fatal("no connection after 100ms")
	}
	return w, conn, aRec, bRec
}

func TestNetDeliversInOrderInChunks(t *testing.T) {
	prof := Quiet()
	prof.TinyChunkProb = 0.5
	prof.Window = 1000
	w, conn, _, b := pair(t, 7, prof)
	want := make([]byte, 100_000)
	env.NewPRNG(1).Fill(want)
	for off := 0; off < len(want); off += 10_000 {
		mustOK(t, conn.Write(want[off:off+10_000]))
	}
	if conn.Buffered() == 0 {
		t.Fatal("a window of 1000 bytes should leave bytes buffered")
	}
	w.RunUntil(10 * time.Second)
	if !bytes.Equal(b.data, want) {
		t.Fatalf("got %d bytes, want %d, equal prefix? %v", len(b.data), len(want), bytes.HasPrefix(want, b.data))
	}
	if b.chunks < 100 {
		t.Fatalf("100 KB through a 1000-byte window arrived in only %d chunks", b.chunks)
	}
	if conn.Buffered() != 0 {
		t.Fatalf("Buffered = %d after delivery", conn.Buffered())
	}
}

func TestNetPartitionStallsThenHeals(t *testing.T) {
	w, conn, _, b := pair(t, 8, Quiet())
	w.Network().Partition(0, 1, false)
	mustOK(t, conn.Write([]byte("hello")))
	w.RunUntil(w.Now() + time.Second)
	if len(b.data) != 0 {
		t.Fatalf("bytes crossed a partition: %q", b.data)
	}
	w.Network().HealAll()
	w.RunUntil(w.Now() + time.Second)
	if string(b.data) != "hello" {
		t.Fatalf("after heal got %q", b.data)
	}
}

func TestNetLongPartitionTimesOutSender(t *testing.T) {
	prof := Quiet()
	prof.UserTimeout = 3 * time.Second
	w, conn, a, b := pair(t, 9, prof)
	w.Network().Partition(0, 1, false)
	mustOK(t, conn.Write([]byte("hello")))
	w.RunUntil(w.Now() + 5*time.Second)
	if !a.closed || !errors.Is(a.err, env.ErrTimeout) {
		t.Fatalf("sender: closed=%v err=%v, want ErrTimeout", a.closed, a.err)
	}
	if b.closed {
		t.Fatal("the receiver cannot know about a partition")
	}
}

func TestNetCloseAndAbort(t *testing.T) {
	w, conn, _, b := pair(t, 10, Quiet())
	mustOK(t, conn.Write([]byte("bye")))
	mustOK(t, conn.Close())
	w.RunUntil(w.Now() + time.Second)
	if string(b.data) != "bye" || !b.closed || b.err != nil {
		t.Fatalf("after Close: data %q closed %v err %v; want bye, EOF", b.data, b.closed, b.err)
	}
	if err := conn.Write([]byte("more")); !errors.Is(err, env.ErrConnClosed) {
		t.Fatalf("Write after Close: %v", err)
	}

	w, conn, a, b := pair(t, 11, Quiet())
	conn.Abort()
	w.RunUntil(w.Now() + time.Second)
	if !b.closed || !errors.Is(b.err, env.ErrReset) {
		t.Fatalf("after Abort the peer: closed %v err %v, want ErrReset", b.closed, b.err)
	}
	if a.closed {
		t.Fatal("a local Abort must not deliver OnClose locally")
	}
}

func TestNetCrashResetsOrSilences(t *testing.T) {
	for _, machine := range []bool{false, true} {
		w, conn, a, _ := pair(t, 12, Quiet())
		w.Nodes()[0].Crash(machine)
		w.RunUntil(w.Now() + time.Second)
		if machine {
			if a.closed {
				t.Fatal("a power loss must look like silence to the peer")
			}
			mustOK(t, conn.Write([]byte("anyone?")))
			w.RunUntil(w.Now() + 2*Quiet().UserTimeout)
			if !a.closed || !errors.Is(a.err, env.ErrTimeout) {
				t.Fatalf("writing into a dead machine: closed %v err %v, want ErrTimeout", a.closed, a.err)
			}
		} else if !a.closed || !errors.Is(a.err, env.ErrReset) {
			t.Fatalf("process crash: peer closed %v err %v, want ErrReset", a.closed, a.err)
		}
	}
}

func TestNetDialErrors(t *testing.T) {
	quiet := Quiet()
	w := NewWorld(1, Options{Profile: &quiet})
	got := map[string]error{}
	w.AddNode("b", NodeConfig{}, func(*env.Env) {})
	dialer := func(e *env.Env) {
		ex := e.Exec.New("cli")
		e.Clock.AfterFunc(100*time.Millisecond, ex, func() {
			for _, addr := range []string{"b:1", "nohost:1"} {
				e.Net.Dial(addr, time.Second, ex, func(c env.Conn, err error) { got[e.Name+" "+addr] = err })
			}
		})
	}
	w.AddNode("a", NodeConfig{}, dialer)
	w.AddNode("c", NodeConfig{}, dialer)
	w.Network().Partition(2, 0, true) // c cannot reach b
	w.RunUntil(5 * time.Second)
	if err := got["a b:1"]; !errors.Is(err, env.ErrRefused) {
		t.Errorf("dial with no listener: %v, want ErrRefused", err)
	}
	if err := got["c b:1"]; !errors.Is(err, env.ErrTimeout) {
		t.Errorf("dial across a partition: %v, want ErrTimeout", err)
	}
	if err := got["a nohost:1"]; err == nil {
		t.Error("dial of an unknown host succeeded")
	}
}

// TestTimerStopFromExecutor: once Stop runs on the timer's executor, fn never runs, even when
// the timer had fired and fn was already queued behind Stop. Seeds vary which event wins the
// tie at the deadline; some seeds must hit the queued case.
func TestTimerStopFromExecutor(t *testing.T) {
	queuedCase := 0
	for seed := uint64(1); seed <= 50; seed++ {
		quiet := Quiet()
		w := NewWorld(seed, Options{Profile: &quiet})
		ran, stopped := false, false
		var tm env.Timer
		var ex env.Executor
		w.AddNode("a", NodeConfig{}, func(e *env.Env) {
			ex = e.Exec.New("x")
			tm = e.Clock.AfterFunc(time.Millisecond, ex, func() { ran = true })
		})
		w.At(time.Millisecond, func() {
			ex.Post(func() {
				if tm.(*timer).fired {
					queuedCase++
				}
				stopped = tm.Stop()
			})
		})
		w.RunUntil(time.Second)
		if ran == stopped {
			t.Fatalf("seed %d: ran=%v but Stop returned %v", seed, ran, stopped)
		}
	}
	if queuedCase == 0 {
		t.Fatal("no seed stopped a fired-but-queued timer")
	}
}
