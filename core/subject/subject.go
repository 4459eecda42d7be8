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

// isSpace reports the bytes NATS treats as whitespace inside a subject.
func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\f' }

// ValidPublish reports whether s may be published to: tokens non-empty, no whitespace, no
// wildcard tokens.
func ValidPublish(s string) bool { return valid(s, false) }

// ValidSubscribe reports whether s may be subscribed to: like ValidPublish, but '*' may
// stand as any token and '>' as the last one.
func ValidSubscribe(s string) bool { return valid(s, true) }

func valid(s string, wildcards bool) bool {
	if s == "" {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != Separator {
			if isSpace(s[i]) {
				return false
			}
			continue
		}
		tok := s[start:i]
		if tok == "" {
			return false
		}
		if len(tok) == 1 && (tok[0] == singleWildB || tok[0] == trailWildB) {
			if !wildcards || (tok[0] == trailWildB && i != len(s)) {
				return false
			}
		}
		start = i + 1
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

// Match reports whether the literal subject matches pattern (which may hold wildcards).
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
