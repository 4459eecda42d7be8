package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The As* helpers read a value as what an option needs. Each error is an *Error at the
// value's position naming its path, classified ErrType, so the server can print
// "petrel.conf:12:16: max_payload: expected a size (like 1048576, 8MB or 1G), got "lots"".

// Errorf returns an *Error at the value's position naming its path, classified
// ErrInvalid, for a caller's own checks ("must be positive").
func (v *Value) Errorf(format string, args ...any) error {
	return &Error{Pos: v.Pos, Key: v.Path, Msg: fmt.Sprintf(format, args...) + v.origin(), Err: ErrInvalid}
}

func (v *Value) typeError(want string) error {
	return &Error{Pos: v.Pos, Key: v.Path, Msg: "expected " + want + ", got " + v.describe() + v.origin(), Err: ErrType}
}

// describe shows the value in an error: quoted text for scalars, the kind for containers.
func (v *Value) describe() string {
	switch v.Kind {
	case KindMap:
		return "a map"
	case KindArray:
		return "an array"
	case KindString:
		return strconv.Quote(v.Str)
	}
	return strconv.Quote(v.Raw)
}

// origin tells where a value that came through a variable was written.
func (v *Value) origin() string {
	switch {
	case v.Var == "":
		return ""
	case v.VarPos.Line == 0:
		return fmt.Sprintf(" (from $%s in the environment)", v.Var)
	}
	return fmt.Sprintf(" (from $%s defined at %s)", v.Var, v.VarPos)
}

// AsString returns a string, or the text of a bare number or boolean exactly as written
// (a user named 1234, a password "yes"). Maps and arrays are errors.
func (v *Value) AsString() (string, error) {
	switch v.Kind {
	case KindString:
		return v.Str, nil
	case KindInt, KindFloat, KindBool:
		return v.Raw, nil
	}
	return "", v.typeError("a string")
}

// AsInt64 returns an integer: a bare one (size suffixes applied, "8MB" is 8388608) or a
// string holding one ("8MB" in quotes).
func (v *Value) AsInt64() (int64, error) {
	if n, ok := v.int64(); ok {
		return n, nil
	}
	return 0, v.typeError("an integer")
}

// AsSize is AsInt64 with an error message that asks for a size, for byte counts.
func (v *Value) AsSize() (int64, error) {
	if n, ok := v.int64(); ok {
		return n, nil
	}
	return 0, v.typeError("a size (like 1048576, 8MB or 1G)")
}

func (v *Value) int64() (int64, bool) {
	switch v.Kind {
	case KindInt:
		return v.Int, true
	case KindString:
		return parseSize(v.Str)
	}
	return 0, false
}

// AsFloat64 returns a float, or an integer as a float.
func (v *Value) AsFloat64() (float64, error) {
	switch v.Kind {
	case KindFloat:
		return v.Float, nil
	case KindInt:
		return float64(v.Int), nil
	}
	return 0, v.typeError("a number")
}

// textBools are the words AsBool accepts in strings, lower-cased: the bare boolean words
// and nats-server's "enabled"/"disabled".
var textBools = map[string]bool{
	"true": true, "yes": true, "on": true, "enabled": true,
	"false": false, "no": false, "off": false, "disabled": false,
}

// AsBool returns a boolean: true/false, yes/no, on/off bare, or those and
// enabled/disabled in a string, in any case.
func (v *Value) AsBool() (bool, error) {
	switch v.Kind {
	case KindBool:
		return v.Bool, nil
	case KindString:
		if b, ok := textBools[strings.ToLower(strings.TrimSpace(v.Str))]; ok {
			return b, nil
		}
	}
	return false, v.typeError("a boolean (true/false, yes/no, on/off, enabled/disabled)")
}

// AsDuration returns a duration written as Go writes one ("2m", "500ms", "1h30m", quoted
// or not) or a bare integer meaning seconds. A bare "10m" parses as a size (ten million)
// but was written as a duration; the text as written decides.
func (v *Value) AsDuration() (time.Duration, error) {
	switch v.Kind {
	case KindString:
		if d, err := time.ParseDuration(strings.TrimSpace(v.Str)); err == nil {
			return d, nil
		}
	case KindInt:
		if d, err := time.ParseDuration(strings.TrimSpace(v.Raw)); err == nil {
			return d, nil
		}
		if _, rest := splitDigits(strings.TrimSpace(v.Raw)); rest == "" &&
			v.Int <= math.MaxInt64/int64(time.Second) && v.Int >= math.MinInt64/int64(time.Second) {
			return time.Duration(v.Int) * time.Second, nil
		}
	}
	return 0, v.typeError("a duration (like 2m, 500ms, 1h30m, or seconds)")
}

// AsMap returns a map.
func (v *Value) AsMap() (*Map, error) {
	if v.Kind == KindMap {
		return v.Map, nil
	}
	return nil, v.typeError("a map")
}

// AsArray returns an array's elements (shared: the caller must not change them).
func (v *Value) AsArray() ([]*Value, error) {
	if v.Kind == KindArray {
		return v.Array, nil
	}
	return nil, v.typeError("an array")
}

// AsStringList returns an array of strings, or a single string as a list of one (as
// nats-server accepts `publish: "foo.>"` for `publish: ["foo.>"]`). An element that is
// not a string is an error at that element.
func (v *Value) AsStringList() ([]string, error) {
	if v.Kind != KindArray {
		s, err := v.AsString()
		if err != nil {
			return nil, v.typeError("a string or an array of strings")
		}
		return []string{s}, nil
	}
	out := make([]string, 0, len(v.Array))
	for _, elem := range v.Array {
		s, err := elem.AsString()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}
