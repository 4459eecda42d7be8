package account

import (
	"fmt"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
)

// Mapping rewrites what clients of an account publish on Source: to one destination, or to
// one of several chosen by weight (percent; what the weights leave below 100 keeps the
// subject unchanged).
type Mapping struct {
	Source       string
	Destinations []Destination
}

// Destination is one weighted target of a mapping.
type Destination struct {
	Subject string
	Weight  int // percent, 1..100
}

// mapper is a checked mapping.
type mapper struct {
	source string
	dsts   []weighted
}

type weighted struct {
	t      *transform
	weight int
}

func newMapper(m Mapping) (mapper, error) {
	out := mapper{source: m.Source}
	total := 0
	for _, d := range m.Destinations {
		if d.Weight < 1 || d.Weight > 100 {
			return out, fmt.Errorf("mapping %q: weight %d%% of %q is not in 1..100", m.Source, d.Weight, d.Subject)
		}
		t, err := newTransform(m.Source, d.Subject, false)
		if err != nil {
			return out, fmt.Errorf("mapping: %w", err)
		}
		total += d.Weight
		out.dsts = append(out.dsts, weighted{t: t, weight: d.Weight})
	}
	switch {
	case len(out.dsts) == 0:
		return out, fmt.Errorf("mapping %q has no destination", m.Source)
	case total > 100:
		return out, fmt.Errorf("mapping %q: weights add up to %d%%", m.Source, total)
	}
	return out, nil
}

// Map rewrites subj by the first mapping whose source matches it; rng chooses among
// weighted destinations (the publisher's, so a seed replays the choice).
func (r *Routes) Map(subj string, rng env.Rand) (string, bool) {
	for _, m := range r.mappers {
		if !subject.Match(subj, m.source) {
			continue
		}
		d := m.choose(rng)
		if d == nil {
			return subj, true // the weights' rest: unchanged
		}
		if dst := d.rewrite(subj); dst != "" {
			return dst, true
		}
		return "", false // no publish subject comes out: the subject stays as it was
	}
	return "", false
}

// HasMappings reports whether a publish in the account may be rewritten.
func (r *Routes) HasMappings() bool { return len(r.mappers) > 0 }

// choose picks a destination by weight; nil for the share the weights leave (unmapped).
func (m mapper) choose(rng env.Rand) *transform {
	if len(m.dsts) == 1 && m.dsts[0].weight == 100 {
		return m.dsts[0].t
	}
	roll := rng.Intn(100)
	for _, d := range m.dsts {
		if roll < d.weight {
			return d.t
		}
		roll -= d.weight
	}
	return nil
}
