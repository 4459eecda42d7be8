package jetstream

import (
	"errors"
	"testing"
)

// Sections out of their order (definition, consumers, store, end) are refused even when
// each is whole; so is a container that ends before its end section.
func TestSnapshotContainerRefusesOrder(t *testing.T) {
	def := []byte(`{"config":{"name":"S"}}`)
	for _, tc := range []struct {
		name  string
		kinds []byte
	}{
		{"store first", []byte{sectionStore, sectionStream, sectionEnd}},
		{"no definition", []byte{sectionConsumer, sectionStore, sectionEnd}},
		{"two definitions", []byte{sectionStream, sectionStream, sectionStore, sectionEnd}},
		{"end before the store", []byte{sectionStream, sectionEnd}},
		{"unknown kind", []byte{sectionStream, 9, sectionStore, sectionEnd}},
		{"no end", []byte{sectionStream}},
	} {
		out := []byte(snapshotMagic)
		for _, k := range tc.kinds {
			out = appendSection(out, k, def)
		}
		var s Snapshot
		if err := s.UnmarshalBinary(out); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
