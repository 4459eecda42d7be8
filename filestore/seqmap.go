package filestore

import (
	"slices"
	"sort"
)

// seqMap is an ordered map from sequence numbers to values, built for the store's access
// pattern: keys arrive in increasing order (push), removals happen anywhere (mostly at the
// front), and queries ask for the next or previous key around a sequence.
//
// Keys live in chunks of at most seqChunkMax sorted keys; the chunks themselves are sorted
// and disjoint. A lookup is two binary searches; a removal shifts at most one chunk; an
// emptied chunk is dropped and a thin chunk is merged with its successor, so interior
// removals (per-subject limits, purges) cannot leave a trail of empty chunks.
//
// Invariant: every chunk is non-empty, and chunks[i]'s last key < chunks[i+1]'s first key.
//
// A map costs little when small: most subjects of a KV bucket hold one sequence, and each
// holds a map, so chunks are held by value, start with room for one key, and the count mark
// is allocated only once counted from.
type seqMap[V any] struct {
	chunks []seqChunk[V]
	n      int
	// from remembers the last countFrom: a consumer asks it at every delivery, each time a
	// little further on, and walking half the chunks each time cost more than the rest of the
	// count in a long stream. A removal forgets it; a push keeps it up to date. Nil until the
	// first count.
	from *fromMark
}

// fromMark: count keys are >= key, the first of them at index i of chunk ci (ok: valid).
type fromMark struct {
	ok    bool
	key   uint64
	ci, i int
	count int
}

// fromWalkMax is how many chunks countFrom walks forward from its mark before it counts
// afresh instead.
const fromWalkMax = 8

type seqChunk[V any] struct {
	keys []uint64
	vals []V
}

func (m *seqMap[V]) len() int { return m.n }

// push appends key, which must be greater than every key present.
func (m *seqMap[V]) push(key uint64, v V) {
	if len(m.chunks) > 0 {
		last := &m.chunks[len(m.chunks)-1]
		if len(last.keys) < seqChunkMax {
			if last.keys[len(last.keys)-1] >= key {
				assertf(false, "seqmap: push %d after %d", key, last.keys[len(last.keys)-1])
			}
			last.keys = append(last.keys, key)
			last.vals = append(last.vals, v)
			m.n++
			m.pushed(key)
			return
		}
		if last.keys[len(last.keys)-1] >= key {
			assertf(false, "seqmap: push %d after %d", key, last.keys[len(last.keys)-1])
		}
	}
	m.chunks = append(m.chunks, seqChunk[V]{keys: []uint64{key}, vals: []V{v}})
	m.n++
	m.pushed(key)
}

// pushed keeps the countFrom mark right after a push of key (above every key present):
// appended keys move no earlier one, so a mark that points at a key holds and counts the new
// one; a mark one past the end (counting none) is forgotten, since a new chunk may take its
// place.
func (m *seqMap[V]) pushed(key uint64) {
	switch f := m.from; {
	case f == nil || !f.ok:
	case f.count == 0:
		f.ok = false
	default:
		assertf(key > f.key, "seqmap: push %d below the count mark %d", key, f.key)
		f.count++
	}
}

// chunkFor returns the index of the first chunk whose last key is >= key (len(chunks) if
// none).
func (m *seqMap[V]) chunkFor(key uint64) int {
	return sort.Search(len(m.chunks), func(i int) bool {
		c := m.chunks[i]
		return c.keys[len(c.keys)-1] >= key
	})
}

// get returns a pointer to key's value, valid until the next mutation, or nil.
func (m *seqMap[V]) get(key uint64) *V {
	ci := m.chunkFor(key)
	if ci == len(m.chunks) {
		return nil
	}
	c := m.chunks[ci]
	i := sort.Search(len(c.keys), func(i int) bool { return c.keys[i] >= key })
	if i < len(c.keys) && c.keys[i] == key {
		return &c.vals[i]
	}
	return nil
}

