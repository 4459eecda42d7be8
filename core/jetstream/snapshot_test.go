package jetstream_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jetstream"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// snapshotWait bounds (virtual time) a whole snapshot flow in these tests.
const snapshotWait = 15 * time.Second

// snapshotRun is what a client saw of one STREAM.SNAPSHOT.
type snapshotRun struct {
	resp   jsapi.SnapshotResponse
	data   []byte
	chunks int
	status string // the closing message's status ("" if none came)
}

// snapshot drives STREAM.SNAPSHOT as jsm.go does: the deliver inbox sits under a wildcard
// the client already holds (its request-reply mux), its own subscription comes only after
// the answer, and each chunk is answered at once when ack is set.
func (j *simJS) snapshot(stream string, req jsapi.SnapshotRequest, ack bool) *snapshotRun {
	j.t.Helper()
	run := &snapshotRun{}
	mux := j.cli.Subscribe("_INBOX.mux.*", "", func(*natsclient.Msg) {})
	req.DeliverSubject = "_INBOX.mux." + fmt.Sprint(j.inbox+1000)
	if e := j.api("STREAM.SNAPSHOT."+stream, req, &run.resp); e != nil {
		run.resp.Error = e
		return run
	}
	done := false
	j.cli.Subscribe(req.DeliverSubject, "", func(m *natsclient.Msg) {
		if len(m.Data) == 0 {
			run.status, done = statusOf(m), true
			return
		}
		run.chunks++
		run.data = append(run.data, m.Data...)
		if ack && m.Reply != "" {
			j.cli.Publish(m.Reply, "", nil, nil)
		}
	})
	for deadline := j.w.Now() + snapshotWait; !done && j.w.Now() < deadline; {
		j.run(time.Millisecond)
	}
	j.cli.Unsubscribe(mux, 0)
	return run
}

// restore drives STREAM.RESTORE as jsm.go does: chunks of size chunk, each a request, then
// an empty one whose answer is the stream's.
func (j *simJS) restore(stream string, cfg jsapi.StreamConfig, data []byte, chunk int) (*jsapi.StreamCreateResponse, *jsapi.Error) {
	j.t.Helper()
	var rr jsapi.RestoreResponse
	if e := j.api("STREAM.RESTORE."+stream, jsapi.RestoreRequest{Config: cfg}, &rr); e != nil {
		return nil, e
	}
	for off := 0; off < len(data); off += chunk {
		m := j.request(rr.DeliverSubject, data[off:min(off+chunk, len(data))])
		if m == nil {
			j.t.Fatalf("restore chunk at %d: no answer", off)
		}
		if len(m.Data) > 0 {
			var resp jsapi.StreamCreateResponse
			if err := json.Unmarshal(m.Data, &resp); err != nil || resp.Error == nil {
				j.t.Fatalf("restore chunk at %d: answer %q", off, m.Data)
			}
			return nil, resp.Error
		}
	}
	m := j.request(rr.DeliverSubject, nil)
	if m == nil {
		j.t.Fatal("restore: no final answer")
	}
	var resp jsapi.StreamCreateResponse
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		j.t.Fatalf("restore: final answer %q: %v", m.Data, err)
	}
	if resp.Type != jsapi.StreamCreateType {
		j.t.Fatalf("restore: final answer of type %q", resp.Type)
	}
	return &resp, resp.Error
}

