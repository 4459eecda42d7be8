package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
)

// Delivery rules the nats workload's sweep checks, pinned here as unit tests too (each once
// escaped the unit tests as a planted bug: testdata/mutants/core-*.mutant).

const plainConnect = "CONNECT {\"verbose\":false,\"headers\":true,\"no_responders\":true}\r\n"

func countMsgs(c *rawClient) int {
	n := 0
	for _, l := range lines(c) {
		if strings.HasPrefix(l, "MSG ") || strings.HasPrefix(l, "HMSG ") {
			n++
		}
	}
	return n
}

func TestQueueGroupGetsEachMessageOnce(t *testing.T) {
	r := newRig(t, core.Options{})
	a, b, pub := r.dial(), r.dial(), r.dial()
	r.send(a, plainConnect+"SUB work g 1\r\n")
	r.send(b, plainConnect+"SUB work g 1\r\n")
	r.send(pub, plainConnect+strings.Repeat("PUB work 1\r\nx\r\n", 20)+"PING\r\n")
	r.run(100 * time.Millisecond)
	if got := countMsgs(a) + countMsgs(b); got != 20 {
		t.Fatalf("queue group members got %d + %d messages for 20 published, want 20 in all", countMsgs(a), countMsgs(b))
	}
}

func TestRequestTakenByQueueGroupGetsNo503(t *testing.T) {
	r := newRig(t, core.Options{})
	svc, req := r.dial(), r.dial()
	r.send(svc, plainConnect+"SUB svc g 1\r\n")
	req.got.Reset()
	r.send(req, plainConnect+"SUB _INBOX.r.* 2\r\nPUB svc _INBOX.r.1 1\r\nx\r\nPING\r\n")
	expectLines(t, req, "PONG")
	if got := countMsgs(svc); got != 1 {
		t.Fatalf("the service got %d requests, want 1", got)
	}
}

// UNSUB <max> counts from the SUB: a subscription that already had two messages gets one
// more under UNSUB 1 3, and one that already had its max is dropped at once.
func TestUnsubMaxCountsFromTheSub(t *testing.T) {
	cases := []struct {
		name  string
		max   string
		total int
	}{
		{"one more", "3", 3},
		{"already reached", "2", 2},
		{"already past", "1", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, core.Options{})
			c := r.dial()
			r.send(c, plainConnect+"SUB a 1\r\nPUB a 1\r\nx\r\nPUB a 1\r\ny\r\nPING\r\n")
			r.send(c, "UNSUB 1 "+tc.max+"\r\n"+strings.Repeat("PUB a 1\r\nz\r\n", 5)+"PING\r\n")
			if got := countMsgs(c); got != tc.total {
				t.Fatalf("UNSUB 1 %s after two messages: %d messages in all, want %d", tc.max, got, tc.total)
			}
		})
	}
}
