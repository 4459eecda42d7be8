package jetstream_test

import (
	"errors"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
)

// A definition keeps two copies in separate sectors: rot in one leaves the stream online.
func TestDefinitionSurvivesOneRottenCopy(t *testing.T) {
	j := newSimJS(t)
	j.mustAPI("STREAM.CREATE.D", jsapi.StreamConfig{Name: "D", Subjects: []string{"d"}}, &jsapi.StreamCreateResponse{})
	j.server.Disk.FlipBitAt("data/jetstream/$G/streams/D/meta.json", 10, 3)
	j.restartServer()
	var info jsapi.StreamInfoResponse
	j.mustAPI("STREAM.INFO.D", nil, &info)
	if info.StreamInfo == nil || info.Config.Name != "D" {
		t.Fatalf("info after one rotten copy: %+v", info)
	}
}

// A definition whose copies all fail their checksums keeps its stream offline: not served,
// listed as offline, and its data left on disk (never deleted because it could not be read).
func TestDamagedDefinitionKeepsData(t *testing.T) {
	j := newSimJS(t)
	var created jsapi.StreamCreateResponse
	j.mustAPI("STREAM.CREATE.D", jsapi.StreamConfig{Name: "D", Subjects: []string{"d"}}, &created)
	for range 3 {
		if r := j.publish("d", nil, []byte("kept")); r.Error != nil {
			t.Fatalf("publish: %v", r.Error)
		}
	}
	meta := "data/jetstream/$G/streams/D/meta.json"
	data, err := j.server.Disk.ReadFile(meta)
	if err != nil {
		t.Fatalf("definition: %v", err)
	}
	j.server.Disk.FlipBitAt(meta, 10, 3)                  // in the first copy's document
	j.server.Disk.FlipBitAt(meta, int64(len(data))-20, 3) // in the second's
	j.restartServer()
	e := j.api("STREAM.INFO.D", nil, &jsapi.StreamInfoResponse{})
	expectError(t, "info of an offline stream", e, jsapi.ErrStreamNotFound)
	var list jsapi.StreamListResponse
	j.mustAPI("STREAM.LIST", nil, &list)
	if _, ok := list.Offline["D"]; !ok {
		t.Fatalf("the damaged stream is not listed offline: %+v", list.Offline)
	}
	if _, err := j.server.Disk.ReadFile(meta); err != nil {
		t.Fatalf("the damaged definition was removed: %v", err)
	}
	blocks, err := j.server.Disk.DurableFS().List("data/jetstream/$G/streams/D/msgs")
	if err != nil || len(blocks) == 0 {
		t.Fatalf("the stream's data was removed: %v %v", blocks, err)
	}
	// Nothing else may take its name while it is offline.
	expectError(t, "create over an offline stream", j.api("STREAM.CREATE.D", jsapi.StreamConfig{Name: "D", Subjects: []string{"d"}}, nil),
		jsapi.ErrStreamNameExists)
}

// A create on a full disk is refused with the store's words, registers nothing, and works
// once there is room.
func TestCreateOnFullDisk(t *testing.T) {
	j := newSimJS(t)
	j.server.Disk.SetFull(true)
	e := j.api("STREAM.CREATE.F", jsapi.StreamConfig{Name: "F", Subjects: []string{"f"}}, nil)
	if e == nil || e.ErrCode != jsapi.ErrStreamCreate {
		t.Fatalf("create on a full disk: %+v", e)
	}
	expectError(t, "info after a refused create", j.api("STREAM.INFO.F", nil, nil), jsapi.ErrStreamNotFound)
	j.server.Disk.SetFull(false)
	var created jsapi.StreamCreateResponse
	j.mustAPI("STREAM.CREATE.F", jsapi.StreamConfig{Name: "F", Subjects: []string{"f"}}, &created)
	if r := j.publish("f", nil, []byte("x")); r.Error != nil || r.PubAck == nil || r.Sequence != 1 {
		t.Fatalf("publish after room came back: %+v", r)
	}
}

// An offline stream can be deleted on purpose, and its name is free again.
func TestDeleteOfflineStream(t *testing.T) {
	j := newSimJS(t)
	j.mustAPI("STREAM.CREATE.D", jsapi.StreamConfig{Name: "D", Subjects: []string{"d"}}, &jsapi.StreamCreateResponse{})
	j.server.Disk.FlipBitAt("data/jetstream/$G/streams/D/meta.json", 5, 1)
	j.server.Disk.FlipBitAt("data/jetstream/$G/streams/D/meta.json", 512+5, 1)
	j.restartServer()
	var ok jsapi.SuccessResponse
	j.mustAPI("STREAM.DELETE.D", nil, &ok)
	if !ok.Success {
		t.Fatal("delete of an offline stream did not succeed")
	}
	j.mustAPI("STREAM.CREATE.D", jsapi.StreamConfig{Name: "D", Subjects: []string{"d"}}, &jsapi.StreamCreateResponse{})
}

