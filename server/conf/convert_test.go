package conf

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// value parses "v: <text>" and returns v.
func value(t *testing.T, text string) *Value {
	t.Helper()
	return get(t, parseText(t, "v: "+text), "v")
}

// TestSizeSuffixes checks every size suffix in three spellings against multipliers
// written out here, not taken from the implementation's table.
func TestSizeSuffixes(t *testing.T) {
	const k, ki = 1000, 1024
	cases := []struct {
		suffixes []string
		mult     int64
	}{
		{[]string{"k"}, k},
		{[]string{"m"}, k * k},
		{[]string{"g"}, k * k * k},
		{[]string{"t"}, k * k * k * k},
		{[]string{"p"}, k * k * k * k * k},
		{[]string{"e"}, k * k * k * k * k * k},
		{[]string{"kb", "ki", "kib"}, ki},
		{[]string{"mb", "mi", "mib"}, ki * ki},
		{[]string{"gb", "gi", "gib"}, ki * ki * ki},
		{[]string{"tb", "ti", "tib"}, ki * ki * ki * ki},
		{[]string{"pb", "pi", "pib"}, ki * ki * ki * ki * ki},
		{[]string{"eb", "ei", "eib"}, ki * ki * ki * ki * ki * ki},
	}
	for _, tc := range cases {
		for _, suffix := range tc.suffixes {
			spellings := []string{suffix, strings.ToUpper(suffix), strings.ToUpper(suffix[:1]) + suffix[1:]}
			for _, s := range spellings {
				for _, n := range []int64{0, 1, 3, -2} {
					text := itoa(n) + s
					v := value(t, text)
					if v.Kind != KindInt || v.Int != n*tc.mult || v.Raw != text {
						t.Errorf("%s: kind %v int %d raw %q, want %d", text, v.Kind, v.Int, v.Raw, n*tc.mult)
					}
					if got, err := value(t, `"`+text+`"`).AsSize(); err != nil || got != n*tc.mult {
						t.Errorf("quoted %s: AsSize = %d, %v", text, got, err)
					}
				}
			}
		}
	}
	for _, text := range []string{"7EB", "7e", "-8EB", "9223372036854775807"} {
		if v := value(t, text); v.Kind != KindInt {
			t.Errorf("%s at the edge of int64 should parse, got %v", text, v.Kind)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAsHelpers checks each helper on the forms it accepts and the errors it gives,
// position, path and class included.
func TestAsHelpers(t *testing.T) {
	type check func(v *Value) (any, error)
	str := func(v *Value) (any, error) { return v.AsString() }
	i64 := func(v *Value) (any, error) { return v.AsInt64() }
	size := func(v *Value) (any, error) { return v.AsSize() }
	f64 := func(v *Value) (any, error) { return v.AsFloat64() }
	boolean := func(v *Value) (any, error) { return v.AsBool() }
	dur := func(v *Value) (any, error) { return v.AsDuration() }
	list := func(v *Value) (any, error) {
		l, err := v.AsStringList()
		return strings.Join(l, "|"), err
	}
	cases := []struct {
		name string
		text string
		as   check
		want any
		err  string // "" for success
	}{
		{"string", "hello", str, "hello", ""},
		{"quoted string", `"a b"`, str, "a b", ""},
		{"number as written", "007", str, "007", ""},
		{"size as written", "8MB", str, "8MB", ""},
		{"bool as written", "Yes", str, "Yes", ""},
		{"map is no string", "{a: 1}", str, nil, "t.conf:1:4: v: expected a string, got a map"},
		{"array is no string", "[1]", str, nil, "t.conf:1:4: v: expected a string, got an array"},
		{"int", "42", i64, int64(42), ""},
		{"negative int", "-1", i64, int64(-1), ""},
		{"size", "1k", i64, int64(1000), ""},
		{"size in a string", `"8MB"`, i64, int64(8 << 20), ""},
		{"int in a string with blanks", `" 12 "`, i64, int64(12), ""},
		{"float is no int", "1.5", i64, nil, `t.conf:1:4: v: expected an integer, got "1.5"`},
		{"word is no int", "lots", i64, nil, `t.conf:1:4: v: expected an integer, got "lots"`},
		{"word is no size", "lots", size, nil, `t.conf:1:4: v: expected a size (like 1048576, 8MB or 1G), got "lots"`},
		{"bool is no size", "true", size, nil, `t.conf:1:4: v: expected a size (like 1048576, 8MB or 1G), got "true"`},
		{"size", "512KiB", size, int64(512 << 10), ""},
		{"float", "2.5", f64, 2.5, ""},
		{"int as float", "3", f64, 3.0, ""},
		{"string is no float", `"2.5"`, f64, nil, `t.conf:1:4: v: expected a number, got "2.5"`},
		{"true", "true", boolean, true, ""},
		{"off", "OFF", boolean, false, ""},
		{"enabled", "enabled", boolean, true, ""},
		{"Disabled", "Disabled", boolean, false, ""},
		{"quoted yes", `"yes"`, boolean, true, ""},
		{"no bool", "maybe", boolean, nil, `t.conf:1:4: v: expected a boolean (true/false, yes/no, on/off, enabled/disabled), got "maybe"`},
		{"number is no bool", "1", boolean, nil, `t.conf:1:4: v: expected a boolean (true/false, yes/no, on/off, enabled/disabled), got "1"`},
		{"quoted minutes", `"2m"`, dur, 2 * time.Minute, ""},
		{"bare hours", "1h", dur, time.Hour, ""},
		{"bare millis", "500ms", dur, 500 * time.Millisecond, ""},
		{"compound", "1h30m", dur, 90 * time.Minute, ""},
		{"bare minutes parse as a size but mean minutes", "10m", dur, 10 * time.Minute, ""},
		{"integer seconds", "30", dur, 30 * time.Second, ""},
		{"zero", "0", dur, time.Duration(0), ""},
		{"negative seconds", "-5", dur, -5 * time.Second, ""},
		{"a size is no duration", "1k", dur, nil, `t.conf:1:4: v: expected a duration (like 2m, 500ms, 1h30m, or seconds), got "1k"`},
		{"a float is no duration", "1.5", dur, nil, `t.conf:1:4: v: expected a duration (like 2m, 500ms, 1h30m, or seconds), got "1.5"`},
		{"a word is no duration", "soon", dur, nil, `t.conf:1:4: v: expected a duration (like 2m, 500ms, 1h30m, or seconds), got "soon"`},
		{"too many seconds", "9223372036854775807", dur, nil, `t.conf:1:4: v: expected a duration (like 2m, 500ms, 1h30m, or seconds), got "9223372036854775807"`},
		{"one string as a list", `"foo.>"`, list, "foo.>", ""},
		{"array as a list", "[a, b.*, 3]", list, "a|b.*|3", ""},
		{"empty list", "[]", list, "", ""},
		{"map is no list", "{}", list, nil, "t.conf:1:4: v: expected a string or an array of strings, got a map"},
		{"element error names the element", "[a, {b: 1}]", list, nil, "t.conf:1:8: v[1]: expected a string, got a map"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.as(value(t, tc.text))
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("%s: error %v, want %s", tc.text, err, tc.err)
				}
				if !errors.Is(err, ErrType) {
					t.Errorf("%s: error %v is not ErrType", tc.text, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("%s: got %v (%T), %v; want %v (%T)", tc.text, got, got, err, tc.want, tc.want)
			}
		})
	}
}

// TestContainerHelpers checks AsMap and AsArray.
func TestContainerHelpers(t *testing.T) {
	m, err := value(t, "{a: 1}").AsMap()
	if err != nil || m.Len() != 1 {
		t.Errorf("AsMap = %v, %v", m, err)
	}
	a, err := value(t, "[1, 2]").AsArray()
	if err != nil || len(a) != 2 {
		t.Errorf("AsArray = %v, %v", a, err)
	}
	if _, err := value(t, "x").AsMap(); err == nil || err.Error() != `t.conf:1:4: v: expected a map, got "x"` {
		t.Errorf("AsMap on a string: %v", err)
	}
	if _, err := value(t, "{}").AsArray(); err == nil || err.Error() != `t.conf:1:4: v: expected an array, got a map` {
		t.Errorf("AsArray on a map: %v", err)
	}
}

// TestHelperErrorsNameTheVariable checks that an error about a value that came through a
// variable says where the variable was defined, or that it came from the environment.
func TestHelperErrorsNameTheVariable(t *testing.T) {
	w := &world{env: map[string]string{"MP": "lots"}}
	m, err := w.parser().Parse("petrel.conf", []byte("LOTS = lots\n\nx {\n  max_payload: $LOTS\n  max_pending: $MP\n}"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = get(t, m, "x", "max_payload").AsSize()
	want := `petrel.conf:4:16: x.max_payload: expected a size (like 1048576, 8MB or 1G), got "lots" (from $LOTS defined at petrel.conf:1:8)`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	_, err = get(t, m, "x", "max_pending").AsInt64()
	want = `petrel.conf:5:16: x.max_pending: expected an integer, got "lots" (from $MP in the environment)`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// TestErrorf checks the caller's own positioned errors.
func TestErrorf(t *testing.T) {
	v := get(t, parseText(t, "jetstream {\n  max_mem: -5\n}"), "jetstream", "max_mem")
	err := v.Errorf("must be at least %d", 0)
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) ||
		err.Error() != "t.conf:2:12: jetstream.max_mem: must be at least 0" {
		t.Errorf("Errorf = %v", err)
	}
	if e.Pos.Line != 2 || e.Key != "jetstream.max_mem" {
		t.Errorf("Errorf fields %+v", e)
	}
}

// TestDurationOverflowEdge checks the seconds bound exactly.
func TestDurationOverflowEdge(t *testing.T) {
	limit := math.MaxInt64 / int64(time.Second)
	if d, err := value(t, itoa(limit)).AsDuration(); err != nil || d != time.Duration(limit)*time.Second {
		t.Errorf("%d seconds: %v, %v", limit, d, err)
	}
	if _, err := value(t, itoa(limit+1)).AsDuration(); err == nil {
		t.Errorf("%d seconds overflow but parsed", limit+1)
	}
}