// remove deletes key and reports whether it was present.
func (m *seqMap[V]) remove(key uint64) bool {
	ci := m.chunkFor(key)
	if ci == len(m.chunks) {
		return false
	}
	c := &m.chunks[ci]
	i := sort.Search(len(c.keys), func(i int) bool { return c.keys[i] >= key })
	if i == len(c.keys) || c.keys[i] != key {
		return false
	}
	m.n--
	if m.from != nil {
		m.from.ok = false // positions may move
	}
	if i == 0 {
		// Removing from the front is the common case (limits, expiry): reslice, no copy.
		var zero V
		c.vals[0] = zero
		c.keys, c.vals = c.keys[1:], c.vals[1:]
	} else {
		copy(c.keys[i:], c.keys[i+1:])
		copy(c.vals[i:], c.vals[i+1:])
		var zero V
		c.vals[len(c.vals)-1] = zero
		c.keys, c.vals = c.keys[:len(c.keys)-1], c.vals[:len(c.vals)-1]
	}
	switch {
	case len(c.keys) == 0:
		m.chunks = slices.Delete(m.chunks, ci, ci+1) // clears the vacated tail: no stale arrays kept
	case len(c.keys) < seqChunkMax/4 && ci+1 < len(m.chunks) && len(c.keys)+len(m.chunks[ci+1].keys) <= seqChunkMax:
		next := &m.chunks[ci+1]
		merged := seqChunk[V]{
			keys: append(append(make([]uint64, 0, len(c.keys)+len(next.keys)), c.keys...), next.keys...),
			vals: append(append(make([]V, 0, len(c.vals)+len(next.vals)), c.vals...), next.vals...),
		}
		m.chunks[ci] = merged
		m.chunks = slices.Delete(m.chunks, ci+1, ci+2)
	}
	return true
}

// next returns the smallest key >= key.
func (m *seqMap[V]) next(key uint64) (uint64, *V, bool) {
	ci := m.chunkFor(key)
	if ci == len(m.chunks) {
		return 0, nil, false
	}
	c := m.chunks[ci]
	i := sort.Search(len(c.keys), func(i int) bool { return c.keys[i] >= key })
	return c.keys[i], &c.vals[i], true
}

// prev returns the largest key <= key.
func (m *seqMap[V]) prev(key uint64) (uint64, *V, bool) {
	ci := m.chunkFor(key)
	if ci < len(m.chunks) {
		c := m.chunks[ci]
		i := sort.Search(len(c.keys), func(i int) bool { return c.keys[i] > key })
		if i > 0 {
			return c.keys[i-1], &c.vals[i-1], true
		}
	}
	if ci == 0 {
		return 0, nil, false
	}
	c := m.chunks[ci-1]
	return c.keys[len(c.keys)-1], &c.vals[len(c.vals)-1], true
}

// first returns the smallest key.
func (m *seqMap[V]) first() (uint64, *V, bool) {
	if len(m.chunks) == 0 {
		return 0, nil, false
	}
	c := m.chunks[0]
	return c.keys[0], &c.vals[0], true
}

// last returns the largest key.
func (m *seqMap[V]) last() (uint64, *V, bool) {
	if len(m.chunks) == 0 {
		return 0, nil, false
	}
	c := m.chunks[len(m.chunks)-1]
	return c.keys[len(c.keys)-1], &c.vals[len(c.vals)-1], true
}

// countFrom returns how many keys are >= key.
func (m *seqMap[V]) countFrom(key uint64) int {
	if n, ok := m.countOnFrom(key); ok {
		return n
	}
	n, ci, i := m.countAfresh(key)
	m.mark(fromMark{ok: true, key: key, ci: ci, i: i, count: n})
	return n
}

// countOnFrom counts from the mark, walking forward, when key is at or after it and near.
func (m *seqMap[V]) countOnFrom(key uint64) (int, bool) {
	if m.from == nil {
		return 0, false
	}
	f := *m.from
	if !f.ok || key < f.key {
		return 0, false
	}
	ci, i, count := f.ci, f.i, f.count
	for walked := 0; ci < len(m.chunks); walked++ {
		if walked > fromWalkMax {
			return 0, false
		}
		c := m.chunks[ci]
		if c.keys[len(c.keys)-1] < key {
			count -= len(c.keys) - i
			ci, i = ci+1, 0
			continue
		}
		j := i + sort.Search(len(c.keys)-i, func(j int) bool { return c.keys[i+j] >= key })
		count -= j - i
		i = j
		break
	}
	m.mark(fromMark{ok: true, key: key, ci: ci, i: i, count: count})
	return count, true
}

