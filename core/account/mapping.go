package account

import (
	"fmt"

	"github.com/petrel-io/petrel/core/env"
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
	dsts []weighted // each a transform from the mapping's source
}

type weighted struct {
	t      *transform
	weight int
}

func newMapper(m Mapping) (mapper, error) {
	out := mapper{}
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
// weighted destinations (the publisher's, so a seed replays the choice). false: the subject
// stays as it is (no mapping matches, the weights' rest was drawn, or no publish subject
// comes out). Rewrites come from the transforms' caches, so a hot subject costs lookups.
func (r *Routes) Map(subj []byte, rng env.Rand) (string, bool) {
	for _, m := range r.mappers {
		if !m.dsts[0].t.lookup(subj).match { // every destination has the mapping's source
			continue
		}
		if d := m.choose(rng); d != nil {
			e := d.lookup(subj)
			return e.dst, e.dst != ""
		}
		return "", false
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
