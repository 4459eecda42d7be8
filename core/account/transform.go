package account

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/petrel-io/petrel/core/subject"
)

// transform rewrites subjects matching a source pattern into a destination: the source's
// wildcards capture tokens ('*' one each, '>' the rest), and each destination token is a
// literal, a capture ('*' in order, "$n", "{{wildcard(n)}}"), the tail ('>') or a mapping
// function of captures ("{{partition(4,1,2)}}", "{{split(1,-)}}", ...).
type transform struct {
	from, to string
	dst      []part
	identity bool
	cache    mapCache // subjects already rewritten: a publish path rewrites the same few
}

// mapCacheMax bounds a transform's cache; when full it starts again empty.
const mapCacheMax = 4096

// mapCache remembers rewritten subjects ("" for a subject the source does not match); safe
// for concurrent use. A lookup with a []byte key does not allocate.
type mapCache struct {
	mu sync.RWMutex
	m  map[string]*Mapped
}

// Mapped is one cached rewrite, with a note a stream route keeps on it: quiet is the
// importer's index generation (plus one) at which the rewritten subject last matched
// nothing, so an unchanged index need not be asked again. A publisher may keep an entry
// for the subject it publishes again and again.
type Mapped struct {
	dst   string
	match bool // the subject matches the source (dst may still be "": no subject came out)
	quiet atomic.Uint64
}

func (c *mapCache) get(subj []byte) *Mapped {
	c.mu.RLock()
	e := c.m[string(subj)]
	c.mu.RUnlock()
	return e
}

func (c *mapCache) put(subj, dst string, match bool) *Mapped {
	e := &Mapped{dst: dst, match: match}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= mapCacheMax {
		c.m = make(map[string]*Mapped)
	}
	c.m[subj] = e
	c.mu.Unlock()
	return e
}

// fn is a destination token's function.
type fn int

const (
	fnLiteral fn = iota
	fnWildcard
	fnTail
	fnPartition
	fnSplit
	fnSplitFromLeft
	fnSplitFromRight
	fnSliceFromLeft
	fnSliceFromRight
	fnLeft
	fnRight
)

var fnNames = map[string]fn{
	"wildcard": fnWildcard, "partition": fnPartition, "split": fnSplit,
	"splitfromleft": fnSplitFromLeft, "splitfromright": fnSplitFromRight,
	"slicefromleft": fnSliceFromLeft, "slicefromright": fnSliceFromRight,
	"left": fnLeft, "right": fnRight,
}

// part is one destination token.
type part struct {
	fn   fn
	lit  string // fnLiteral; fnSplit's delimiter
	caps []int  // 1-based captures the function reads
	n    int    // partition count, split position, slice size
}

// newTransform parses to against from. onlyWildcards refuses mapping functions (imports
// may only move tokens).
func newTransform(from, to string, onlyWildcards bool) (*transform, error) {
	if !subject.ValidSubscribe(from) {
		return nil, fmt.Errorf("invalid subject %q", from)
	}
	singles, tail := wildcards(from)
	t := &transform{from: from, to: to, identity: from == to}
	next := 1
	for _, tok := range strings.Split(to, ".") {
		p, err := parsePart(tok, &next, singles, tail)
		if err != nil {
			return nil, fmt.Errorf("%q -> %q: %w", from, to, err)
		}
		if onlyWildcards && p.fn != fnLiteral && p.fn != fnWildcard && p.fn != fnTail {
			return nil, fmt.Errorf("%q -> %q: an import may only move wildcards", from, to)
		}
		t.dst = append(t.dst, p)
	}
	return t, nil
}

