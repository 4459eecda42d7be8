package account

import (
	"strings"

	"github.com/petrel-io/petrel/core/subject"
)

// Interest in an exporter. A subscription in an account that imports a stream receives
// what the exporter publishes on the import's subject; in a cluster, the servers where the
// exporter's messages are published must learn of it as interest in the exporter, which
// is what ShadowInterest gives (nats-server's shadow subscriptions, in the same cases).

// Interest is a subject of interest in an account.
type Interest struct {
	Account string
	Subject string
}

// streamImport is one stream import seen from the importer: the exporter, the subject
// pattern the import occupies here, and the forward transform (exporter's subject -> ours),
// whose parts say where each of the exporter's wildcards lands.
type streamImport struct {
	from     *Account
	exported string // the import's subject, in the exporter
	local    string // the pattern it occupies here: the transform's destination as wildcards
	t        *transform
}

func newStreamImport(from *Account, t *transform) streamImport {
	toks := make([]string, len(t.dst))
	for i, p := range t.dst {
		switch p.fn {
		case fnWildcard:
			toks[i] = subject.SingleWild
		case fnTail:
			toks[i] = subject.TrailWild
		default:
			toks[i] = p.lit
		}
	}
	return streamImport{from: from, exported: t.from, local: strings.Join(toks, "."), t: t}
}

// ShadowInterest appends the interest a subscription on subj in this account stands for in
// the exporters of its stream imports (one hop; the caller follows chains) to out: the
// import's own subject when subj covers the whole import, else the subjects of subj's
// overlap with the import, as the exporter names them.
func (r *Routes) ShadowInterest(subj string, out []Interest) []Interest {
	for _, im := range r.imports {
		if s, ok := im.interest(subj); ok {
			out = append(out, Interest{Account: im.from.Name(), Subject: s})
		}
	}
	return out
}

// HasStreamImports reports whether subscriptions here may stand for interest elsewhere.
func (r *Routes) HasStreamImports() bool { return len(r.imports) > 0 }

// interest is subj's shadow in the exporter, if subj meets the import.
func (im streamImport) interest(subj string) (string, bool) {
	switch {
	case !subject.Intersects(subj, im.local):
		return "", false
	case subject.SubsetOf(im.local, subj):
		return im.exported, true
	}
	return im.reverse(overlap(subj, im.local)), true
}

// overlap is the pattern of the subjects both a and b match (they intersect).
func overlap(a, b string) string {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	var out []string
	for i := range at {
		switch {
		case at[i] == subject.TrailWild:
			return strings.Join(append(out, bt[i:]...), ".")
		case i >= len(bt):
			panic("account: overlap of " + a + " and " + b + ", which do not intersect")
		case bt[i] == subject.TrailWild:
			return strings.Join(append(out, at[i:]...), ".")
		case at[i] == subject.SingleWild:
			out = append(out, bt[i])
		default:
			out = append(out, at[i])
		}
	}
	return strings.Join(out, ".")
}

// reverse names in the exporter a pattern within the import's local pattern: each of the
// exporter's wildcards takes the token the transform put it at ("*" when the transform
// dropped it), the tail takes the rest.
func (im streamImport) reverse(pattern string) string {
	toks := strings.Split(pattern, ".")
	var out []string
	next := 0 // the exporter's wildcards, in order
	for _, tok := range strings.Split(im.exported, ".") {
		switch tok {
		case subject.SingleWild:
			next++
			out = append(out, im.captured(toks, next))
		case subject.TrailWild:
			out = append(out, im.tail(toks))
		default:
			out = append(out, tok)
		}
	}
	return strings.Join(out, ".")
}

// captured is the token of toks where the transform puts the exporter's wildcard n.
func (im streamImport) captured(toks []string, n int) string {
	for i, p := range im.t.dst {
		if p.fn == fnWildcard && p.caps[0] == n && i < len(toks) {
			return toks[i]
		}
	}
	return subject.SingleWild
}

// tail is the tokens of toks from where the transform puts the exporter's tail.
func (im streamImport) tail(toks []string) string {
	for i, p := range im.t.dst {
		if p.fn == fnTail && i < len(toks) {
			return strings.Join(toks[i:], ".")
		}
	}
	return subject.TrailWild
}
