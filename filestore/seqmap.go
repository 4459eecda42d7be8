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
// Chunks other than the last are packed into a few bytes per key
// while nobody reads them (seqpack.go): the index of a long stream is what its store's
// memory comes down to. Every access opens the chunk it needs; the seqOpenMax opened most
// recently stay open, the one before them is packed again.
//
// Pointers to values stay valid while the caller holds them (a packed chunk lets go of its
// arrays, it never writes over them) but values must not be changed through them once
// pushed: a change made after a chunk was opened would be lost when it is packed again.
//
// Invariant: every chunk is non-empty, and chunks[i]'s last key < chunks[i+1]'s first key;
// a chunk is open (keys, vals) or packed (pk), never both; the open list holds open chunks
// of the map, at most seqOpenMax of them.
type seqMap[V any, C valueCodec[V]] struct {
	chunks []*seqChunk[V]
	n      int
	// from remembers the last countFrom: a consumer asks it at every delivery, each time a
	// little further on, and walking half the chunks each time cost more than the rest of the
	// count in a long stream. A removal forgets it; a push keeps it up to date. Nil until the
	// first count.
	from *fromMark
	// open lists the open chunks that may be packed (C packs them), most recently opened
	// last.
	open []*seqChunk[V]
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

// seqChunk is open (keys and vals hold its entries) or packed (pk does).
type seqChunk[V any] struct {
	keys []uint64
	vals []V
	pk   *packedChunk
}

func (c *seqChunk[V]) size() int {
	if c.pk != nil {
		return c.pk.n
	}
	return len(c.keys)
}

func (c *seqChunk[V]) lastKey() uint64 {
	if c.pk != nil {
		return c.pk.last
	}
	return c.keys[len(c.keys)-1]
}

// search returns the index of the first key >= key in an open chunk.
func (c *seqChunk[V]) search(key uint64) int {
	return sort.Search(len(c.keys), func(i int) bool { return c.keys[i] >= key })
}

func (m *seqMap[V, C]) len() int { return m.n }

// push appends key, which must be greater than every key present.
func (m *seqMap[V, C]) push(key uint64, v V) {
	if len(m.chunks) > 0 {
		last := m.chunk(len(m.chunks) - 1)
		if top := last.keys[len(last.keys)-1]; top >= key {
			assertf(false, "seqmap: push %d after %d", key, top)
		}
		if len(last.keys) < seqChunkMax {
			last.keys = append(last.keys, key)
			last.vals = append(last.vals, v)
			m.n++
			m.pushed(key)
			return
		}
		m.touch(last) // no longer the last: it may be packed once others are opened
	}
	m.chunks = append(m.chunks, &seqChunk[V]{keys: []uint64{key}, vals: []V{v}})
	m.n++
	m.pushed(key)
}

// pushed keeps the countFrom mark right after a push of key (above every key present):
// appended keys move no earlier one, so a mark that points at a key holds and counts the new
// one; a mark one past the end (counting none) is forgotten, since a new chunk may take its
// place.
func (m *seqMap[V, C]) pushed(key uint64) {
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
func (m *seqMap[V, C]) chunkFor(key uint64) int {
	return sort.Search(len(m.chunks), func(i int) bool { return m.chunks[i].lastKey() >= key })
}

// get returns a pointer to key's value, or nil.
func (m *seqMap[V, C]) get(key uint64) *V {
	ci := m.chunkFor(key)
	if ci == len(m.chunks) {
		return nil
	}
	c := m.chunk(ci)
	if i := c.search(key); i < len(c.keys) && c.keys[i] == key {
		return &c.vals[i]
	}
	return nil
}

// remove deletes key and reports whether it was present.
func (m *seqMap[V, C]) remove(key uint64) bool {
	ci := m.chunkFor(key)
	if ci == len(m.chunks) {
		return false
	}
	c := m.chunk(ci)
	i := c.search(key)
	if i == len(c.keys) || c.keys[i] != key {
		return false
	}
	m.n--
	if m.from != nil {
		m.from.ok = false // positions may move
	}
	var zero V
	if i == 0 {
		// Removing from the front is the common case (limits, expiry): reslice, no copy.
		c.vals[0] = zero
		c.keys, c.vals = c.keys[1:], c.vals[1:]
	} else {
		copy(c.keys[i:], c.keys[i+1:])
		copy(c.vals[i:], c.vals[i+1:])
		c.vals[len(c.vals)-1] = zero
		c.keys, c.vals = c.keys[:len(c.keys)-1], c.vals[:len(c.vals)-1]
	}
	switch {
	case len(c.keys) == 0:
		m.forget(c)
		m.chunks = slices.Delete(m.chunks, ci, ci+1)
	case len(c.keys) < seqChunkMax/4 && ci+1 < len(m.chunks) && len(c.keys)+m.chunks[ci+1].size() <= seqChunkMax:
		m.merge(ci)
	}
	return true
}

// merge joins chunk ci with its successor (both small enough).
func (m *seqMap[V, C]) merge(ci int) {
	next := m.chunk(ci + 1)
	c := m.chunk(ci) // still open: it was opened last but one
	merged := &seqChunk[V]{
		keys: append(append(make([]uint64, 0, len(c.keys)+len(next.keys)), c.keys...), next.keys...),
		vals: append(append(make([]V, 0, len(c.vals)+len(next.vals)), c.vals...), next.vals...),
	}
	m.forget(c)
	m.forget(next)
	m.chunks[ci] = merged
	m.chunks = slices.Delete(m.chunks, ci+1, ci+2)
	if ci+1 < len(m.chunks) {
		m.touch(merged)
	}
}

// next returns the smallest key >= key.
func (m *seqMap[V, C]) next(key uint64) (uint64, *V, bool) {
	ci := m.chunkFor(key)
	if ci == len(m.chunks) {
		return 0, nil, false
	}
	c := m.chunk(ci)
	i := c.search(key)
	return c.keys[i], &c.vals[i], true
}

// prev returns the largest key <= key.
func (m *seqMap[V, C]) prev(key uint64) (uint64, *V, bool) {
	ci := m.chunkFor(key)
	if ci < len(m.chunks) {
		c := m.chunk(ci)
		if i := sort.Search(len(c.keys), func(i int) bool { return c.keys[i] > key }); i > 0 {
			return c.keys[i-1], &c.vals[i-1], true
		}
	}
	if ci == 0 {
		return 0, nil, false
	}
	c := m.chunk(ci - 1)
	return c.keys[len(c.keys)-1], &c.vals[len(c.vals)-1], true
}

// first returns the smallest key.
func (m *seqMap[V, C]) first() (uint64, *V, bool) {
	if len(m.chunks) == 0 {
		return 0, nil, false
	}
	c := m.chunk(0)
	return c.keys[0], &c.vals[0], true
}

// last returns the largest key.
func (m *seqMap[V, C]) last() (uint64, *V, bool) {
	if len(m.chunks) == 0 {
		return 0, nil, false
	}
	c := m.chunk(len(m.chunks) - 1)
	return c.keys[len(c.keys)-1], &c.vals[len(c.vals)-1], true
}

// countFrom returns how many keys are >= key.
func (m *seqMap[V, C]) countFrom(key uint64) int {
	if n, ok := m.countOnFrom(key); ok {
		return n
	}
	n, ci, i := m.countAfresh(key)
	m.mark(fromMark{ok: true, key: key, ci: ci, i: i, count: n})
	return n
}

// countOnFrom counts from the mark, walking forward, when key is at or after it and near.
func (m *seqMap[V, C]) countOnFrom(key uint64) (int, bool) {
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
		if c := m.chunks[ci]; c.lastKey() < key {
			count -= c.size() - i
			ci, i = ci+1, 0
			continue
		}
		c := m.chunk(ci)
		j := i + sort.Search(len(c.keys)-i, func(j int) bool { return c.keys[i+j] >= key })
		count -= j - i
		i = j
		break
	}
	m.mark(fromMark{ok: true, key: key, ci: ci, i: i, count: count})
	return count, true
}

// mark remembers a count for the next countFrom.
func (m *seqMap[V, C]) mark(f fromMark) {
	if m.from == nil {
		m.from = new(fromMark)
	}
	*m.from = f
}

// countAfresh counts the keys >= key from the chunks' sizes, and says where the first is.
func (m *seqMap[V, C]) countAfresh(key uint64) (n, ci, i int) {
	ci = m.chunkFor(key)
	if ci == len(m.chunks) {
		return 0, ci, 0
	}
	c := m.chunk(ci)
	i = c.search(key)
	// Walk the shorter side.
	if ci < len(m.chunks)/2 {
		before := i
		for _, c := range m.chunks[:ci] {
			before += c.size()
		}
		return m.n - before, ci, i
	}
	n = len(c.keys) - i
	for _, c := range m.chunks[ci+1:] {
		n += c.size()
	}
	return n, ci, i
}

// ascend calls fn for every key >= from in increasing order until fn returns false. fn must
// not mutate the map.
func (m *seqMap[V, C]) ascend(from uint64, fn func(key uint64, v *V) bool) {
	for ci := m.chunkFor(from); ci < len(m.chunks); ci++ {
		// Hold the chunk's arrays: fn's own reads may pack the chunk meanwhile.
		c := m.chunk(ci)
		keys, vals := c.keys, c.vals
		i := 0
		if keys[0] < from {
			i = c.search(from)
		}
		for ; i < len(keys); i++ {
			if !fn(keys[i], &vals[i]) {
				return
			}
		}
	}
}

// descend calls fn for every key <= from in decreasing order until fn returns false.
func (m *seqMap[V, C]) descend(from uint64, fn func(key uint64, v *V) bool) {
	ci := m.chunkFor(from)
	if ci == len(m.chunks) {
		ci--
	}
	for ; ci >= 0; ci-- {
		c := m.chunk(ci)
		keys, vals := c.keys, c.vals
		i := len(keys) - 1
		if keys[i] > from {
			i = sort.Search(len(keys), func(i int) bool { return keys[i] > from }) - 1
		}
		for ; i >= 0; i-- {
			if !fn(keys[i], &vals[i]) {
				return
			}
		}
	}
}

// keysBetween returns the keys in [lo, hi] in increasing order.
func (m *seqMap[V, C]) keysBetween(lo, hi uint64) []uint64 {
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

// checkInvariants asserts the map's structure (tests and the invariants build). It reads
// packed chunks without opening them, so a check leaves the map as it found it.
func (m *seqMap[V, C]) checkInvariants() {
	n := 0
	var prev uint64
	f := m.from
	markCount, markCI, markI := 0, -1, 0 // where the mark's key would be found, and from it
	for ci, c := range m.chunks {
		keys, vals := c.keys, c.vals
		switch {
		case c.pk != nil && keys != nil:
			assertf(false, "seqmap: chunk %d both open and packed", ci)
		case c.pk != nil:
			keys, vals = decodeChunk[V, C](c.pk)
		}
		if len(keys) == 0 || len(keys) != len(vals) {
			assertf(false, "seqmap: chunk %d has %d keys, %d vals", ci, len(keys), len(vals))
		}
		for i, k := range keys {
			if n > 0 && k <= prev {
				assertf(false, "seqmap: key %d at chunk %d index %d after %d", k, ci, i, prev)
			}
			prev = k
			n++
			if f != nil && f.ok && k >= f.key {
				if markCI < 0 {
					markCI, markI = ci, i
				}
				markCount++
			}
		}
	}
	if n != m.n {
		assertf(false, "seqmap: counted %d keys, recorded %d", n, m.n)
	}
	if len(m.open) > seqOpenMax {
		assertf(false, "seqmap: %d chunks open, at most %d may be", len(m.open), seqOpenMax)
	}
	for _, c := range m.open {
		if c.pk != nil || !slices.Contains(m.chunks, c) {
			assertf(false, "seqmap: an open-listed chunk is packed or gone")
		}
	}
	if f != nil && f.ok && (markCount != f.count || (markCount > 0 && (markCI != f.ci || markI != f.i))) {
		assertf(false, "seqmap: count mark at %d says %d keys from chunk %d index %d; %d from %d %d", f.key, f.count, f.ci, f.i, markCount, markCI, markI)
	}
}
