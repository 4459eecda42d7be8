package jetstream_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// The shape of TestE2EJetStreamKill9's CI failure (confirmed ack of 2010 lost: ack floor
// 1820, delivered 4100, where round 0 had confirmed 1..1820): a confirmation covers the acks
// sent before it on its own connection only. Plain acks never confirmed are lost to a crash,
// their messages stay pending until their ack wait ends, and the floor waits below them,
// under the acks a new connection has since had confirmed. Those confirmed acks are kept
// (not pending, never delivered again), which is the promise; the floor is not a measure of
// it.
func TestConfirmedAcksAboveLostPlainAcks(t *testing.T) {
	j := newSimJS(t)
	j.mustAPI("STREAM.CREATE.K", jsapi.StreamConfig{Name: "K", Subjects: []string{"k"}}, nil)
	j.mustAPI("CONSUMER.CREATE.K.D", jsapi.CreateConsumerRequest{Stream: "K",
		Config: jsapi.ConsumerConfig{Durable: "D", AckPolicy: jsapi.AckExplicit, AckWait: 30 * time.Second}}, nil)
	for range 10 {
		j.publish("k", nil, []byte("m"))
	}
	first := j.pullAcks("K", "D", 10)
	checkDelivered(t, "first pull", first, []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 1)
	j.doubleAck(first[0:2])
	for _, d := range first[2:5] { // plain acks, never confirmed: the crash takes them
		j.cli.Publish(d.reply, "", nil, []byte("+ACK"))
	}
	j.restartServer()

	// A new connection: 3 to 5 wait out their ack wait; 6 to 10 are pending too (delivered
	// before the crash), so nothing is due and a pull gets nothing yet.
	if got := j.pullAcks("K", "D", 10); len(got) != 0 {
		t.Fatalf("delivered %v within the ack wait", got)
	}
	j.doubleAck(first[5:]) // the stale deliveries' acks still count, confirmed
	j.restartServer()

	var info jsapi.ConsumerResponse
	j.mustAPI("CONSUMER.INFO.K.D", nil, &info)
	ci := info.ConsumerInfo
	if ci.AckFloor.Stream != 2 || ci.Delivered.Stream != 10 || ci.NumAckPending != 3 {
		t.Fatalf("after the second crash: floor %+v, delivered %+v, %d pending; want floor 2, delivered 10, 3 pending (3 to 5)",
			ci.AckFloor, ci.Delivered, ci.NumAckPending)
	}
	j.run(31 * time.Second)
	again := j.pullAcks("K", "D", 10)
	checkDelivered(t, "after the ack wait", again, []uint64{3, 4, 5}, 2)
}

// ackable is a delivery: its stream seq, how many times it was delivered, its ack subject.
type ackable struct {
	seq, count uint64
	reply      string
}

// pullAcks sends one pull for up to n messages (100 ms) and returns what it delivered.
func (j *simJS) pullAcks(stream, consumer string, n int) []ackable {
	j.t.Helper()
	var got []ackable
	inbox := j.newInbox()
	sub := j.cli.Subscribe(inbox, "", func(m *natsclient.Msg) {
		if info, ok := jsapi.ParseAck(m.Reply); ok {
			got = append(got, ackable{seq: info.StreamSeq, count: info.Delivered, reply: m.Reply})
		}
	})
	body, err := json.Marshal(jsapi.NextRequest{Batch: n, Expires: 100 * time.Millisecond})
	if err != nil {
		j.t.Fatal(err)
	}
	j.cli.Publish(jsapi.Prefix+"CONSUMER.MSG.NEXT."+stream+"."+consumer, inbox, nil, body)
	j.run(200 * time.Millisecond)
	j.cli.Unsubscribe(sub, 0)
	return got
}

// doubleAck acks each delivery with a reply and waits for the server's confirmation.
func (j *simJS) doubleAck(ds []ackable) {
	j.t.Helper()
	for _, d := range ds {
		if m := j.request(d.reply, []byte("+ACK")); m == nil || len(m.Header) > 0 {
			j.t.Fatalf("double ack of %d: no confirmation (%v)", d.seq, m)
		}
	}
}

func checkDelivered(t *testing.T, what string, got []ackable, want []uint64, count uint64) {
	t.Helper()
	var seqs []uint64
	for _, d := range got {
		seqs = append(seqs, d.seq)
		if d.count != count {
			t.Fatalf("%s: seq %d delivered %d times, want %d", what, d.seq, d.count, count)
		}
	}
	if !slices.Equal(seqs, want) {
		t.Fatalf("%s: delivered %v, want %v", what, seqs, want)
	}
}
