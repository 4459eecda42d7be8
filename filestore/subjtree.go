package filestore

// subjectTree is the per-subject index: a trie over subject tokens whose nodes hold, for a
// subject that has messages, the ordered set of its sequences. A literal lookup walks one
// node per token; a wildcard filter visits only the branches its tokens allow, so a filter
// such as "orders.*.shipped" never touches subjects under other prefixes.
//
// Children are kept in Go maps, whose iteration order is random. Every walk over them feeds
// an order-independent result (a sum, a minimum, a set of subjects that is sorted before it
// decides anything), never an outcome that depends on the order of visits.
type subjectTree struct {
	root  tnode
	count int    // subjects with at least one message
	epoch uint64 // stamps subjects visited by one multi-filter walk, to visit each once
	// byID finds a subject from the id an index entry holds: an entry names its subject by
	// number, not pointer, so the index holds no pointers for the collector to trace. Index 0
	// is never used (an entry's zero subject means none); free holds the ids of removed
	// subjects for reuse.
	byID []*subjectState
	free []uint32
}

type tnode struct {
	children map[string]*tnode
	subj     *subjectState // non-nil when a subject ends at this node
}

// subjectState is one subject's index entry.
type subjectState struct {
	subject string
	id      uint32 // its index in subjectTree.byID
	seqs    seqMap[struct{}, noValues]
	visited uint64 // epoch of the last walk that reported it
}

// find returns the subject's state, or nil.
func (t *subjectTree) find(subject string) *subjectState {
	n := &t.root
	for tok, rest := nextToken(subject); ; tok, rest = nextToken(rest) {
		n = n.children[tok]
		if n == nil {
			return nil
		}
		if rest == "" {
			return n.subj
		}
	}
}

// insert returns the subject's state, creating it (empty) if needed.
func (t *subjectTree) insert(subject string) *subjectState {
	n := &t.root
	for tok, rest := nextToken(subject); ; tok, rest = nextToken(rest) {
		child := n.children[tok]
		if child == nil {
			if n.children == nil {
				n.children = make(map[string]*tnode, 1)
			}
			child = &tnode{}
			n.children[tok] = child
		}
		n = child
		if rest == "" {
			break
		}
	}
	if n.subj == nil {
		n.subj = &subjectState{subject: subject, id: t.newID()}
		t.byID[n.subj.id] = n.subj
		t.count++
	}
	return n.subj
}

// newID returns an unused subject id (never 0).
func (t *subjectTree) newID() uint32 {
	if n := len(t.free); n > 0 {
		id := t.free[n-1]
		t.free = t.free[:n-1]
		return id
	}
	if len(t.byID) == 0 {
		t.byID = append(t.byID, nil)
	}
	t.byID = append(t.byID, nil)
	return uint32(len(t.byID) - 1)
}

// get returns the subject with the given id, which must be live.
func (t *subjectTree) get(id uint32) *subjectState {
	if id == 0 || int(id) >= len(t.byID) || t.byID[id] == nil {
		assertf(false, "filestore: no subject has id %d", id)
	}
	return t.byID[id]
}

// remove deletes an emptied subject and prunes the branch nodes left without purpose.
func (t *subjectTree) remove(subject string) {
	if t.removeAt(&t.root, subject) {
		t.count--
	}
}

func (t *subjectTree) removeAt(n *tnode, subject string) bool {
	tok, rest := nextToken(subject)
	child := n.children[tok]
	if child == nil {
		return false
	}
	var removed bool
	if rest == "" {
		if removed = child.subj != nil; removed {
			t.byID[child.subj.id] = nil
			t.free = append(t.free, child.subj.id)
		}
		child.subj = nil
	} else {
		removed = t.removeAt(child, rest)
	}
	if child.subj == nil && len(child.children) == 0 {
		delete(n.children, tok)
	}
	return removed
}

// match calls fn once for every subject matching any of f's filters (every subject when f
// matches all), until fn returns false. The order of calls is unspecified; fn must not modify
// the tree. It reports whether the walk ran to the end.
func (t *subjectTree) match(f Filter, fn func(*subjectState) bool) bool {
	if f.All() {
		return t.walk(&t.root, fn)
	}
	if lit, ok := f.literal(); ok {
		if s := t.find(lit); s != nil {
			return fn(s)
		}
		return true
	}
	t.epoch++
	epoch := t.epoch
	once := func(s *subjectState) bool {
		if s.visited == epoch {
			return true
		}
		s.visited = epoch
		return fn(s)
	}
	for _, flt := range f.subjects {
		if !t.matchAt(&t.root, flt, once) {
			return false
		}
	}
	return true
}

func (t *subjectTree) matchAt(n *tnode, filter string, fn func(*subjectState) bool) bool {
	tok, rest := nextToken(filter)
	switch tok {
	case ">":
		for _, child := range n.children {
			if !t.walk(child, fn) {
				return false
			}
		}
	case "*":
		for _, child := range n.children {
			if !t.matchChild(child, rest, fn) {
				return false
			}
		}
	default:
		if child := n.children[tok]; child != nil {
			return t.matchChild(child, rest, fn)
		}
	}
	return true
}

func (t *subjectTree) matchChild(child *tnode, rest string, fn func(*subjectState) bool) bool {
	if rest == "" {
		if child.subj != nil {
			return fn(child.subj)
		}
		return true
	}
	return t.matchAt(child, rest, fn)
}

// walk calls fn for every subject at or below n, until fn returns false.
func (t *subjectTree) walk(n *tnode, fn func(*subjectState) bool) bool {
	if n.subj != nil && !fn(n.subj) {
		return false
	}
	for _, child := range n.children {
		if !t.walk(child, fn) {
			return false
		}
	}
	return true
}
