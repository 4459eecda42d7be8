package account

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core/subject"
)

// transform rewrites subjects matching one pattern into another: the source pattern's
// wildcards capture tokens ('*' one, '>' the rest), and the destination takes them back
// in order ('*', '>') or by position ("$1", the first wildcard of the source).
type transform struct {
	from, to string
	dst      []part
	identity bool
}

// part is one destination token: a literal, the n-th capture, or the tail ('>').
type part struct {
	lit     string
	capture int // 1-based; 0: a literal
	tail    bool
}

// newTransform checks that every wildcard of to has a capture in from.
func newTransform(from, to string) (*transform, error) {
	if !subject.ValidSubscribe(from) || !subject.ValidSubscribe(to) && !strings.Contains(to, "$") {
		return nil, fmt.Errorf("invalid subject %q or %q", from, to)
	}
	singles, tail := wildcards(from)
	t := &transform{from: from, to: to, identity: from == to}
	next := 1
	for _, tok := range strings.Split(to, ".") {
		switch {
		case tok == "*":
			if next > singles {
				return nil, fmt.Errorf("%q has more wildcards than %q", to, from)
			}
			t.dst = append(t.dst, part{capture: next})
			next++
		case tok == ">":
			if !tail {
				return nil, fmt.Errorf("%q ends in '>' but %q does not", to, from)
			}
			t.dst = append(t.dst, part{tail: true})
		case strings.HasPrefix(tok, "$"):
			n, err := strconv.Atoi(tok[1:])
			if err != nil || n < 1 || n > singles {
				return nil, fmt.Errorf("%q: %s names no wildcard of %q", to, tok, from)
			}
			t.dst = append(t.dst, part{capture: n})
		default:
			t.dst = append(t.dst, part{lit: tok})
		}
	}
	return t, nil
}

// wildcards counts from's '*' tokens and reports whether it ends in '>'.
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
	var b strings.Builder
	for i, d := range t.dst {
		if i > 0 {
			b.WriteByte('.')
		}
		switch {
		case d.tail:
			b.WriteString(rest)
		case d.capture > 0:
			b.WriteString(caps[d.capture-1])
		default:
			b.WriteString(d.lit)
		}
	}
	return b.String()
}
