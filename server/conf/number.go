package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeSuffixes maps a lower-cased size suffix to its multiplier: single letters are powers
// of 1000, the b/i/ib forms powers of 1024 (nats-server's reading of "8MB").
var sizeSuffixes = map[string]int64{
	"k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18,
	"kb": 1 << 10, "ki": 1 << 10, "kib": 1 << 10,
	"mb": 1 << 20, "mi": 1 << 20, "mib": 1 << 20,
	"gb": 1 << 30, "gi": 1 << 30, "gib": 1 << 30,
	"tb": 1 << 40, "ti": 1 << 40, "tib": 1 << 40,
	"pb": 1 << 50, "pi": 1 << 50, "pib": 1 << 50,
	"eb": 1 << 60, "ei": 1 << 60, "eib": 1 << 60,
}

// boolWords are the bare words that parse as booleans, lower-cased.
var boolWords = map[string]bool{
	"true": true, "yes": true, "on": true,
	"false": false, "no": false, "off": false,
}

// scalar classifies a bare word: a boolean word, an integer (with an optional size
// suffix), a float, or else a string. Only a word that is wholly a number is one, so
// "127.0.0.1", "1h30m" and "10.5MB" are strings. A number out of range is an error, not a
// string, since the writer meant a number.
func scalar(word string) (*Value, error) {
	v := &Value{Raw: word}
	if b, ok := boolWords[strings.ToLower(word)]; ok {
		v.Kind, v.Bool = KindBool, b
		return v, nil
	}
	kind, n, f, err := number(word)
	switch {
	case err != nil:
		return nil, err
	case kind == KindInt:
		v.Kind, v.Int = KindInt, n
	case kind == KindFloat:
		v.Kind, v.Float = KindFloat, f
	default:
		v.Kind, v.Str = KindString, word
	}
	return v, nil
}

// number parses word if it is wholly an integer, a size or a float, and reports kind 0
// when it is not a number at all.
func number(word string) (Kind, int64, float64, error) {
	digits, rest := splitDigits(word)
	if digits == "" {
		return 0, 0, 0, nil
	}
	if rest == "" {
		n, err := strconv.ParseInt(word, 10, 64)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("integer %s is out of range", word)
		}
		return KindInt, n, 0, nil
	}
	if mult, ok := sizeSuffixes[strings.ToLower(rest)]; ok {
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > math.MaxInt64/mult || n < math.MinInt64/mult {
			return 0, 0, 0, fmt.Errorf("size %s is out of range", word)
		}
		return KindInt, n * mult, 0, nil
	}
	if !isFloatTail(rest) {
		return 0, 0, 0, nil
	}
	f, err := strconv.ParseFloat(word, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("number %s is out of range", word)
	}
	return KindFloat, 0, f, nil
}

// splitDigits splits word into its leading signed integer ("-12") and the rest. digits is
// "" when word does not start with one.
func splitDigits(word string) (digits, rest string) {
	i := 0
	if i < len(word) && (word[i] == '+' || word[i] == '-') {
		i++
	}
	j := i
	for j < len(word) && word[j] >= '0' && word[j] <= '9' {
		j++
	}
	if j == i {
		return "", word
	}
	return word[:j], word[j:]
}

// isFloatTail reports whether what follows a float's integer part is a fraction
// (".5"), an exponent ("e3", "E-2"), or a fraction then an exponent.
func isFloatTail(rest string) bool {
	if strings.HasPrefix(rest, ".") {
		n := countDigits(rest[1:])
		if n == 0 {
			return false
		}
		rest = rest[1+n:]
		if rest == "" {
			return true
		}
	}
	if rest == "" || (rest[0] != 'e' && rest[0] != 'E') {
		return false
	}
	rest = rest[1:]
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		rest = rest[1:]
	}
	n := countDigits(rest)
	return n > 0 && n == len(rest)
}

func countDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// parseSize reads text written as an integer with an optional size suffix, for sizes
// given as strings ("8MB" in quotes, or from the environment).
func parseSize(text string) (int64, bool) {
	kind, n, _, err := number(strings.TrimSpace(text))
	return n, err == nil && kind == KindInt
}
