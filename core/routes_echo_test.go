package core_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A publisher with echo off that is itself a member of a queue group: every message goes to
// a member that can take it, here on another node, never to the publisher's own member to
// be dropped (found by the cluster workload, seed 4).
func TestClusterQueueSkipsPublishersOwnMemberWithEchoOff(t *testing.T) {
	r := newClusterRig(t, 2)
	remote := r.dial(2)
	r.send(remote, "SUB work q 1\r\n")
	pub := r.dialOnly(1)
	r.send(pub, strings.Replace(connectLine, `"protocol":1`, `"protocol":1,"echo":false`, 1)+"PING\r\n")
	r.send(pub, "SUB work q 1\r\n")
	const n = 40
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "PUB work 2\r\n%02d\r\n", i)
	}
	r.send(pub, b.String())
	r.run(500 * time.Millisecond)
	if got := len(msgs(remote)); got != n {
		t.Fatalf("the member on s2 got %d of %d messages; the publisher's own member (echo off) cannot take any", got, n)
	}
	if got := len(msgs(pub)); got != 0 {
		t.Fatalf("the publisher with echo off got %d of its own messages", got)
	}
}
