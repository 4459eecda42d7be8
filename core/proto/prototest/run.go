package prototest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Target is a server the scripts run against: Petrel's engine in the simulator, or a real
// process over TCP.
type Target interface {
	// Name says which expectations apply: TargetPetrel or TargetNats.
	Name() string
	Dial() (Conn, error)
	// Sleep lets d pass.
	Sleep(d time.Duration)
}

// Conn is one client connection of a target.
type Conn interface {
	Send(p []byte) error
	// Next returns the next line the server sent, without its CRLF, waiting at most wait for
	// one. ok is false when none came; closed then reports that the server closed the
	// connection (and nothing is left to read).
	Next(wait time.Duration) (line string, ok, closed bool)
	Close()
}

// Waits: how long a step waits for an expected line, and for how long a connection must stay
// quiet to count as having said everything (at the end, and when recording).
const (
	patience = 3 * time.Second
	quiet    = 300 * time.Millisecond
)

// runner holds a run's connections.
type runner struct {
	s      *Script
	target Target
	conns  map[string]Conn
	closed map[string]bool // expected closed, or closed by the client
}

// Run runs the script against target and returns the first disagreement.
func Run(s *Script, target Target) error {
	r := &runner{s: s, target: target, conns: map[string]Conn{}, closed: map[string]bool{}}
	defer r.closeAll()
	for _, st := range coalesce(s.Steps) {
		if err := r.step(st); err != nil {
			return r.fail(st, err)
		}
	}
	return r.finish()
}

// coalesce joins consecutive sends on one connection into one write, so a burst reaches the
// server the way a client writes it, and a server that closes on a bad op has read what
// came before (closing with input unread resets a TCP connection, and a reset can discard
// the answer before the client reads it).
func coalesce(steps []Step) []Step {
	var out []Step
	for _, st := range steps {
		if n := len(out); n > 0 && st.Kind == KindSend && out[n-1].Kind == KindSend && out[n-1].Conn == st.Conn {
			out[n-1].Data = append(append([]byte(nil), out[n-1].Data...), st.Data...)
			continue
		}
		out = append(out, st)
	}
	return out
}

func (r *runner) fail(st Step, err error) error {
	return fmt.Errorf("%s:%d (against %s): %w", r.s.Name, st.Line, r.target.Name(), err)
}

func (r *runner) closeAll() {
	for _, c := range r.conns {
		c.Close()
	}
}

func (r *runner) conn(name string) (Conn, error) {
	c := r.conns[name]
	if c == nil {
		return nil, fmt.Errorf("connection %s was not dialled", name)
	}
	return c, nil
}

func (r *runner) step(st Step) error {
	switch st.Kind {
	case KindDial:
		c, err := r.target.Dial()
		if err != nil {
			return fmt.Errorf("dial %s: %w", st.Conn, err)
		}
		r.conns[st.Conn] = c
		return nil
	case KindSleep:
		r.target.Sleep(st.Dur)
		return nil
	}
	c, err := r.conn(st.Conn)
	if err != nil {
		return err
	}
	switch st.Kind {
	case KindSend:
		// A send may fail when the server already closed the connection; the expectations
		// that follow say whether that was right.
		_ = c.Send(st.Data)
		return nil
	case KindClose:
		c.Close()
		r.closed[st.Conn] = true
		return nil
	case KindClosed:
		return r.expectClosed(st, c)
	}
	return r.expect(st, c)
}

func (r *runner) expect(st Step, c Conn) error {
	if !st.appliesTo(r.target.Name()) {
		return nil
	}
	line, ok, closed := c.Next(patience)
	switch {
	case !ok && closed:
		return fmt.Errorf("%s: want %s, the server closed the connection", st.Conn, encode(st.Want))
	case !ok:
		return fmt.Errorf("%s: want %s, nothing arrived", st.Conn, encode(st.Want))
	case !LineMatches(st.Want, line):
		return fmt.Errorf("%s: want %s, got %s", st.Conn, encode(st.Want), encode(line))
	}
	return nil
}

func (r *runner) expectClosed(st Step, c Conn) error {
	if !st.appliesTo(r.target.Name()) {
		return nil
	}
	r.closed[st.Conn] = true
	line, ok, closed := c.Next(patience)
	switch {
	case ok:
		return fmt.Errorf("%s: want the connection closed, got %s", st.Conn, encode(line))
	case !closed:
		return fmt.Errorf("%s: want the connection closed, it stays open", st.Conn)
	}
	return nil
}

// finish checks that every connection not expected closed is open with nothing unread.
func (r *runner) finish() error {
	for _, name := range sortedNames(r.conns) {
		if r.closed[name] {
			continue
		}
		line, ok, closed := r.conns[name].Next(quiet)
		switch {
		case ok:
			return fmt.Errorf("%s (against %s): %s: unexpected %s at the end", r.s.Name, r.target.Name(), name, encode(line))
		case closed:
			return fmt.Errorf("%s (against %s): %s: closed by the server, the script expects it open", r.s.Name, r.target.Name(), name)
		}
	}
	return nil
}

func sortedNames(m map[string]Conn) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LineMatches compares a received line with an expectation. "INFO" matches any well-formed
// INFO line (a JSON object followed by a space, as nats-server sends it); "INFO {...}" one
// whose object holds those fields with those values.
func LineMatches(want, got string) bool {
	if want != "INFO" && !strings.HasPrefix(want, "INFO {") {
		return want == got
	}
	body, ok := strings.CutPrefix(got, "INFO ")
	if !ok || !strings.HasSuffix(body, "} ") {
		return false
	}
	var have map[string]any
	if json.Unmarshal([]byte(body), &have) != nil {
		return false
	}
	if want == "INFO" {
		return true
	}
	var fields map[string]any
	if json.Unmarshal([]byte(strings.TrimPrefix(want, "INFO ")), &fields) != nil {
		return false
	}
	for k, v := range fields {
		hv, _ := json.Marshal(have[k])
		wv, _ := json.Marshal(v)
		if string(hv) != string(wv) {
			return false
		}
	}
	return true
}