// fillOrders makes stream ORDERS with messages (some with msg ids, some deleted) and a
// durable pull consumer C1 that got 10 messages and acknowledged 4.
func (j *simJS) fillOrders(n int) {
	j.t.Helper()
	j.mustAPI("STREAM.CREATE.ORDERS", jsapi.StreamConfig{Name: "ORDERS", Subjects: []string{"orders.>"}}, nil)
	for i := 1; i <= n; i++ {
		var hdr []byte
		if i%5 == 0 {
			hdr = msgIDHeader(fmt.Sprintf("id-%d", i))
		}
		j.publish(fmt.Sprintf("orders.%d", i%4), hdr, []byte(strings.Repeat(fmt.Sprintf("m%d;", i), 1+i%50)))
	}
	for _, seq := range []uint64{10, 11, 50} {
		j.mustAPI("STREAM.MSG.DELETE.ORDERS", jsapi.MsgDeleteRequest{Seq: seq}, nil)
	}
	j.mustAPI("CONSUMER.CREATE.ORDERS.C1", jsapi.CreateConsumerRequest{Stream: "ORDERS",
		Config: jsapi.ConsumerConfig{Durable: "C1", AckPolicy: jsapi.AckExplicit, AckWait: time.Minute}}, nil)
	inbox := j.newInbox()
	var replies []string
	j.cli.Subscribe(inbox, "", func(m *natsclient.Msg) { replies = append(replies, m.Reply) })
	body, _ := json.Marshal(jsapi.NextRequest{Batch: 10})
	j.cli.Publish(jsapi.Prefix+"CONSUMER.MSG.NEXT.ORDERS.C1", inbox, nil, body)
	j.run(200 * time.Millisecond)
	if len(replies) != 10 {
		j.t.Fatalf("pulled %d messages, want 10", len(replies))
	}
	for _, r := range []int{0, 1, 2, 5} {
		j.cli.Publish(replies[r], "", nil, []byte("+ACK"))
	}
	j.run(100 * time.Millisecond)
}

// streamContent reads every sequence of a stream up to last with MSG.GET.
func (j *simJS) streamContent(stream string, last uint64) []string {
	out := make([]string, 0, last)
	for seq := uint64(1); seq <= last; seq++ {
		var resp jsapi.MsgGetResponse
		if e := j.api("STREAM.MSG.GET."+stream, jsapi.MsgGetRequest{Seq: seq}, &resp); e != nil {
			out = append(out, fmt.Sprintf("%d: error %d", seq, e.ErrCode))
			continue
		}
		m := resp.Message
		out = append(out, fmt.Sprintf("%d: %s %q %q %d", seq, m.Subject, m.Header, m.Data, m.Time.UnixNano()))
	}
	return out
}

func (j *simJS) consumerInfo(stream, name string) jsapi.ConsumerInfo {
	var resp jsapi.ConsumerResponse
	j.mustAPI("CONSUMER.INFO."+stream+"."+name, nil, &resp)
	info := *resp.ConsumerInfo
	info.TimeStamp = time.Time{}
	return info
}

// A stream backed up, deleted and restored has the same messages (gaps, headers, times),
// state, creation time and consumer state; the restore survives a machine crash; a
// duplicate of a restored msg id is still caught.
func TestSnapshotRestoreRoundTrip(t *testing.T) {
	j := newSimJS(t)
	j.fillOrders(120)
	var before jsapi.StreamInfoResponse
	j.mustAPI("STREAM.INFO.ORDERS", nil, &before)
	content := j.streamContent("ORDERS", before.State.LastSeq)
	consumer := j.consumerInfo("ORDERS", "C1")

	run := j.snapshot("ORDERS", jsapi.SnapshotRequest{ChunkSize: 1024, WindowSize: 2048}, true)
	if run.resp.Error != nil || run.status != "204" || run.chunks < 3 {
		t.Fatalf("snapshot: error %+v, status %q, %d chunks", run.resp.Error, run.status, run.chunks)
	}
	if run.resp.State == nil || run.resp.State.Msgs != before.State.Msgs || run.resp.Config.Name != "ORDERS" {
		t.Fatalf("snapshot answer %+v", run.resp)
	}
	snap, err := jetstream.DecodeSnapshot(run.data, jetstream.SnapshotBytesMax)
	if err != nil || len(snap.Consumers) != 1 || snap.Consumers[0].Name != "C1" {
		t.Fatalf("decode what the client got: %v %+v", err, snap)
	}

	j.mustAPI("STREAM.DELETE.ORDERS", nil, nil)
	resp, e := j.restore("ORDERS", *run.resp.Config, run.data, 700)
	if e != nil {
		t.Fatalf("restore: %d %s", e.ErrCode, e.Description)
	}
	if !reflect.DeepEqual(resp.State, before.State) || !resp.Created.Equal(before.Created) {
		t.Fatalf("restored state %+v created %v, want %+v %v", resp.State, resp.Created, before.State, before.Created)
	}
	checkRestored(t, j, content, &consumer)
	checkDuplicate(t, j)
	j.restartServer()
	checkRestored(t, j, content, &consumer)
	checkDuplicate(t, j)
}

