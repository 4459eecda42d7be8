package conf

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"pgregory.net/rapid"
)

// quote writes s as a double-quoted string, escaping what must be escaped and, as the
// draws decide, other characters with \uXXXX (astral ones as surrogate pairs).
func quote(t *rapid.T, s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f || rapid.Bool().Draw(t, "escape"):
			if r > 0xFFFF {
				hi, lo := utf16.EncodeRune(r)
				fmt.Fprintf(&b, `\u%04x\u%04X`, hi, lo)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// TestQuotedRoundTrip: any text, quoted with escapes, parses back to itself; text
// without ' or a newline does in single quotes too.
func TestQuotedRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := rapid.String().Draw(t, "s")
		src := "v: " + quote(t, s)
		m, err := Parse("t.conf", []byte(src))
		if err != nil {
			t.Fatalf("parse %q: %v", src, err)
		}
		if v, _ := m.Get("v"); v.Kind != KindString || v.Str != s {
			t.Fatalf("parse %q: got %q, want %q", src, v.Str, s)
		}
		if strings.ContainsAny(s, "'\n") {
			return
		}
		m, err = Parse("t.conf", []byte("v: '"+s+"'"))
		if err != nil {
			t.Fatalf("single-quoted %q: %v", s, err)
		}
		if v, _ := m.Get("v"); v.Str != s {
			t.Fatalf("single-quoted %q: got %q", s, v.Str)
		}
	})
}

