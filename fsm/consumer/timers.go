package consumer

import (
	"container/heap"
	"slices"
)

// timer is one redelivery deadline. The heap keeps every deadline ever set, and an entry is
// live only while its message is pending with that same deadline (lazy deletion: a Nak,
// +WPI or redelivery sets a new deadline and leaves the old entry to be dropped when it
// reaches the top). Ordered by deadline, then stream seq, a total order, so Due is the same
// whatever order the map iterations that built the heap ran in.
type timer struct {
	deadline int64
	sseq     uint64
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].deadline != h[j].deadline {
		return h[i].deadline < h[j].deadline
	}
	return h[i].sseq < h[j].sseq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// live reports whether a heap entry still stands for its message's deadline.
func (c *Consumer) live(t timer) bool {
	e := c.pending[t.sseq]
	return e != nil && e.deadline == t.deadline
}

// setDeadline records e's new deadline and queues it.
func (c *Consumer) setDeadline(sseq uint64, e *entry, deadline int64) {
	e.deadline = deadline
	heap.Push(&c.timers, timer{deadline: deadline, sseq: sseq})
	if len(c.timers) > 2*len(c.pending)+timerSlack {
		c.rebuildTimers()
	}
}

// rebuildTimers drops the stale entries: one live entry per pending message.
func (c *Consumer) rebuildTimers() {
	c.compactOrder()
	c.timers = c.timers[:0]
	for _, sseq := range c.order {
		c.timers = append(c.timers, timer{deadline: c.pending[sseq].deadline, sseq: sseq})
	}
	heap.Init(&c.timers)
}

// earliest returns the live entry with the earliest deadline, dropping stale ones on the way.
func (c *Consumer) earliest() (timer, bool) {
	for len(c.timers) > 0 {
		if t := c.timers[0]; c.live(t) {
			return t, true
		}
		heap.Pop(&c.timers)
	}
	return timer{}, false
}

// The order is the pending stream seqs in ascending order, with holes: a removed message
// stays in it until it reaches the front or the holes outnumber the live entries. New
// deliveries always carry a stream seq above every pending one, so appending keeps it sorted.

// lowest returns the lowest pending stream seq.
func (c *Consumer) lowest() (uint64, bool) {
	for len(c.order) > 0 {
		if _, ok := c.pending[c.order[0]]; ok {
			return c.order[0], true
		}
		c.order = c.order[1:]
	}
	return 0, false
}

// noteRemoved keeps the holes in the order bounded.
func (c *Consumer) noteRemoved() {
	if len(c.pending) == 0 {
		c.order = c.order[:0]
		return
	}
	if len(c.order) > 2*len(c.pending)+orderSlack {
		c.compactOrder()
	}
}

func (c *Consumer) compactOrder() {
	c.order = slices.DeleteFunc(c.order, func(sseq uint64) bool {
		_, ok := c.pending[sseq]
		return !ok
	})
}
