package filestore

import (
	"fmt"
	"sort"
	"strings"

	"github.com/petrel-io/petrel/core/subject"
)

// Filter selects messages by subject: one or more NATS subject filters, where the token "*"
// matches any one token and a final ">" matches one or more tokens. Validity and matching are
// core/subject's, the same as for subscriptions. The zero Filter matches
// every subject. Build one with NewFilter; it is immutable and may be kept and reused.
type Filter struct {
	subjects []string // sorted, deduplicated; nil means all
}

// AllSubjects matches every subject.
var AllSubjects = Filter{}

// NewFilter validates subjects and returns their union. No subjects, or any ">" alone, match
// every subject.
func NewFilter(subjects ...string) (Filter, error) {
	var out []string
	for _, s := range subjects {
		if !subject.ValidSubscribe(s) {
			return Filter{}, fmt.Errorf("%w: %q", ErrBadFilter, s)
		}
		if s == ">" {
			return Filter{}, nil
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return Filter{}, nil
	}
	sort.Strings(out)
	uniq := out[:1]
	for _, s := range out[1:] {
		if s != uniq[len(uniq)-1] {
			uniq = append(uniq, s)
		}
	}
	return Filter{subjects: uniq}, nil
}

// MustFilter is NewFilter for filters known to be valid; it panics otherwise.
func MustFilter(subjects ...string) Filter {
	f, err := NewFilter(subjects...)
	assertf(err == nil, "filestore: MustFilter: %v", err)
	return f
}

// All reports whether the filter matches every subject.
func (f Filter) All() bool { return f.subjects == nil }

// Subjects returns the filter's subjects (nil for all); the caller must not modify them.
func (f Filter) Subjects() []string { return f.subjects }

// Matches reports whether a literal subject matches the filter.
func (f Filter) Matches(subj string) bool {
	if f.subjects == nil {
		return true
	}
	for _, flt := range f.subjects {
		if subject.Match(subj, flt) {
			return true
		}
	}
	return false
}

// literal reports whether the filter is exactly one literal subject.
func (f Filter) literal() (string, bool) {
	if len(f.subjects) == 1 && subject.IsLiteral(f.subjects[0]) {
		return f.subjects[0], true
	}
	return "", false
}

// nextToken splits s at its first '.'; rest is "" after the last token.
func nextToken(s string) (tok, rest string) {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// validSubject reports whether s is a subject a message may be stored under: core/subject's
// publish rule (which also bounds it to what the record's 16-bit length holds).
func validSubject(s string) bool { return subject.ValidPublish(s) }

// The record's 16-bit subject length must hold every valid subject: this fails to compile
// if core/subject's bound ever outgrows it.
const _ = uint16(subject.MaxBytes)