func parsePart(tok string, next *int, singles int, tail bool) (part, error) {
	switch {
	case tok == "":
		return part{}, fmt.Errorf("empty token")
	case tok == "*":
		*next++
		return capture(*next-1, singles)
	case tok == ">":
		if !tail {
			return part{}, fmt.Errorf("'>' without one in the source")
		}
		return part{fn: fnTail}, nil
	case strings.HasPrefix(tok, "$") && len(tok) > 1 && tok[1] >= '0' && tok[1] <= '9':
		n, err := strconv.Atoi(tok[1:])
		if err != nil {
			return part{}, fmt.Errorf("%s is not a wildcard reference", tok)
		}
		return capture(n, singles)
	case strings.HasPrefix(tok, "{{") && strings.HasSuffix(tok, "}}"):
		return parseFunc(strings.TrimSpace(tok[2:len(tok)-2]), singles)
	case strings.ContainsAny(tok, "*>{}") || !subject.ValidPublish(tok):
		return part{}, fmt.Errorf("token %q", tok)
	}
	return part{lit: tok}, nil
}

func capture(n, singles int) (part, error) {
	if n < 1 || n > singles {
		return part{}, fmt.Errorf("wildcard %d: the source has %d", n, singles)
	}
	return part{fn: fnWildcard, caps: []int{n}}, nil
}

// parseFunc reads "name(a,b,...)".
func parseFunc(s string, singles int) (part, error) {
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return part{}, fmt.Errorf("mapping function %q", s)
	}
	f, ok := fnNames[strings.ToLower(strings.TrimSpace(s[:open]))]
	if !ok {
		return part{}, fmt.Errorf("unknown mapping function %q", s[:open])
	}
	var args []string
	for _, a := range strings.Split(s[open+1:len(s)-1], ",") {
		args = append(args, strings.TrimSpace(a))
	}
	ints := func(from int) ([]int, error) {
		var out []int
		for _, a := range args[from:] {
			n, err := strconv.Atoi(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not a number", s, a)
			}
			out = append(out, n)
		}
		return out, nil
	}
	switch f {
	case fnWildcard:
		n, err := ints(0)
		if err != nil || len(n) != 1 {
			return part{}, fmt.Errorf("%s takes one wildcard index", s)
		}
		return capture(n[0], singles)
	case fnPartition:
		n, err := ints(0)
		if err != nil || len(n) < 1 || n[0] < 1 {
			return part{}, fmt.Errorf("%s takes a partition count and wildcard indexes", s)
		}
		p := part{fn: fnPartition, n: n[0], caps: n[1:]}
		if len(p.caps) == 0 {
			for i := 1; i <= singles; i++ {
				p.caps = append(p.caps, i)
			}
		}
		return p, checkCaps(p, singles)
	case fnSplit:
		if len(args) != 2 || args[1] == "" {
			return part{}, fmt.Errorf("%s takes a wildcard index and a delimiter", s)
		}
		n, err := strconv.Atoi(args[0])
		if err != nil {
			return part{}, fmt.Errorf("%s: %q is not a number", s, args[0])
		}
		p := part{fn: fnSplit, caps: []int{n}, lit: args[1]}
		return p, checkCaps(p, singles)
	}
	n, err := ints(0)
	if err != nil || len(n) != 2 || n[1] < 1 {
		return part{}, fmt.Errorf("%s takes a wildcard index and a positive size", s)
	}
	p := part{fn: f, caps: []int{n[0]}, n: n[1]}
	return p, checkCaps(p, singles)
}

func checkCaps(p part, singles int) error {
	for _, c := range p.caps {
		if c < 1 || c > singles {
			return fmt.Errorf("wildcard %d: the source has %d", c, singles)
		}
	}
	return nil
}

// wildcards counts a pattern's '*' tokens and reports whether it ends in '>'.
func wildcards(pattern string) (singles int, tail bool) {
	for _, tok := range strings.Split(pattern, ".") {
		switch tok {
		case "*":
			singles++
		case ">":
			tail = true
		}
	}
	return singles, tail
}

// mapBytes returns subj rewritten, if it matches the source. A rewrite depends on the
// subject alone (partition is a hash), so both answers are cached.
func (t *transform) mapBytes(subj []byte) (string, bool) {
	e := t.lookup(subj)
	return e.dst, e.dst != ""
}

