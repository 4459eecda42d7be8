package workload

import (
	"encoding/json"
	"fmt"
	"path"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// jsSpec is a seed's draw of the stream ORD and its consumer.
type jsSpec struct {
	memory      bool
	workQueue   bool
	maxPerSubj  int64 // 0: unlimited
	maxMsgs     int64 // 0: unlimited
	ackWait     time.Duration
	maxDeliver  int // -1: unlimited
	subjectsPer int // subjects per publisher: ord.<publisher>.<0..subjectsPer-1>
}

const (
	jsStream   = "ORD"
	jsConsumer = "C1"
	jsKVStream = "KV_b"
	jsKVPrefix = "$KV.b."
	// jsDuplicates is ORD's duplicate window: far longer than a run plus the largest clock
	// step, so every repeat of a msg id in a run is within it.
	jsDuplicates = time.Hour
	jsKVKeys     = 3
)

func drawJSSpec(r env.Rand) jsSpec {
	s := jsSpec{memory: r.Intn(6) == 0, workQueue: r.Intn(3) == 0, maxDeliver: -1,
		ackWait: time.Duration(300+r.Intn(700)) * time.Millisecond, subjectsPer: 1 + r.Intn(4)}
	if r.Intn(3) == 0 {
		s.maxPerSubj = int64(2 + r.Intn(6))
	}
	if r.Intn(4) == 0 {
		s.maxMsgs = int64(50 + r.Intn(150))
	}
	// Half the seeds give up a message at max_deliver: the checkers learn which from the
	// server's advisory (jsChecker.gaveUp), since a work queue then drops the message. (It
	// first found a livelock: a due message at max_deliver re-armed its timer at the past
	// deadline.)
	if md := 3 + r.Intn(5); r.Intn(2) == 0 {
		s.maxDeliver = md
	}
	return s
}

func (s jsSpec) String() string {
	return fmt.Sprintf("memory=%v workqueue=%v max_msgs_per_subject=%d max_msgs=%d ack_wait=%v max_deliver=%d subjects/publisher=%d",
		s.memory, s.workQueue, s.maxPerSubj, s.maxMsgs, s.ackWait, s.maxDeliver, s.subjectsPer)
}

// streamConfig is ORD's STREAM.CREATE body: only what the seed sets, so the server fills in
// the rest (every client sends the same bytes, so a repeated create is idempotent).
func (s jsSpec) streamConfig() []byte {
	cfg := map[string]any{"name": jsStream, "subjects": []string{"ord.>"}, "duplicate_window": jsDuplicates,
		"storage": "file", "retention": "limits"}
	if s.memory {
		cfg["storage"] = "memory"
	}
	if s.workQueue {
		cfg["retention"] = "workqueue"
	}
	if s.maxPerSubj > 0 {
		cfg["max_msgs_per_subject"] = s.maxPerSubj
	}
	if s.maxMsgs > 0 {
		cfg["max_msgs"] = s.maxMsgs
	}
	return mustJSON(cfg)
}

// kvStreamConfig is KV_b's body, shaped as the KV clients create a bucket: one subject
// space, a short history per key, rollups, no deletes through the API, direct gets.
func kvStreamConfig() []byte {
	return mustJSON(map[string]any{"name": jsKVStream, "subjects": []string{jsKVPrefix + ">"},
		"max_msgs_per_subject": 2, "allow_rollup_hdrs": true, "deny_delete": true, "allow_direct": true,
		"discard": "new", "storage": "file", "duplicate_window": 2 * time.Minute})
}

// consumerConfig is C1's CONSUMER.CREATE body.
func (s jsSpec) consumerConfig() []byte {
	cfg := map[string]any{"durable_name": jsConsumer, "ack_policy": jsapi.AckExplicit, "deliver_policy": jsapi.DeliverAll,
		"ack_wait": s.ackWait, "max_deliver": s.maxDeliver, "max_ack_pending": 10000}
	return mustJSON(map[string]any{"stream_name": jsStream, "config": cfg})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	env.Assertf(err == nil, "jetstream workload: marshal %T: %v", v, err)
	return b
}

// msgsDir is where ORD's store keeps its blocks on the server's disk.
func jsMsgsDir() string {
	return path.Join(jsStoreDir, "jetstream", jsAccount, "streams", jsStream, "msgs")
}
