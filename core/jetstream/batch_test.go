package jetstream_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// TestAtomicBatchRepublishedAndReleased: every message a committed atomic batch stored is
// republished (with its own sequence and its subject's previous one), and, with interest
// retention and nobody interested, released at once. Both used to be skipped for batches.
func TestAtomicBatchRepublishedAndReleased(t *testing.T) {
	j := newSimJS(t)
	j.mustAPI("STREAM.CREATE.AB", jsapi.StreamConfig{Name: "AB", Subjects: []string{"ab.>"}, AllowAtomicPublish: true,
		Retention: jsapi.InterestRetention, RePublish: &jsapi.RePublish{Source: "ab.>", Destination: "out.>"}},
		&jsapi.StreamCreateResponse{})
	var out []*natsclient.Msg
	j.cli.Subscribe("out.>", "", func(m *natsclient.Msg) { out = append(out, copyMsg(m)) })
	j.run(10 * time.Millisecond)
	j.cli.Publish("ab.a", "", batchHeader(1, false), []byte("1"))
	j.cli.Publish("ab.b", "", batchHeader(2, false), []byte("2"))
	ack := j.publish("ab.a", batchHeader(3, true), []byte("3"))
	if ack.PubAck == nil || ack.PubAck.BatchSize != 3 {
		t.Fatalf("commit: %+v", ack)
	}
	j.run(50 * time.Millisecond)
	if len(out) != 3 {
		t.Fatalf("%d messages republished, want 3", len(out))
	}
	first := ack.PubAck.Sequence - 2
	for i, want := range []struct {
		subj      string
		seq, last uint64
	}{{"out.a", first, 0}, {"out.b", first + 1, 0}, {"out.a", first + 2, first}} {
		h := string(out[i].Header)
		if out[i].Subject != want.subj || !strings.Contains(h, "Nats-Sequence: "+strconv.FormatUint(want.seq, 10)) ||
			!strings.Contains(h, "Nats-Last-Sequence: "+strconv.FormatUint(want.last, 10)) {
			t.Fatalf("republished %d: %s %q, want %+v", i, out[i].Subject, h, want)
		}
	}
	var info jsapi.StreamInfoResponse
	j.mustAPI("STREAM.INFO.AB", nil, &info)
	if info.State.Msgs != 0 {
		t.Fatalf("interest retention with no consumer kept %d batch messages", info.State.Msgs)
	}
}

// batchHeader is an atomic batch message's header: batch b1, message seq, the commit on
// the last.
func batchHeader(seq int, commit bool) []byte {
	h := "NATS/1.0\r\nNats-Batch-Id: b1\r\nNats-Batch-Sequence: " + strconv.Itoa(seq) + "\r\n"
	if commit {
		h += "Nats-Batch-Commit: 1\r\n"
	}
	return []byte(h + "\r\n")
}

// A waiting consumer gets a committed batch's messages once the batch is durable, with no
// later publish to wake it (the batch's completion advances the stream's durable sequence).
func TestAtomicBatchDelivered(t *testing.T) {
	j := newSimJS(t)
	j.mustAPI("STREAM.CREATE.AB", jsapi.StreamConfig{Name: "AB", Subjects: []string{"ab.>"}, AllowAtomicPublish: true},
		&jsapi.StreamCreateResponse{})
	j.mustAPI("CONSUMER.DURABLE.CREATE.AB.D", jsapi.CreateConsumerRequest{Stream: "AB",
		Config: jsapi.ConsumerConfig{Durable: "D", AckPolicy: jsapi.AckNone}}, &jsapi.ConsumerResponse{})
	got := j.pullData("AB", "D")
	j.run(10 * time.Millisecond)
	j.cli.Publish("ab.a", "", batchHeader(1, false), []byte("1"))
	if ack := j.publish("ab.b", batchHeader(2, true), []byte("2")); ack.PubAck == nil || ack.PubAck.BatchSize != 2 {
		t.Fatalf("commit: %+v", ack)
	}
	j.run(50 * time.Millisecond)
	if strings.Join(*got, ",") != "1,2" {
		t.Fatalf("delivered %q, want the batch", *got)
	}
}
