package jsapi

import (
	"errors"
	"strings"
	"testing"
)

func TestNewErrorFillsPlaceholdersInOrder(t *testing.T) {
	cases := []struct {
		name string
		err  *Error
		code int
		text string
	}{
		{"fixed text", NewError(ErrStreamNotFound), 404, "stream not found"},
		{"free text", NewError(ErrStreamInvalidConfig, "invalid subject"), 500, "invalid subject"},
		{"embedded argument", NewError(ErrStreamWrongLastSequence, "7"), 400, "wrong last sequence: 7"},
		{"missing argument keeps the placeholder", NewError(ErrInvalidJSON), 400, "invalid JSON: {err}"},
		{"extra argument ignored", NewError(ErrBadRequest, "x"), 400, "bad request"},
		{"two placeholders", NewError(ErrStreamExternalDelPrefixOverlaps, "p", "s"), 400,
			"stream external delivery prefix p overlaps with stream subject s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.err.Code != c.code || c.err.Description != c.text {
				t.Fatalf("got %d %q, want %d %q", c.err.Code, c.err.Description, c.code, c.text)
			}
		})
	}
}

func TestErrorIsComparesCodesOnly(t *testing.T) {
	err := error(NewError(ErrStreamInvalidConfig, "anything"))
	if !errors.Is(err, E(ErrStreamInvalidConfig)) {
		t.Fatal("same err_code must match")
	}
	if errors.Is(err, E(ErrStreamNotFound)) {
		t.Fatal("another err_code must not match")
	}
}

// The table is generated from nats-server's errors.json: every code a constant names has a
// definition, every definition is a 10xxx code with an HTTP-like status and a text.
func TestErrorTableIsComplete(t *testing.T) {
	if len(errorDefs) < 200 {
		t.Fatalf("table has %d codes, errors.json has 227", len(errorDefs))
	}
	for code, def := range errorDefs {
		if code < 10000 || code > 10999 || def.code < 400 || def.code > 599 || def.text == "" {
			t.Errorf("code %d: %+v", code, def)
		}
		if strings.Count(def.text, "{") != strings.Count(def.text, "}") {
			t.Errorf("code %d: unbalanced placeholders in %q", code, def.text)
		}
	}
	for _, code := range []ErrCode{ErrClusterNotAvailable, ErrConsumerWQRequiresExplicitAck,
		ErrConsumerCreateDurableAndNameMismatch, ErrReplicasNotSupported, ErrMirrorWithSubjects} {
		if _, ok := errorDefs[code]; !ok {
			t.Errorf("code %d has no definition", code)
		}
	}
}
