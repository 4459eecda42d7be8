package server

import (
	"time"

	"github.com/petrel-io/petrel/server/conf"
)

// The value setters: one per kind of option, each as strict as nats-server about the kind
// written (a quoted "4222" is not a port, a bare 1 is not a boolean, a bare 2m is a size and
// not a duration), so that a file nats-server refuses is refused here too; the messages are
// Petrel's, with the position.

// handler applies one key's value.
type handler = func(*conf.Value) error

// wrongKind is the error for a value of the wrong kind.
func wrongKind(v *conf.Value, want string) error {
	got := v.Raw
	if v.Kind == conf.KindMap || v.Kind == conf.KindArray {
		got = "a " + v.Kind.String()
	}
	return v.Errorf("expected %s, got %s", want, got)
}

func setString(dst *string) handler {
	return func(v *conf.Value) error {
		if v.Kind != conf.KindString {
			return wrongKind(v, "a string")
		}
		*dst = v.Str
		return nil
	}
}

func setBool(dst *bool) handler {
	return func(v *conf.Value) error {
		if v.Kind != conf.KindBool {
			return wrongKind(v, "a boolean (true/false, yes/no, on/off)")
		}
		*dst = v.Bool
		return nil
	}
}

// ignore accepts a key that changes nothing in Petrel.
func ignore(*conf.Value) error { return nil }

// ignoreKind accepts a key that changes nothing in Petrel, if its value is of the kind
// nats-server wants.
func ignoreKind(kind conf.Kind) handler {
	want := map[conf.Kind]string{conf.KindInt: "an integer", conf.KindBool: "a boolean", conf.KindString: "a string", conf.KindMap: "a map"}[kind]
	return func(v *conf.Value) error {
		if v.Kind != kind {
			return wrongKind(v, want)
		}
		return nil
	}
}

// integer reads a bare integer (sizes like 8MB count: they are integers once parsed).
func integer(v *conf.Value, want string) (int64, error) {
	if v.Kind != conf.KindInt {
		return 0, wrongKind(v, want)
	}
	return v.Int, nil
}

// setPort reads a port: 0 to 65535, or -1 for any free one.
func setPort(dst *int) handler {
	return func(v *conf.Value) error {
		n, err := integer(v, "a port")
		if err == nil && (n < -1 || n > 65535) {
			err = v.Errorf("%d is out of range", n)
		}
		*dst = int(n)
		return err
	}
}

// setLimit reads a count limit. nats-server accepts a negative one (and then admits
// nothing, or everything); Petrel warns and keeps its default.
func setLimit(a *applier, dst *int, want string) handler {
	return func(v *conf.Value) error {
		n, err := integer(v, want)
		switch {
		case err != nil:
			return err
		case n > 1<<31:
			return v.Errorf("%d is out of range", n)
		case n < 0:
			a.warn(v, "%d is not a limit Petrel applies; the default is used", n)
			n = 0
		}
		*dst = int(n)
		return nil
	}
}

// setSize reads a byte count (8MB, 4096).
func setSize(dst *int64) handler {
	return func(v *conf.Value) error {
		n, err := integer(v, "a size (like 1048576, 8MB or 1G)")
		*dst = n
		return err
	}
}

// setDuration reads a duration as the conf package does (text like "2m", or seconds).
func setDuration(dst *time.Duration) handler {
	return func(v *conf.Value) error {
		d, err := v.AsDuration()
		*dst = d
		return err
	}
}

// setDurationText reads a duration that must be written as text ("30s"): nats-server reads
// a bare 2m as the size 2,000,000 and a bare 30 as no duration, and refuses both.
func setDurationText(key string, dst *time.Duration) handler {
	return func(v *conf.Value) error {
		if v.Kind != conf.KindString {
			return v.Errorf("invalid use of field %q: %s should be converted to a duration (like \"2m\")", key, key)
		}
		return setDuration(dst)(v)
	}
}

// setSeconds reads a timeout written as seconds (possibly fractional) or as a duration.
func setSeconds(dst *time.Duration) handler {
	return func(v *conf.Value) error {
		if v.Kind == conf.KindFloat {
			*dst = time.Duration(v.Float * float64(time.Second))
			return nil
		}
		return setDuration(dst)(v)
	}
}
