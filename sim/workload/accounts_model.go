package workload

import (
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core/subject"
)

// The checker's model of accounts: where a message published in an account may be
// delivered, computed from the workload's configuration alone. It is written apart from
// core/account on purpose (a bug there must not be copied into the oracle), and knows only
// what the workload configures: subject mappings at the publisher (first matching source;
// weighted ones pick one destination or, for the share left over, none), then the
// publisher's own account, stream imports (each hop following the next account's stream
// exports), and service imports (requests reach the exporter under the exported subject).

// accDest is one place a message may be delivered: an account and the subject it carries
// there.
type accDest struct {
	account, subject string
}

// accOutcome is where a message goes if its publish was mapped to subject: how many times
// it may arrive at each destination (two routes to one place deliver twice).
type accOutcome struct {
	subject string
	dests   map[accDest]int
	via     map[accDest]accVia // how a destination outside the publisher's account is reached
}

// accVia marks the routes worth counting in coverage (the checker's probe points).
type accVia uint8

const (
	accViaChain      accVia = 1 << iota // a stream import of a stream import
	accViaRestricted                    // an export that admits only some accounts
)

type accModel struct {
	spec  *accSpec
	cache map[accDest][]accOutcome // by (publisher's account, published subject)
}

func newAccModel(spec *accSpec) *accModel {
	return &accModel{spec: spec, cache: map[accDest][]accOutcome{}}
}

// outcomes lists what may become of a message published in acc on subj: one outcome per
// subject the publisher's mappings may turn it into.
func (m *accModel) outcomes(acc, subj string) []accOutcome {
	key := accDest{acc, subj}
	if out, ok := m.cache[key]; ok {
		return out
	}
	var out []accOutcome
	for _, mapped := range m.mapped(acc, subj) {
		o := accOutcome{subject: mapped, dests: map[accDest]int{{acc, mapped}: 1}, via: map[accDest]accVia{}}
		m.route(acc, mapped, o)
		out = append(out, o)
	}
	m.cache[key] = out
	return out
}

// mapped is every subject acc's mappings may turn subj into.
func (m *accModel) mapped(acc, subj string) []string {
	for _, mp := range m.spec.byName[acc].mappings {
		if !subject.Match(subj, mp.source) {
			continue
		}
		var out []string
		total := 0
		for _, d := range mp.dsts {
			out = append(out, accRewrite(mp.source, d.subject, subj))
			total += d.weight
		}
		if total < 100 {
			out = append(out, subj)
		}
		return out
	}
	return []string{subj}
}

// route follows a message published in acc on subj (already mapped) to every destination
// beyond acc's own subscribers.
func (m *accModel) route(acc, subj string, o accOutcome) {
	m.streams(acc, subj, o, 0)
	for _, im := range m.spec.byName[acc].imports {
		if im.service && !im.forbidden && subject.Match(subj, im.local()) {
			// A service import's local subject maps back onto the exported one.
			d := accDest{im.from, accRewrite(im.local(), im.subject, subj)}
			o.dests[d]++
			o.via[d] |= m.restricted(im)
		}
	}
}

func (m *accModel) restricted(im accImport) accVia {
	if m.spec.byName[im.from].exports[im.exportIndex].accounts != nil {
		return accViaRestricted
	}
	return 0
}

// accMaxHops bounds the model's walk along stream imports; the configuration makes no
// cycle, so a longer walk is a bug in the workload.
const accMaxHops = 8

// streams adds the destinations of stream imports of what is delivered in from on subj.
func (m *accModel) streams(from, subj string, o accOutcome, hops int) {
	if hops > accMaxHops {
		panic("accounts model: stream imports form a cycle")
	}
	for _, a := range m.spec.accounts {
		for _, im := range a.imports {
			if im.service || im.forbidden || im.from != from || !subject.Match(subj, im.subject) {
				continue
			}
			to := accDest{a.name, accRewrite(im.subject, im.local(), subj)}
			o.dests[to]++
			o.via[to] |= m.restricted(im)
			if hops > 0 {
				o.via[to] |= accViaChain
			}
			m.streams(a.name, to.subject, o, hops+1)
		}
	}
}

// service finds the service import of acc whose local subject subj is, and the export it
// takes: what kind of responses a request there gets.
func (m *accModel) service(acc, subj string) (accImport, accExport, bool) {
	for _, im := range m.spec.byName[acc].imports {
		if im.service && !im.forbidden && subject.Match(subj, im.local()) {
			return im, m.spec.byName[im.from].exports[im.exportIndex], true
		}
	}
	return accImport{}, accExport{}, false
}

// accRewrite rewrites subj, which matches from, into to: to's tokens are literals, '*'
// (the source's wildcards in order), "$n" (the n-th) and '>' (what the source's '>' took).
func accRewrite(from, to, subj string) string {
	var caps []string
	var rest string
	toks := strings.Split(subj, ".")
	for i, f := range strings.Split(from, ".") {
		switch f {
		case "*":
			caps = append(caps, toks[i])
		case ">":
			rest = strings.Join(toks[i:], ".")
		}
	}
	var out []string
	next := 0
	for _, t := range strings.Split(to, ".") {
		switch {
		case t == "*":
			out = append(out, caps[next])
			next++
		case t == ">":
			out = append(out, rest)
		case strings.HasPrefix(t, "$"):
			n, err := strconv.Atoi(t[1:])
			if err != nil || n < 1 || n > len(caps) {
				panic("accounts model: bad wildcard reference " + t)
			}
			out = append(out, caps[n-1])
		default:
			out = append(out, t)
		}
	}
	return strings.Join(out, ".")
}