// lookup is subj's cache entry, made on a miss.
func (t *transform) lookup(subj []byte) *Mapped {
	if e := t.cache.get(subj); e != nil {
		return e
	}
	s, dst := string(subj), ""
	match := subject.Match(s, t.from)
	if match {
		dst = t.rewrite(s)
	}
	return t.cache.put(s, dst, match)
}

// rewrite is apply, or "" when the result is not a publish subject: a split or slice of a
// token like "*-x" can make a wildcard token (found by FuzzMapping).
func (t *transform) rewrite(subj string) string {
	if dst := t.apply(subj); subject.ValidPublish(dst) {
		return dst
	}
	return ""
}

// apply rewrites subj, which must match t.from.
func (t *transform) apply(subj string) string {
	if t.identity {
		return subj
	}
	var caps []string
	var rest string
	toks := strings.Split(subj, ".")
	for i, p := range strings.Split(t.from, ".") {
		switch p {
		case "*":
			caps = append(caps, toks[i])
		case ">":
			rest = strings.Join(toks[i:], ".")
		}
	}
	var out []string
	for _, d := range t.dst {
		out = append(out, d.render(caps, rest)...)
	}
	return strings.Join(out, ".")
}

// render is one destination token's output: one or more tokens.
func (d part) render(caps []string, rest string) []string {
	var tok string
	if len(d.caps) > 0 {
		tok = caps[d.caps[0]-1]
	}
	switch d.fn {
	case fnLiteral:
		return []string{d.lit}
	case fnWildcard:
		return []string{tok}
	case fnTail:
		return []string{rest}
	case fnPartition:
		h := fnv.New32a()
		for _, c := range d.caps {
			h.Write([]byte(caps[c-1]))
		}
		return []string{strconv.Itoa(int(h.Sum32() % uint32(d.n)))}
	case fnSplit:
		return nonEmpty(strings.Split(tok, d.lit), tok)
	}
	return cut(d.fn, tok, d.n)
}

// cut is the position and size functions; a token too short to cut stays whole.
func cut(f fn, tok string, n int) []string {
	if n >= len(tok) {
		return []string{tok}
	}
	switch f {
	case fnSplitFromLeft:
		return []string{tok[:n], tok[n:]}
	case fnSplitFromRight:
		return []string{tok[:len(tok)-n], tok[len(tok)-n:]}
	case fnLeft:
		return []string{tok[:n]}
	case fnRight:
		return []string{tok[len(tok)-n:]}
	}
	first := n // slice from left: full slices first, the remainder last
	if f == fnSliceFromRight {
		if first = len(tok) % n; first == 0 {
			first = n
		}
	}
	out := []string{tok[:first]}
	for i := first; i < len(tok); i += n {
		out = append(out, tok[i:min(i+n, len(tok))])
	}
	return out
}

// nonEmpty drops the empty pieces of a split (a token never is empty); nothing left keeps
// the token whole.
func nonEmpty(pieces []string, whole string) []string {
	var out []string
	for _, p := range pieces {
		if p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return []string{whole}
	}
	return out
}

// Transform is a subject transform for the layers that rewrite subjects outside an
// account's mappings (JetStream's subject_transform and republish): the same parser and
// rewriting, with its cache. Safe for concurrent use.
type Transform struct{ t *transform }

// NewTransform parses a transform from source (a subject filter; "" means ">") to
// destination, refusing what nats-server refuses in a mapping.
func NewTransform(source, destination string) (*Transform, error) {
	if source == "" {
		source = ">"
	}
	t, err := newTransform(source, destination, false)
	if err != nil {
		return nil, err
	}
	return &Transform{t: t}, nil
}

// Map rewrites subj; ok is false when subj does not match the source (or nothing valid
// comes out).
func (x *Transform) Map(subj string) (dst string, ok bool) { return x.t.mapBytes([]byte(subj)) }
