package subject

import "strings"

// Separator splits tokens; the wildcards are whole tokens.
const (
	Separator   = '.'
	SingleWild  = "*"
	TrailWild   = ">"
	singleWildB = '*'
	trailWildB  = '>'
)

// MaxBytes bounds every subject, filter and queue name: what the store's 16-bit subject
// length can hold.
const MaxBytes = 1<<16 - 1

// forbidden reports the bytes no subject or queue name may hold: the protocol's argument
// separators and line ends.
func forbidden(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// ValidPublish reports whether s may be published to and stored: non-empty tokens, no
// forbidden bytes, no wildcard tokens, at most MaxBytes.
func ValidPublish(s string) bool { return valid(s, rulePublish) }

// ValidSubscribe reports whether s may be subscribed to or used as a store filter: like
// ValidPublish, but '*' may stand as any token and '>' as the last one.
func ValidSubscribe(s string) bool { return valid(s, ruleSubscribe) }

// Routable reports whether a message published to s can be matched at all: non-empty
// tokens, no forbidden bytes, at most MaxBytes. Wildcard tokens pass and match as plain
// text; this is what a publisher that is not pedantic may send (see the package doc).
func Routable(s string) bool { return valid(s, ruleRoutable) }

// ValidQueue reports whether q may name a queue group: 1 to MaxBytes bytes, none forbidden.
// Dots and wildcards in it are ordinary bytes.
func ValidQueue(q string) bool {
	if q == "" || len(q) > MaxBytes {
		return false
	}
	for i := 0; i < len(q); i++ {
		if forbidden(q[i]) {
			return false
		}
	}
	return true
}

type rule int

const (
	rulePublish rule = iota
	ruleSubscribe
	ruleRoutable
)

func valid(s string, r rule) bool {
	if s == "" || len(s) > MaxBytes {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != Separator {
			if forbidden(s[i]) {
				return false
			}
			continue
		}
		if !validToken(s[start:i], i == len(s), r) {
			return false
		}
		start = i + 1
	}
	return true
}

func validToken(tok string, last bool, r rule) bool {
	switch {
	case tok == "":
		return false
	case r == ruleRoutable || len(tok) != 1:
		return true
	case tok[0] == singleWildB:
		return r == ruleSubscribe
	case tok[0] == trailWildB:
		return r == ruleSubscribe && last
	}
	return true
}

// IsLiteral reports whether s contains no wildcard token.
func IsLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if (s[i] == singleWildB || s[i] == trailWildB) &&
			(i == 0 || s[i-1] == Separator) && (i+1 == len(s) || s[i+1] == Separator) {
			return false
		}
	}
	return true
}

// Match reports whether subject matches pattern. Only the pattern's '*' and '>' tokens are
// wildcards; the subject's tokens are compared as text (a routable subject may hold "*").
// It does not allocate.
func Match(subject, pattern string) bool {
	for {
		ptok, prest, pmore := strings.Cut(pattern, ".")
		stok, srest, smore := strings.Cut(subject, ".")
		switch {
		case ptok == TrailWild && !pmore:
			return stok != ""
		case ptok == SingleWild:
			if stok == "" {
				return false
			}
		case ptok != stok:
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subject = prest, srest
	}
}

// SubsetOf reports whether every subject matched by a is also matched by b (both may hold
// wildcards). Permissions use it to decide whether a wildcard subscription is covered.
func SubsetOf(a, b string) bool {
	for {
		atok, arest, amore := strings.Cut(a, ".")
		btok, brest, bmore := strings.Cut(b, ".")
		switch {
		case btok == TrailWild && !bmore:
			return true
		case atok == TrailWild:
			return false
		case btok == SingleWild:
		case atok != btok:
			return false
		}
		if !amore || !bmore {
			return amore == bmore
		}
		a, b = arest, brest
	}
}

// Intersects reports whether some literal subject matches both a and b.
func Intersects(a, b string) bool {
	for {
		atok, arest, amore := strings.Cut(a, ".")
		btok, brest, bmore := strings.Cut(b, ".")
		if (atok == TrailWild && !amore) || (btok == TrailWild && !bmore) {
			return true
		}
		if atok != btok && atok != SingleWild && btok != SingleWild {
			return false
		}
		if !amore || !bmore {
			return amore == bmore
		}
		a, b = arest, brest
	}
}

// NumTokens counts the tokens of s.
func NumTokens(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, ".") + 1
}