// TestSizeOracle: n with any suffix parses to n times the multiplier, or fails as out of
// range exactly when the product leaves int64 (checked with big integers).
func TestSizeOracle(t *testing.T) {
	suffixes := []string{"", "k", "M", "g", "T", "p", "E", "kb", "KiB", "Mi", "gb", "TIB", "pb", "Ei", "eib"}
	multipliers := map[string]int64{"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15, "e": 1e18}
	for i, p := range []string{"k", "m", "g", "t", "p", "e"} {
		multipliers[p+"b"], multipliers[p+"i"], multipliers[p+"ib"] = 1<<(10*(i+1)), 1<<(10*(i+1)), 1<<(10*(i+1))
	}
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.OneOf(rapid.Int64(), rapid.Int64Range(-10000, 10000)).Draw(t, "n")
		suffix := rapid.SampledFrom(suffixes).Draw(t, "suffix")
		text := strconv.FormatInt(n, 10) + suffix
		product := new(big.Int).Mul(big.NewInt(n), big.NewInt(multipliers[strings.ToLower(suffix)]))
		m, err := Parse("t.conf", []byte("v: "+text))
		if !product.IsInt64() {
			if err == nil || !strings.Contains(err.Error(), "out of range") {
				t.Fatalf("%s overflows int64 but parsed: %v", text, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		if v, _ := m.Get("v"); v.Kind != KindInt || v.Int != product.Int64() || v.Raw != text {
			t.Fatalf("%s: got %v %d raw %q, want %d", text, v.Kind, v.Int, v.Raw, product.Int64())
		}
	})
}

// TestBareWordsReadBack: any bare word parses (or is a number out of range) and AsString
// gives back exactly what was written.
func TestBareWordsReadBack(t *testing.T) {
	word := rapid.StringMatching(`[0-9a-zA-Z.+\-_:/*>=]{1,12}`)
	rapid.Check(t, func(t *rapid.T) {
		w := word.Draw(t, "word")
		if strings.HasPrefix(w, "//") {
			return // a comment, not a word
		}
		m, err := Parse("t.conf", []byte("v: "+w))
		if err != nil {
			if !strings.Contains(err.Error(), "out of range") {
				t.Fatalf("%q: %v", w, err)
			}
			return
		}
		v, _ := m.Get("v")
		if s, err := v.AsString(); err != nil || s != w {
			t.Fatalf("%q: AsString = %q, %v (kind %v)", w, s, err, v.Kind)
		}
	})
}

// node is a model of a configuration value for the generator below.
type node struct {
	kind  Kind
	str   string
	num   int64
	bool  bool
	keys  []string // map keys in order, unique
	elems []*node  // map values (parallel to keys) or array elements
}

var (
	keyGen  = rapid.StringMatching(`[a-zA-Z_][a-zA-Z0-9_.\-]{0,6}`)
	bareGen = rapid.StringMatching(`(?:[a-zA-Z]|/[a-zA-Z0-9])[a-zA-Z0-9._/:*>\-]{0,10}`)
)

func drawNode(t *rapid.T, depth int) *node {
	kinds := []Kind{KindString, KindInt, KindBool}
	if depth < 4 {
		kinds = append(kinds, KindMap, KindArray)
	}
	n := &node{kind: rapid.SampledFrom(kinds).Draw(t, "kind")}
	switch n.kind {
	case KindString:
		n.str = rapid.String().Draw(t, "str")
	case KindInt:
		n.num = rapid.Int64().Draw(t, "int")
	case KindBool:
		n.bool = rapid.Bool().Draw(t, "bool")
	case KindMap:
		seen := map[string]bool{}
		for range rapid.IntRange(0, 4).Draw(t, "entries") {
			k := keyGen.Draw(t, "key")
			if seen[k] || strings.EqualFold(k, "include") {
				continue
			}
			seen[k] = true
			n.keys = append(n.keys, k)
			n.elems = append(n.elems, drawNode(t, depth+1))
		}
	case KindArray:
		for range rapid.IntRange(0, 4).Draw(t, "elements") {
			n.elems = append(n.elems, drawNode(t, depth+1))
		}
	}
	return n
}

var boolOrNumber = regexp.MustCompile(`^(?i:true|false|yes|no|on|off)$`)

// render writes n in a style the draws choose: separators, quoting, line breaks,
// comments (after a blank: "a//b" is one word).
func render(t *rapid.T, b *strings.Builder, n *node, indent string) {
	switch n.kind {
	case KindString:
		bare := bareGen.Draw(t, "bare")
		if rapid.Bool().Draw(t, "use bare word") && !boolOrNumber.MatchString(bare) {
			n.str = bare
			b.WriteString(bare)
		} else if !strings.ContainsAny(n.str, "'\n") && rapid.Bool().Draw(t, "single") {
			b.WriteString("'" + n.str + "'")
		} else {
			b.WriteString(quote(t, n.str))
		}
	case KindInt:
		b.WriteString(strconv.FormatInt(n.num, 10))
	case KindBool:
		b.WriteString(rapid.SampledFrom(map[bool][]string{true: {"true", "YES", "on"}, false: {"false", "no", "Off"}}[n.bool]).Draw(t, "bool word"))
	case KindMap:
		b.WriteString("{")
		renderEntries(t, b, n, indent+"  ")
		b.WriteString("\n" + indent + "}")
	case KindArray:
		b.WriteString("[")
		for _, e := range n.elems {
			b.WriteString(rapid.SampledFrom([]string{"\n" + indent + "  ", " ", ""}).Draw(t, "before element"))
			render(t, b, e, indent+"  ")
			b.WriteString(rapid.SampledFrom([]string{",", "\n", " ,", " # c\n", "\t// c\n", ";"}).Draw(t, "after element"))
		}
		b.WriteString("\n" + indent + "]")
	}
}

func renderEntries(t *rapid.T, b *strings.Builder, n *node, indent string) {
	for i, k := range n.keys {
		b.WriteString("\n" + indent + k)
		b.WriteString(rapid.SampledFrom([]string{" = ", ": ", " ", "=", ":"}).Draw(t, "separator"))
		render(t, b, n.elems[i], indent)
		b.WriteString(rapid.SampledFrom([]string{"", ";", ",", " # note", " // note"}).Draw(t, "after value"))
	}
}

// same compares a parsed value with the model.
func same(n *node, v *Value) error {
	if v.Kind != n.kind {
		return fmt.Errorf("%s: kind %v, want %v", v.Path, v.Kind, n.kind)
	}
	switch n.kind {
	case KindString:
		if v.Str != n.str {
			return fmt.Errorf("%s: %q, want %q", v.Path, v.Str, n.str)
		}
	case KindInt:
		if v.Int != n.num {
			return fmt.Errorf("%s: %d, want %d", v.Path, v.Int, n.num)
		}
	case KindBool:
		if v.Bool != n.bool {
			return fmt.Errorf("%s: %v, want %v", v.Path, v.Bool, n.bool)
		}
	case KindMap:
		return sameMap(n, v.Map)
	case KindArray:
		if len(v.Array) != len(n.elems) {
			return fmt.Errorf("%s: %d elements, want %d", v.Path, len(v.Array), len(n.elems))
		}
		for i, e := range n.elems {
			if err := same(e, v.Array[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

func sameMap(n *node, m *Map) error {
	if got, want := strings.Join(m.Keys(), ","), strings.Join(n.keys, ","); got != want {
		return fmt.Errorf("%s: keys %s, want %s", m.Path(), got, want)
	}
	for i, k := range n.keys {
		v, _ := m.Get(k)
		if err := same(n.elems[i], v); err != nil {
			return err
		}
	}
	return nil
}

// TestModelRoundTrip: a random tree of maps, arrays and scalars, written in a random mix
// of the format's styles, parses back to the same tree.
func TestModelRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		root := drawNode(t, 0)
		if root.kind != KindMap {
			root = &node{kind: KindMap, keys: []string{"v"}, elems: []*node{root}}
		}
		var b strings.Builder
		braces := rapid.Bool().Draw(t, "top-level braces")
		if braces {
			b.WriteString("{")
		}
		renderEntries(t, &b, root, "")
		if braces {
			b.WriteString("\n}")
		}
		src := b.String()
		m, err := Parse("t.conf", []byte(src))
		if err != nil {
			t.Fatalf("parse:\n%s\nerror: %v", src, err)
		}
		if err := sameMap(root, m); err != nil {
			t.Fatalf("parse:\n%s\n%v\ngot:\n%s", src, err, Dump(m))
		}
	})
}