// A consumer create that failed before its definition was in place (here its rename) leaves
// a directory without one, and nobody was told the consumer exists: the next start removes
// it instead of keeping a consumer offline that never was.
func TestUnfinishedConsumerCreateRemoved(t *testing.T) {
	j := newSimJS(t)
	j.mustAPI("STREAM.CREATE.S", jsapi.StreamConfig{Name: "S", Subjects: []string{"s"}}, &jsapi.StreamCreateResponse{})
	j.server.Disk.FailNext("rename", fs.ErrPermission)
	if e := j.api("CONSUMER.DURABLE.CREATE.S.D1", jsapi.CreateConsumerRequest{Stream: "S", Config: jsapi.ConsumerConfig{Durable: "D1"}}, nil); e == nil {
		t.Fatal("create with a failed rename answered success")
	}
	dir := "data/jetstream/$G/streams/S/obs/D1"
	if _, err := j.server.Disk.ReadFile(dir + "/meta.json.tmp"); err != nil {
		t.Fatalf("the failed create left nothing to clean: %v", err)
	}
	j.server.Crash(false) // the process only: the page cache keeps the directory
	j.run(10 * time.Millisecond)
	j.server.Restart()
	j.run(200 * time.Millisecond)
	j.connect()
	if _, err := j.server.Disk.ReadFile(dir + "/meta.json.tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the unfinished create's directory is still there: %v", err)
	}
	j.mustAPI("CONSUMER.DURABLE.CREATE.S.D1", jsapi.CreateConsumerRequest{Stream: "S", Config: jsapi.ConsumerConfig{Durable: "D1"}}, &jsapi.ConsumerResponse{})
}

// A consumer never hands out a message before it is durable: a failed write takes the
// message back (the store is reopened from the disk) and its sequence goes to the next
// publish, so a consumer that had delivered it would have skipped the one acknowledged there
// (found by the jetstream sim workload, seeds 2153 and 2211).
func TestConsumerDeliversOnlyDurable(t *testing.T) {
	j := newSimJS(t)
	j.mustAPI("STREAM.CREATE.S", jsapi.StreamConfig{Name: "S", Subjects: []string{"s"}}, &jsapi.StreamCreateResponse{})
	j.mustAPI("CONSUMER.DURABLE.CREATE.S.D", jsapi.CreateConsumerRequest{Stream: "S",
		Config: jsapi.ConsumerConfig{Durable: "D", AckPolicy: jsapi.AckExplicit}}, &jsapi.ConsumerResponse{})
	got := j.pullData("S", "D")
	j.run(50 * time.Millisecond)
	j.publish("s", nil, []byte("first"))
	j.server.Disk.FailNext("write", errors.New("injected EIO"))
	j.cli.Publish("s", "lost.ack", nil, []byte("lost"))
	j.run(100 * time.Millisecond)
	if r := j.publish("s", nil, []byte("kept")); r.Sequence != 2 {
		t.Fatalf("the publish after the failed write: seq %d (want 2: the failed one was taken back)", r.Sequence)
	}
	j.run(100 * time.Millisecond)
	if !slices.Equal(*got, []string{"first", "kept"}) {
		t.Fatalf("delivered %q, want only the durable message", *got)
	}
}

// A direct get never answers with a message that is not durable yet: a failed write takes
// it back, and a later get would show it gone (a KV read that goes back in time).
func TestDirectGetAnswersOnlyDurable(t *testing.T) {
	j := newSimJS(t)
	j.mustAPI("STREAM.CREATE.S", jsapi.StreamConfig{Name: "S", Subjects: []string{"s"}, AllowDirect: true}, &jsapi.StreamCreateResponse{})
	j.publish("s", nil, []byte("first"))
	j.server.Disk.FailNext("write", errors.New("injected EIO"))
	j.cli.Publish("s", "", nil, []byte("lost"))
	if m := j.request(jsapi.Prefix+"DIRECT.GET.S.s", nil); m != nil && string(m.Data) != "first" {
		t.Fatalf("direct get during a failing write: %q %q", m.Header, m.Data)
	}
	if m := j.request(jsapi.Prefix+"DIRECT.GET.S.s", nil); m == nil || string(m.Data) != "first" {
		t.Fatalf("direct get after the failed write: %+v", m)
	}
}
