// Package subjecttest holds what the tests of every subject user share: a naive matching
// oracle, independent of core/subject's token walk, and generators of subjects and patterns
// over a small alphabet (so that matches are frequent) that includes the bytes the rules
// single out.
package subjecttest

import (
	"regexp"
	"strings"

	"pgregory.net/rapid"
)

// Oracle reports whether subject matches pattern by translating the pattern into a regular
// expression: '*' is one run of non-dots, a final '>' one or more tokens, anything else
// itself. The subject's own '*' and '>' are plain text.
func Oracle(subject, pattern string) bool {
	toks := strings.Split(pattern, ".")
	parts := make([]string, len(toks))
	for i, tok := range toks {
		switch {
		case tok == "*":
			parts[i] = `[^.]+`
		case tok == ">" && i == len(toks)-1:
			parts[i] = `[^.]+(\.[^.]+)*`
		default:
			parts[i] = regexp.QuoteMeta(tok)
		}
	}
	re := regexp.MustCompile(`^` + strings.Join(parts, `\.`) + `$`)
	return re.MatchString(subject)
}

// literalTokens are the tokens of generated subjects: plain ones, one with a wildcard
// character inside, and control bytes the rules accept.
var literalTokens = []string{"a", "b", "a*b", "\x01", "\x7f"}

// Literal draws a valid publish subject of 1 to 4 tokens.
func Literal() *rapid.Generator[string] { return tokens(literalTokens, false) }

// Routable draws a subject a non-pedantic publisher may send: literal tokens and whole
// '*' and '>' tokens anywhere, matched as text.
func Routable() *rapid.Generator[string] {
	return tokens(append([]string{"*", ">"}, literalTokens...), false)
}

// Pattern draws a valid subscription subject: literal tokens, '*' anywhere, '>' last.
func Pattern() *rapid.Generator[string] { return tokens(append([]string{"*"}, literalTokens...), true) }

func tokens(choices []string, trail bool) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		n := rapid.IntRange(1, 4).Draw(t, "n")
		toks := make([]string, n)
		for i := range toks {
			c := choices
			if trail && i == n-1 {
				c = append([]string{">"}, choices...)
			}
			toks[i] = rapid.SampledFrom(c).Draw(t, "tok")
		}
		return strings.Join(toks, ".")
	})
}
