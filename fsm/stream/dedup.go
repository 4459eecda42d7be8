package stream

import (
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// dedup is the duplicate window: the msg ids stored within the last window, oldest first.
//
// Invariant: order holds the ids of byID in non-decreasing time, each once.
type dedup struct {
	byID  map[string]*dedupEntry
	order []*dedupEntry
}

// dedupEntry is one stored msg id. Until its message is durable, duplicates wait in
// waiters: they are answered with the same outcome once it is known.
type dedupEntry struct {
	id      string
	seq     uint64
	time    int64
	durable bool
	waiters []func(Result)
}

func newDedup() dedup { return dedup{byID: map[string]*dedupEntry{}} }

// expire drops the ids older than window before now.
func (d *dedup) expire(now int64, window int64) {
	n := 0
	for n < len(d.order) && d.order[n].time+window < now && d.order[n].durable {
		delete(d.byID, d.order[n].id)
		n++
	}
	if n > 0 {
		d.order = append(d.order[:0], d.order[n:]...)
	}
}

func (d *dedup) add(id string, seq uint64, time int64, durable bool) *dedupEntry {
	e := &dedupEntry{id: id, seq: seq, time: time, durable: durable}
	if last := len(d.order); last > 0 && d.order[last-1].time > time {
		time = d.order[last-1].time // a clock that stepped back keeps the order
		e.time = time
	}
	d.byID[id] = e
	d.order = append(d.order, e)
	return e
}

// settle records the outcome of the entry's store and answers the duplicates that waited.
// A failed store forgets the id, so a retry is stored.
func (d *dedup) settle(e *dedupEntry, r Result) {
	env.Assertf(!e.durable, "stream: dedup entry %q settled twice", e.id)
	if r.Err == nil {
		e.durable = true
	} else if d.byID[e.id] == e {
		delete(d.byID, e.id)
		for i, o := range d.order {
			if o == e {
				d.order = append(d.order[:i], d.order[i+1:]...)
				break
			}
		}
	}
	for _, w := range e.waiters {
		if r.Err == nil {
			dup := r
			dup.Ack.Duplicate = true
			w(dup)
		} else {
			w(r)
		}
	}
	e.waiters = nil
}

// duplicateAck is the answer to a repeat of a durable id.
func duplicateAck(stream string, seq uint64) Result {
	return Result{Ack: jsapi.PubAck{Stream: stream, Sequence: seq, Duplicate: true}}
}