// checkDuplicate publishes again a msg id the restored stream holds.
func checkDuplicate(t *testing.T, j *simJS) {
	t.Helper()
	ack := j.publish("orders.0", msgIDHeader("id-115"), []byte("again"))
	if !ack.Duplicate || ack.Sequence != 115 {
		t.Fatalf("a restored msg id is not caught as a duplicate: %+v", ack.PubAck)
	}
}

func checkRestored(t *testing.T, j *simJS, content []string, consumer *jsapi.ConsumerInfo) {
	t.Helper()
	if got := j.streamContent("ORDERS", uint64(len(content))); !reflect.DeepEqual(got, content) {
		t.Fatalf("restored content differs:\n got %q\nwant %q", got, content)
	}
	if consumer == nil {
		return
	}
	// Positions, not last_active (when this server last delivered or took an ack).
	same := func(a, b jsapi.SequenceInfo) bool { return a.Consumer == b.Consumer && a.Stream == b.Stream }
	if got := j.consumerInfo("ORDERS", "C1"); !same(got.Delivered, consumer.Delivered) || !same(got.AckFloor, consumer.AckFloor) ||
		got.NumAckPending != consumer.NumAckPending || !got.Created.Equal(consumer.Created) {
		t.Fatalf("restored consumer %+v, want %+v", got, consumer)
	}
}

// The API's refusals, with nats-server's codes.
func TestSnapshotRestoreRefusals(t *testing.T) {
	j := newSimJS(t)
	j.fillOrders(60)
	expectError(t, "snapshot without a body", j.api("STREAM.SNAPSHOT.ORDERS", nil, nil), jsapi.ErrBadRequest)
	expectError(t, "snapshot of no stream", j.api("STREAM.SNAPSHOT.NONE", jsapi.SnapshotRequest{DeliverSubject: "x"}, nil), jsapi.ErrStreamNotFound)
	expectError(t, "snapshot to a wildcard", j.api("STREAM.SNAPSHOT.ORDERS", jsapi.SnapshotRequest{DeliverSubject: "x.*"}, nil),
		jsapi.ErrSnapshotDeliverSubjectInvalid)
	expectError(t, "restore without a body", j.api("STREAM.RESTORE.ORDERS", nil, nil), jsapi.ErrBadRequest)
	expectError(t, "restore over a stream", j.api("STREAM.RESTORE.ORDERS", jsapi.RestoreRequest{}, nil), jsapi.ErrStreamNameExistRestoreFailed)
	expectError(t, "restore under another name", j.api("STREAM.RESTORE.OTHER", jsapi.RestoreRequest{Config: jsapi.StreamConfig{Name: "ORDERS"}}, nil),
		jsapi.ErrStreamMismatch)
	expectError(t, "restore over taken subjects",
		j.api("STREAM.RESTORE.OTHER", jsapi.RestoreRequest{Config: jsapi.StreamConfig{Subjects: []string{"orders.1"}}}, nil),
		jsapi.ErrStreamSubjectOverlap)

	run := j.snapshot("ORDERS", jsapi.SnapshotRequest{}, true)
	if run.status != "204" {
		t.Fatalf("snapshot status %q", run.status)
	}
	// A snapshot of ORDERS restored as another stream is refused once verified.
	_, e := j.restore("COPY", jsapi.StreamConfig{Name: "COPY", Subjects: []string{"copy"}}, run.data, 1000)
	expectError(t, "restore of another stream's snapshot", e, jsapi.ErrStreamRestore)
	expectError(t, "the refused restore left a stream", j.api("STREAM.INFO.COPY", nil, nil), jsapi.ErrStreamNotFound)
}

