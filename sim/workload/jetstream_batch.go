package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strconv"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/sim"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// Atomic batches: one client (role "batch") publishes atomic batches of 1-6 messages to the
// stream ATOM (allow_atomic), the staged ones without a reply, the commit as a request
// ("1" on the last message, or now and then a separate "eob"). jsBatches holds what was sent
// and acknowledged, and judges what ATOM's store holds after recovery, as the file store's
// own recovery builds it from the disk:
//   - at every boot after a crash, before the server opens anything, from the image the
//     crash left (torn writes and lost sectors drawn by the crash);
//   - at the end of the run, from the worst-case durable image (every unsynced byte lost).
//
// Each batch found must be whole (Nats-Batch-Sequence 1..n, the size sent, the last one
// marked Nats-Batch-Commit) or absent, and every acknowledged batch must be there whole. A
// flipped bit may cost one stored message: the members missing in all may not exceed the
// bits flipped on the server's disk.
type jsBatches struct {
	w      *sim.World
	server *sim.Node
	memory bool
	sent   map[string]int // batch id → messages sent with its commit
	acked  map[string]bool
	n      map[int]int // batches sent, per client
}

const (
	jsBatchStream  = "ATOM"
	jsBatchMaxSize = 6
)

func newJSBatches(w *sim.World, server *sim.Node, memory bool) *jsBatches {
	return &jsBatches{w: w, server: server, memory: memory, sent: map[string]int{}, acked: map[string]bool{}, n: map[int]int{}}
}

func jsBatchMsgsDir() string {
	return path.Join(jsStoreDir, "jetstream", jsAccount, "streams", jsBatchStream, "msgs")
}

func (b *jsBatches) streamConfig() []byte {
	storage := "file"
	if b.memory {
		storage = "memory"
	}
	return mustJSON(map[string]any{"name": jsBatchStream, "subjects": []string{"atom.>"}, "allow_atomic": true,
		"storage": storage, "retention": "limits"})
}

// jsBatcher is the batch client's role.
type jsBatcher struct {
	b   *jsBatches
	idx int
}

// setup creates ATOM. After flips in both copies of ATOM's definition the stream stays
// offline with its name kept (a node never deletes what it cannot read), and the client
// cannot go on: JetStream.definitionDamaged excuses it (seed 109).
func (pb *jsBatcher) setup(p *jsPeer, done func(bool)) {
	p.apiRequest(jsapi.Prefix+"STREAM.CREATE."+jsBatchStream, pb.b.streamConfig(), nil, func(ok bool, e *jsapi.Error, _ int) {
		if ok && e != nil {
			p.e.Log.Logf(env.LevelInfo, "jetstream workload: create %s refused: %d %s", jsBatchStream, e.ErrCode, e.Description)
		}
		done(ok && e == nil)
	})
}

// step sends one batch: its staged messages, then the commit as a request.
func (pb *jsBatcher) step(p *jsPeer, done func()) {
	r := p.e.Rand
	pb.b.n[pb.idx]++
	id := fmt.Sprintf("a%d-%d", pb.idx, pb.b.n[pb.idx])
	size := 1 + r.Intn(jsBatchMaxSize)
	eob := r.Intn(4) == 0
	pb.b.sent[id] = size
	hdr := func(seq int, commit string) []byte {
		h := proto.AppendHeader(nil, "Nats-Batch-Id", id)
		h = proto.AppendHeader(h, "Nats-Batch-Sequence", strconv.Itoa(seq))
		if commit != "" {
			h = proto.AppendHeader(h, "Nats-Batch-Commit", commit)
		}
		return h
	}
	staged := size - 1
	if eob {
		staged = size
	}
	for i := 1; i <= staged; i++ {
		p.c.Publish(fmt.Sprintf("atom.%d.%d", pb.idx, i%2), "", hdr(i, ""), encodeJSPayload(fmt.Sprintf("%s/%d", id, i), r))
	}
	subj, commit, data := fmt.Sprintf("atom.%d.%d", pb.idx, size%2), hdr(size, "1"), encodeJSPayload(fmt.Sprintf("%s/%d", id, size), r)
	if eob {
		commit, data = hdr(size+1, "eob"), nil
	}
	p.request(subj, commit, data, jsReqTimeout, func(ans *natsclient.Msg, _ int) {
		pb.answered(p, id, size, ans)
		done()
	})
}

