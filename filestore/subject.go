package filestore

import (
	"fmt"
	"sort"
	"strings"
)

// Filter selects messages by subject: one or more NATS subject filters, where the token "*"
// matches any one token and a final ">" matches one or more tokens. The zero Filter matches
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
		if !validFilter(s) {
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
func (f Filter) Matches(subject string) bool {
	if f.subjects == nil {
		return true
	}
	for _, flt := range f.subjects {
		if matchSubject(flt, subject) {
			return true
		}
	}
	return false
}

// literal reports whether the filter is exactly one literal subject.
func (f Filter) literal() (string, bool) {
	if len(f.subjects) == 1 && !hasWildcard(f.subjects[0]) {
		return f.subjects[0], true
	}
	return "", false
}

func hasWildcard(filter string) bool {
	for tok, rest := nextToken(filter); ; tok, rest = nextToken(rest) {
		if tok == "*" || tok == ">" {
			return true
		}
		if rest == "" {
			return false
		}
	}
}

// nextToken splits s at its first '.'; rest is "" after the last token.
func nextToken(s string) (tok, rest string) {
	i := strings.IndexByte(s, '.')
	if i < 0 {
		return s, ""
	}
	return s[:i], s[i+1:]
}

// validSubject reports whether s is a literal subject a message may be stored under:
// non-empty tokens, no wildcard tokens, no whitespace or control bytes.
func validSubject(s string) bool {
	if s == "" || len(s) > subjectBytesMax {
		return false
	}
	return validTokens(s, false)
}

// validFilter reports whether s is a valid subject filter: like a subject, but "*" may be
// any token and ">" the last one.
func validFilter(s string) bool {
	if s == "" || len(s) > subjectBytesMax {
		return false
	}
	return validTokens(s, true)
}

func validTokens(s string, wildcards bool) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '.' {
			if c := s[i]; c <= ' ' || c == 0x7f {
				return false
			}
			continue
		}
		tok := s[start:i]
		switch {
		case tok == "":
			return false
		case tok == "*" && !wildcards:
			return false
		case tok == ">" && (!wildcards || i != len(s)):
			return false
		}
		start = i + 1
	}
	return true
}

// matchSubject reports whether a literal subject matches a filter, token by token, without
// allocating.
func matchSubject(filter, subject string) bool {
	for {
		ft, frest := nextToken(filter)
		st, srest := nextToken(subject)
		switch {
		case ft == ">":
			return true // '>' needs at least one token, and subject has st
		case ft != "*" && ft != st:
			return false
		}
		switch {
		case frest == "" && srest == "":
			return true
		case frest == "" || srest == "":
			// One side has tokens left. A lone remaining ">" in the filter needs a subject
			// token, which srest == "" cannot give.
			return false
		}
		filter, subject = frest, srest
	}
}