// Any damage to what the client sends back refuses the restore as a whole and leaves no
// stream and no files behind; the undamaged snapshot then restores.
func TestRestoreRefusesDamage(t *testing.T) {
	j := newSimJS(t)
	j.fillOrders(60)
	run := j.snapshot("ORDERS", jsapi.SnapshotRequest{}, true)
	j.mustAPI("STREAM.DELETE.ORDERS", nil, nil)
	cfg := *run.resp.Config
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"a flipped byte", flipped(run.data, len(run.data)/2)},
		{"the last byte cut", run.data[:len(run.data)-1]},
		{"a byte added", append(append([]byte(nil), run.data...), 0)},
		{"nothing", nil},
	} {
		_, e := j.restore("ORDERS", cfg, tc.data, 500)
		expectError(t, tc.name, e, jsapi.ErrStreamRestore)
		expectError(t, tc.name+": stream left", j.api("STREAM.INFO.ORDERS", nil, nil), jsapi.ErrStreamNotFound)
	}
	if _, e := j.restore("ORDERS", cfg, run.data, 500); e != nil {
		t.Fatalf("the undamaged snapshot: %+v", e)
	}
}

func flipped(data []byte, at int) []byte {
	out := append([]byte(nil), data...)
	out[at] ^= 0x40
	return out
}

// A client that stops answering chunks gets 408 No Flow Response once the window is full;
// one that never subscribes to its deliver subject (only a wildcard over it) gets 408 No
// Interest.
func TestSnapshotFlowControl(t *testing.T) {
	j := newSimJS(t)
	j.fillOrders(200)
	run := j.snapshot("ORDERS", jsapi.SnapshotRequest{ChunkSize: 1024, WindowSize: 2048}, false)
	if run.status != "408 No Flow Response" || run.chunks != 2 {
		t.Fatalf("no acks: status %q after %d chunks, want 408 after the window's 2", run.status, run.chunks)
	}
	var status string
	j.cli.Subscribe("snap.>", "", func(m *natsclient.Msg) { status = statusOf(m) })
	j.mustAPI("STREAM.SNAPSHOT.ORDERS", jsapi.SnapshotRequest{DeliverSubject: "snap.in"}, nil)
	j.run(3 * time.Second)
	if status != "408 No Interest" {
		t.Fatalf("no subscriber: status %q", status)
	}
}

// The crash sweep covers the restore's commit: under the quiet profile the restore is
// answered about 0.2ms of virtual time after its last chunk. (The simulated disk makes the
// definition and the restored store durable in the same instant there, so no crash point
// falls between them; the deleted mark that covers that window is not exercised here.)
const (
	crashSweepStep = 20 * time.Microsecond
	crashSweepEnd  = 600 * time.Microsecond
)

// A machine crash at any point of a restore leaves either no stream or the whole restored
// stream after the restart, never part of one; the sweep of crash points sees both.
func TestRestoreCrashIsAllOrNothing(t *testing.T) {
	outcomes := map[string]int{}
	var points []time.Duration
	for at := time.Duration(0); at <= crashSweepEnd; at += crashSweepStep {
		points = append(points, at)
	}
	for _, at := range append(points, 5*time.Millisecond, 50*time.Millisecond) {
		j := newSimJS(t)
		j.fillOrders(60)
		var before jsapi.StreamInfoResponse
		j.mustAPI("STREAM.INFO.ORDERS", nil, &before)
		content := j.streamContent("ORDERS", before.State.LastSeq)
		run := j.snapshot("ORDERS", jsapi.SnapshotRequest{}, true)
		j.mustAPI("STREAM.DELETE.ORDERS", nil, nil)
		var rr jsapi.RestoreResponse
		j.mustAPI("STREAM.RESTORE.ORDERS", jsapi.RestoreRequest{Config: *run.resp.Config}, &rr)
		if m := j.request(rr.DeliverSubject, run.data); m == nil || len(m.Data) != 0 {
			t.Fatalf("crash at %v: the chunk was not taken", at)
		}
		j.cli.Publish(rr.DeliverSubject, j.newInbox(), nil, nil)
		j.run(at)
		j.restartServer()
		var after jsapi.StreamInfoResponse
		switch e := j.api("STREAM.INFO.ORDERS", nil, &after); {
		case e != nil && e.ErrCode == jsapi.ErrStreamNotFound:
			outcomes["none"]++
		case e != nil:
			t.Fatalf("crash at %v: stream info: %+v", at, e)
		default:
			outcomes["whole"]++
			checkRestored(t, j, content, nil)
		}
	}
	if outcomes["none"] == 0 || outcomes["whole"] == 0 {
		t.Fatalf("the crash points did not span the restore: %v", outcomes)
	}
}
