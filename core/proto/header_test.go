package proto

import "testing"

func TestHeaderValue(t *testing.T) {
	hdr := []byte("NATS/1.0\r\nNats-Msg-Id: abc\r\nNats-Expected-Last-Sequence:  7 \r\nX: \r\n\r\n")
	cases := []struct {
		key, want string
		has       bool
	}{
		{"Nats-Msg-Id", "abc", true},
		{"Nats-Expected-Last-Sequence", "7", true},
		{"X", "", true},
		{"Nats-Msg", "", false},
		{"nats-msg-id", "", false},
	}
	for _, c := range cases {
		if got := HeaderValue(hdr, c.key); got != c.want || HasHeader(hdr, c.key) != c.has {
			t.Errorf("%s: got %q has=%v, want %q has=%v", c.key, got, HasHeader(hdr, c.key), c.want, c.has)
		}
	}
	if HeaderValue(nil, "X") != "" || HeaderValue([]byte("NATS/1.0"), "X") != "" {
		t.Fatal("empty or cut header blocks have no values")
	}
}

func TestRemoveHeaders(t *testing.T) {
	hdr := []byte("NATS/1.0\r\nNats-Expected-Stream: S\r\nA: 1\r\nNats-Expected-Last-Sequence: 2\r\n\r\n")
	if got := string(RemoveHeaders(hdr, "Nats-Expected-")); got != "NATS/1.0\r\nA: 1\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
	only := []byte("NATS/1.0\r\nNats-Expected-Stream: S\r\n\r\n")
	if got := RemoveHeaders(only, "Nats-Expected-"); got != nil {
		t.Fatalf("a block left empty is dropped, got %q", got)
	}
	if got := RemoveHeaders(hdr, "Zz"); &got[0] != &hdr[0] {
		t.Fatal("nothing to remove returns the block itself")
	}
}

func TestAppendAndStatusHeader(t *testing.T) {
	if got := string(AppendHeader(nil, "K", "v")); got != "NATS/1.0\r\nK: v\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := string(AppendHeader([]byte("NATS/1.0\r\nA: 1\r\n\r\n"), "K", "v")); got != "NATS/1.0\r\nA: 1\r\nK: v\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
	got := string(StatusHeader(409, "Batch Completed", "Nats-Pending-Messages", "3"))
	if got != "NATS/1.0 409 Batch Completed\r\nNats-Pending-Messages: 3\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
	if got := string(StatusHeader(100, "")); got != "NATS/1.0 100\r\n\r\n" {
		t.Fatalf("got %q", got)
	}
}