// mark remembers a count for the next countFrom.
func (m *seqMap[V]) mark(f fromMark) {
	if m.from == nil {
		m.from = new(fromMark)
	}
	*m.from = f
}

// countAfresh counts the keys >= key from the chunks' sizes, and says where the first is.
func (m *seqMap[V]) countAfresh(key uint64) (n, ci, i int) {
	ci = m.chunkFor(key)
	if ci == len(m.chunks) {
		return 0, ci, 0
	}
	c := m.chunks[ci]
	i = sort.Search(len(c.keys), func(i int) bool { return c.keys[i] >= key })
	// Walk the shorter side.
	if ci < len(m.chunks)/2 {
		before := i
		for _, c := range m.chunks[:ci] {
			before += len(c.keys)
		}
		return m.n - before, ci, i
	}
	n = len(c.keys) - i
	for _, c := range m.chunks[ci+1:] {
		n += len(c.keys)
	}
	return n, ci, i
}

// ascend calls fn for every key >= from in increasing order until fn returns false. fn must
// not mutate the map.
func (m *seqMap[V]) ascend(from uint64, fn func(key uint64, v *V) bool) {
	ci := m.chunkFor(from)
	for ; ci < len(m.chunks); ci++ {
		c := m.chunks[ci]
		i := 0
		if c.keys[0] < from {
			i = sort.Search(len(c.keys), func(i int) bool { return c.keys[i] >= from })
		}
		for ; i < len(c.keys); i++ {
			if !fn(c.keys[i], &c.vals[i]) {
				return
			}
		}
	}
}

// descend calls fn for every key <= from in decreasing order until fn returns false.
func (m *seqMap[V]) descend(from uint64, fn func(key uint64, v *V) bool) {
	ci := m.chunkFor(from)
	if ci == len(m.chunks) {
		ci--
	}
	for ; ci >= 0; ci-- {
		c := m.chunks[ci]
		i := len(c.keys) - 1
		if c.keys[i] > from {
			i = sort.Search(len(c.keys), func(i int) bool { return c.keys[i] > from }) - 1
		}
		for ; i >= 0; i-- {
			if !fn(c.keys[i], &c.vals[i]) {
				return
			}
		}
	}
}

// keysBetween returns the keys in [lo, hi] in increasing order.
func (m *seqMap[V]) keysBetween(lo, hi uint64) []uint64 {
	var out []uint64
	m.ascend(lo, func(k uint64, _ *V) bool {
		if k > hi {
			return false
		}
		out = append(out, k)
		return true
	})
	return out
}

// checkInvariants asserts the map's structure (tests and the invariants build).
func (m *seqMap[V]) checkInvariants() {
	n := 0
	var prev uint64
	for ci, c := range m.chunks {
		if len(c.keys) == 0 || len(c.keys) != len(c.vals) {
			assertf(false, "seqmap: chunk %d has %d keys, %d vals", ci, len(c.keys), len(c.vals))
		}
		for i, k := range c.keys {
			if n > 0 && k <= prev {
				assertf(false, "seqmap: key %d at chunk %d index %d after %d", k, ci, i, prev)
			}
			prev = k
			n++
		}
	}
	if n != m.n {
		assertf(false, "seqmap: counted %d keys, recorded %d", n, m.n)
	}
	if f := m.from; f != nil && f.ok {
		if n, ci, i := m.countAfresh(f.key); n != f.count || (n > 0 && (ci != f.ci || i != f.i)) {
			assertf(false, "seqmap: count mark at %d says %d keys from chunk %d index %d; %d from %d %d", f.key, f.count, f.ci, f.i, n, ci, i)
		}
	}
}
