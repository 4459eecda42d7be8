package conf

import (
	"strconv"
	"strings"
)

// Dump renders a parsed tree as text, one value per line in file order with its kind,
// value, position and variable marks, for golden tests and for showing what a
// configuration file means. A value reached through a variable is shown as a reference
// and not expanded again (the definition shows it), so the output stays proportional to
// the input even when variables nest.
//
//	port int 4222 @petrel.conf:1:7
//	max_payload int 8388608 raw "8MB" @petrel.conf:2:14
//	PORT int 4222 @petrel.conf:3:8 (used as variable)
//	listen_port int 4222 @petrel.conf:4:14 from $PORT@petrel.conf:3:8
func Dump(m *Map) string {
	var b strings.Builder
	dumpMap(&b, m, 0)
	return b.String()
}

func dumpMap(b *strings.Builder, m *Map, depth int) {
	for _, e := range m.entries {
		if e.Value != nil {
			dumpValue(b, dumpKey(e.Key), e.Value, depth)
		}
	}
}

// dumpKey quotes keys that would not read back as one bare word.
func dumpKey(key string) string {
	if strings.ContainsAny(key, " \t\r\n\"'=:{}[],;#") || key == "" {
		return strconv.Quote(key)
	}
	return key
}

func dumpValue(b *strings.Builder, label string, v *Value, depth int) {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString(label + " " + v.Kind.String())
	switch v.Kind {
	case KindString:
		b.WriteString(" " + strconv.Quote(v.Str))
	case KindInt:
		b.WriteString(" " + strconv.FormatInt(v.Int, 10))
	case KindFloat:
		b.WriteString(" " + strconv.FormatFloat(v.Float, 'g', -1, 64))
	case KindBool:
		b.WriteString(" " + strconv.FormatBool(v.Bool))
	case KindMap:
		b.WriteString(" (" + strconv.Itoa(v.Map.Len()) + ")")
	case KindArray:
		b.WriteString(" (" + strconv.Itoa(len(v.Array)) + ")")
	}
	// Quoted strings always differ from their raw text; show raw only for bare scalars.
	if v.Kind != KindMap && v.Kind != KindArray && v.Kind != KindString && v.Raw != canonical(v) {
		b.WriteString(" raw " + strconv.Quote(v.Raw))
	}
	b.WriteString(" @" + v.Pos.String())
	switch {
	case v.Var != "" && v.VarPos.Line == 0:
		b.WriteString(" from $" + v.Var + " (environment)")
	case v.Var != "":
		b.WriteString(" from $" + v.Var + "@" + v.VarPos.String())
	}
	if v.UsedAsVariable {
		b.WriteString(" (used as variable)")
	}
	b.WriteString("\n")
	if v.Var != "" {
		return
	}
	switch v.Kind {
	case KindMap:
		dumpMap(b, v.Map, depth+1)
	case KindArray:
		for i, elem := range v.Array {
			dumpValue(b, "["+strconv.Itoa(i)+"]", elem, depth+1)
		}
	}
}

// canonical is how Dump shows a bare number or boolean; Raw is shown too only when it differs.
func canonical(v *Value) string {
	switch v.Kind {
	case KindInt:
		return strconv.FormatInt(v.Int, 10)
	case KindFloat:
		return strconv.FormatFloat(v.Float, 'g', -1, 64)
	case KindBool:
		return strconv.FormatBool(v.Bool)
	}
	return ""
}