func (pb *jsBatcher) answered(p *jsPeer, id string, size int, ans *natsclient.Msg) {
	if ans == nil || ans.Status() != "" {
		return // its fate is unknown: whole or absent
	}
	var r jsapi.PubAckResponse
	err := json.Unmarshal(ans.Data, &r)
	env.Assertf(err == nil, "jetstream: batch %s answered %q: %v", id, ans.Data, err)
	if r.Error != nil || r.PubAck == nil {
		return
	}
	env.Assertf(r.BatchID == id && r.BatchSize == uint64(size), "jetstream: batch %s of %d acknowledged as %+v", id, size, r.PubAck)
	pb.b.acked[id] = true
	p.e.Probe.Hit("jetstream.workload.batch-acked")
}

// recovered recovers ATOM's store from fsys (a private copy of the server's disk).
func (b *jsBatches) recovered(fsys env.FS, seed uint64) filestore.Store {
	e := &env.Env{Name: "batch-check", Clock: frozenClock{time.Unix(0, 0)}, Rand: env.NewPRNG(seed), FS: fsys,
		Exec: droppingExecutors{}, Log: discardLog{}, Probe: env.NopProbe{}}
	st, err := filestore.OpenFile(e, filestore.Config{Dir: jsBatchMsgsDir(), Executor: droppingExecutor{}})
	env.Assertf(err == nil, "jetstream batch check: recover ATOM: %v", err)
	return st
}

// check judges the batches in the store recovered from fsys, a copy of the server's disk
// (after a crash: what the crash left; at the end: the durable image).
func (b *jsBatches) check(when string, fsys env.FS) {
	if b.memory {
		return
	}
	st := b.recovered(fsys, b.server.Disk.DurableVersion())
	found := map[string]map[int]bool{} // batch id → batch sequences present
	commits := map[string]int{}        // batch id → the batch sequence marked as its commit
	for seq := env.Seq(1); ; seq++ {
		m, err := st.LoadNext(filestore.AllSubjects, seq)
		if errors.Is(err, filestore.ErrNotFound) {
			break
		}
		if err != nil {
			continue // damaged: reported by the store, counted as missing below
		}
		seq = m.Seq
		id := proto.HeaderValue(m.Header, "Nats-Batch-Id")
		bseq, err := strconv.Atoi(proto.HeaderValue(m.Header, "Nats-Batch-Sequence"))
		env.Assertf(id != "" && err == nil, "jetstream batch check (%s): ATOM seq %d without batch headers: %q", when, seq, m.Header)
		if found[id] == nil {
			found[id] = map[int]bool{}
		}
		found[id][bseq] = true
		if proto.HeaderValue(m.Header, "Nats-Batch-Commit") == "1" {
			commits[id] = bseq
		}
	}
	missing := 0
	for _, id := range env.SortedKeys(b.sent) {
		size, have := b.sent[id], len(found[id])
		switch {
		case have == size:
			env.Assertf(commits[id] == size, "jetstream batch check (%s): batch %s stored without its commit marked on %d", when, id, size)
			b.w.Hit("jetstream.check.batch-whole")
		case have == 0 && !b.acked[id]:
		default:
			missing += size - have
			env.Assertf(missing <= b.server.Disk.Stats.BitFlips,
				"jetstream batch check (%s): batch %s (acknowledged %v) holds %d of its %d messages %v; bits flipped: %d",
				when, id, b.acked[id], have, size, env.SortedKeys(found[id]), b.server.Disk.Stats.BitFlips)
		}
	}
	for id := range found {
		env.Assertf(b.sent[id] > 0, "jetstream batch check (%s): batch %s stored, never sent whole", when, id)
	}
	_ = st.Close()
}
