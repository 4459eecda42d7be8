package sim

import (
	"fmt"
	"io"
	"math/bits"
	"time"
)

// Trace folds every executed event into a hash and, when given a writer, prints it. The hash
// covers the same fields whether or not printing is on, so a printed replay has the hash of
// the sweep run that found it.
type Trace struct {
	hash uint64
	out  io.Writer
	// names resolves node indexes for printing; the world fills it.
	names func(node int32) string
}

const traceSeed = 0x6a09e667f3bcc909

func newTrace(out io.Writer, names func(int32) string) *Trace {
	return &Trace{hash: traceSeed, out: out, names: names}
}

// Hash returns the hash of everything traced so far.
func (t *Trace) Hash() uint64 { return t.hash }

func (t *Trace) mix(v uint64) {
	t.hash = bits.RotateLeft64((t.hash^v)*0x9e3779b97f4a7c15, 31)
}

func (t *Trace) mixString(s string) {
	var word uint64
	for i := 0; i < len(s); i++ {
		word = word<<8 | uint64(s[i])
		if i%8 == 7 {
			t.mix(word)
			word = 0
		}
	}
	t.mix(word ^ uint64(len(s)))
}

// event records one executed event.
func (t *Trace) event(e *event) {
	t.mix(uint64(e.at))
	t.mix(uint64(e.kind)<<32 | uint64(uint32(e.node)))
	t.mix(uint64(e.arg))
	if t.out != nil {
		fmt.Fprintf(t.out, "%s %-4s %-8s %d\n", fmtTime(e.at), t.names(e.node), e.kind, e.arg)
	}
}

// note records a line of text (a log line, a fault, a workload's history entry).
func (t *Trace) note(at time.Duration, kind eventKind, node int32, text string) {
	t.mix(uint64(at))
	t.mix(uint64(kind)<<32 | uint64(uint32(node)))
	t.mixString(text)
	if t.out != nil {
		fmt.Fprintf(t.out, "%s %-4s %-8s %s\n", fmtTime(at), t.names(node), kind, text)
	}
}

// fmtTime prints virtual time as seconds with nanosecond digits, fixed width so traces align.
func fmtTime(d time.Duration) string {
	return fmt.Sprintf("%6d.%09d", int64(d/time.Second), int64(d%time.Second))
}
