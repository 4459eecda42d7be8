package env

import (
	"cmp"
	"slices"
)

// SortedKeys returns a map's keys in order. Deterministic code iterates maps through it
// wherever the order could change an outcome (Go randomizes map order per run).
func SortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
