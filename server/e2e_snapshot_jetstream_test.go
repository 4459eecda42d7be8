package server

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natscli v0.5.0's `nats stream backup` of a Petrel stream (with a consumer), `nats stream
// rm`, then `nats stream restore` of that backup give back the same messages (subjects,
// payloads, headers, sequences with their gaps) and the consumer's position.
func TestE2EJetStreamNatscliBackupRestore(t *testing.T) {
	cli := natsCLI(t)
	p, _ := startJS(t)
	_, js, ctx := jsClient(t, p)
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "BK", Subjects: []string{"bk.>"}})
	must(t, err)
	for i := 1; i <= 300; i++ {
		msg := &nats.Msg{Subject: fmt.Sprintf("bk.%d", i%7), Data: bytes.Repeat([]byte(fmt.Sprintf("%d,", i)), i), Header: nats.Header{}}
		msg.Header.Set("N", fmt.Sprint(i))
		_, err := js.PublishMsg(ctx, msg)
		must(t, err)
	}
	s, err := js.Stream(ctx, "BK")
	must(t, err)
	must(t, s.DeleteMsg(ctx, 100))
	c, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "C", AckPolicy: jetstream.AckExplicitPolicy})
	must(t, err)
	batch, err := c.FetchNoWait(20)
	must(t, err)
	for m := range batch.Messages() {
		must(t, m.Ack())
	}
	before := readAll(t, ctx, s, 300)
	cinfo, err := c.Info(ctx)
	must(t, err)

	dir := filepath.Join(t.TempDir(), "backup")
	natscli(t, cli, p, "stream", "backup", "BK", dir, "--consumers", "--no-progress")
	natscli(t, cli, p, "stream", "rm", "BK", "-f")
	if _, err := js.Stream(ctx, "BK"); err == nil {
		t.Fatal("the stream is still there after rm")
	}
	natscli(t, cli, p, "stream", "restore", dir, "--no-progress")

	s, err = js.Stream(ctx, "BK")
	must(t, err)
	if after := readAll(t, ctx, s, 300); !slices.Equal(before, after) {
		t.Fatalf("restored messages differ")
	}
	c, err = s.Consumer(ctx, "C")
	must(t, err)
	got, err := c.Info(ctx)
	must(t, err)
	// Positions, not last_active: that is when this server last delivered or took an ack.
	same := func(a, b jetstream.SequenceInfo) bool { return a.Consumer == b.Consumer && a.Stream == b.Stream }
	if !same(got.Delivered, cinfo.Delivered) || !same(got.AckFloor, cinfo.AckFloor) || got.NumPending != cinfo.NumPending {
		t.Fatalf("restored consumer %+v %+v %d, want %+v %+v %d", got.Delivered, got.AckFloor, got.NumPending,
			cinfo.Delivered, cinfo.AckFloor, cinfo.NumPending)
	}
}

func natscli(t *testing.T, cli string, p *proc, args ...string) {
	t.Helper()
	out, err := exec.Command(cli, append([]string{"-s", p.url(), "--timeout", "5s"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("nats %v: %v\n%s", args, err, out)
	}
}

// readAll gets sequences 1..last ("" for a missing one) as subject, header N and data.
func readAll(t *testing.T, ctx context.Context, s jetstream.Stream, last uint64) []string {
	t.Helper()
	out := make([]string, 0, last)
	for seq := uint64(1); seq <= last; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			out = append(out, "missing: "+err.Error())
			continue
		}
		out = append(out, m.Subject+" "+m.Header.Get("N")+" "+string(m.Data))
	}
	return out
}
