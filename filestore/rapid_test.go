package filestore

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/petrel-io/petrel/core/env"
)

// TestModelRapid runs random operation sequences against the file store, the memory store
// and the plain model, with crashes (power loss and process crash) and reopenings on the
// simulated disk at random points. After every operation all three must agree on every read:
// state, deleted list, every message, per-subject state, pending counts, next/previous/last
// by filter. After a crash the file store must hold, for every sequence, a value that
// sequence had at the last acknowledged operation or took after it (the durability rule:
// acknowledged means durable, unacknowledged may vanish or survive, nothing else appears).
func TestModelRapid(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		newModelRun(rt).run()
	})
}

var (
	modelSubjects = []string{"a", "a.b", "a.c", "b.x", "b.x.y", "c", "d.x.z"}
	modelFilters  = [][]string{{">"}, {"a"}, {"a.b"}, {"a.*"}, {"a.>"}, {"*.x.*"}, {"b.>"}, {"*"}, {"c"},
		{"a.b", "c"}, {"a.*", "a.b"}, {"zz"}, {"*.x", "d.>"}}
)

type modelRun struct {
	rt     *rapid.T
	h      *harness
	fs, ms Store
	m      *model
	// Durability tracking: the model's state as of the last acknowledged operation, and its
	// state after each later operation.
	opID      int
	durableID int
	durable   *model
	pending   []pendingState
	msEx      env.Executor
}

type pendingState struct {
	id int
	m  *model
}

func newModelRun(rt *rapid.T) *modelRun {
	cfg := Config{
		BlockBytes:  rapid.SampledFrom([]int64{256, 700, 4096, 1 << 20}).Draw(rt, "blockBytes"),
		Compression: rapid.SampledFrom([]Compression{CompressionNone, CompressionS2}).Draw(rt, "compression"),
		Cipher:      rapid.SampledFrom([]Cipher{CipherNone, CipherChaCha, CipherAES}).Draw(rt, "cipher"),
		Limits:      drawLimits(rt),
	}
	if cfg.Cipher != CipherNone {
		cfg.Key = bytes.Repeat([]byte{7}, 32)
	}
	r := &modelRun{rt: rt, h: newHarness(rt, rapid.Uint64().Draw(rt, "seed"), cfg)}
	r.fs = r.h.openFile()
	r.m = newModel(cfg.Limits)
	r.durable = r.m.clone()
	r.ms = r.newMem()
	return r
}

func drawLimits(rt *rapid.T) Limits {
	var l Limits
	if rapid.Bool().Draw(rt, "maxMsgs?") {
		l.MaxMsgs = rapid.Uint64Range(3, 30).Draw(rt, "maxMsgs")
	}
	if rapid.Bool().Draw(rt, "maxBytes?") {
		l.MaxBytes = rapid.Uint64Range(200, 3000).Draw(rt, "maxBytes")
	}
	if rapid.Bool().Draw(rt, "perSubject?") {
		l.MaxMsgsPerSubject = rapid.Uint64Range(1, 4).Draw(rt, "perSubject")
	}
	if rapid.Bool().Draw(rt, "maxAge?") {
		l.MaxAge = time.Duration(rapid.IntRange(1, 10).Draw(rt, "maxAge")) * time.Second
	}
	l.Discard = rapid.SampledFrom([]Discard{DiscardOld, DiscardNew}).Draw(rt, "discard")
	l.DiscardNewPerSubject = rapid.Bool().Draw(rt, "discardNewPerSubject")
	return l
}

func (r *modelRun) newMem() Store {
	cfg := r.h.config()
	r.msEx = r.h.e.Exec.New("mem")
	cfg.Executor = r.msEx
	ms, err := NewMemory(r.h.e, cfg)
	if err != nil {
		r.rt.Fatalf("memory store: %v", err)
	}
	return ms
}

func (r *modelRun) now() int64 { return r.h.e.Clock.Now().UnixNano() }

// record notes the model's state after an operation; acked marks it durable.
func (r *modelRun) record() int {
	r.opID++
	r.pending = append(r.pending, pendingState{id: r.opID, m: r.m.clone()})
	return r.opID
}

func (r *modelRun) acked(id int) {
	if id <= r.durableID {
		return
	}
	r.durableID = id
	for len(r.pending) > 0 && r.pending[0].id <= id {
		r.durable = r.pending[0].m
		r.pending = r.pending[1:]
	}
}

func (r *modelRun) run() {
	r.rt.Repeat(map[string]func(*rapid.T){
		"store":    r.opStore,
		"remove":   func(rt *rapid.T) { r.opRemove(rt, false) },
		"erase":    func(rt *rapid.T) { r.opRemove(rt, true) },
		"purge":    r.opPurge,
		"compact":  r.opCompact,
		"truncate": r.opTruncate,
		"limits":   r.opLimits,
		"advance":  r.opAdvance,
		"settle":   func(*rapid.T) { r.h.settle() },
		"hold":     r.opHold,
		"release":  func(*rapid.T) { r.h.gate.release() },
		"crash":    r.opCrash,
		"reopen":   r.opReopen,
		"":         func(*rapid.T) { r.compare() },
	})
}

// opHold starts or stops holding the file store's syncs (see syncGate): while held, a sync
// stays in flight across operations, settles and closes, and a crash loses it, so the
// pipeline's in-flight states meet every operation.
func (r *modelRun) opHold(rt *rapid.T) {
	if r.h.gate.held = rapid.Bool().Draw(rt, "hold"); !r.h.gate.held {
		r.h.gate.open()
	}
}

func (r *modelRun) opStore(rt *rapid.T) {
	x := mmsg{subject: rapid.SampledFrom(modelSubjects).Draw(rt, "subject"), time: r.now()}
	pattern := rapid.StringN(1, 8, 8).Draw(rt, "pattern")
	x.data = strings.Repeat(pattern, rapid.IntRange(0, 40).Draw(rt, "repeat"))
	if rapid.IntRange(0, 3).Draw(rt, "hdr?") == 0 {
		x.hdr = "NATS/1.0\r\nK: " + pattern + "\r\n\r\n"
	}
	var ttl time.Duration
	switch rapid.IntRange(0, 5).Draw(rt, "ttl?") {
	case 0:
		ttl = TTLNever
	case 1:
		ttl = time.Duration(rapid.IntRange(1, 5).Draw(rt, "ttl")) * time.Second
	}
	x.ttl = int64(ttl)
	var seq uint64
	if rapid.IntRange(0, 9).Draw(rt, "explicitSeq?") == 0 {
		seq = r.m.last + uint64(rapid.IntRange(0, 3).Draw(rt, "seqGap"))
	}
	wantSeq, wantErr := r.m.store(x, seq)
	id := r.record()
	opts := StoreOpts{Seq: env.Seq(seq), TTL: ttl}
	for _, st := range []Store{r.fs, r.ms} {
		isFile := st == r.fs
		st.Store(x.subject, []byte(x.hdr), []byte(x.data), opts, func(got env.Seq, err error) {
			if wantErr != nil {
				if !errors.Is(err, wantErr) {
					r.rt.Fatalf("store %d: got err %v, want %v", id, err, wantErr)
				}
				return
			}
			if err != nil || uint64(got) != wantSeq {
				r.rt.Fatalf("store %d: got seq %d err %v, want seq %d", id, got, err, wantSeq)
			}
			if isFile {
				r.acked(id)
			}
		})
	}
	r.compare()
}

func (r *modelRun) pickSeq(rt *rapid.T) uint64 {
	ss := r.m.seqs()
	if len(ss) > 0 && rapid.IntRange(0, 3).Draw(rt, "live?") > 0 {
		return rapid.SampledFrom(ss).Draw(rt, "liveSeq")
	}
	return rapid.Uint64Range(0, r.m.last+3).Draw(rt, "anySeq")
}

func (r *modelRun) opRemove(rt *rapid.T, erase bool) {
	seq := r.pickSeq(rt)
	_, live := r.m.msgs[seq]
	delete(r.m.msgs, seq)
	id := r.record()
	for _, st := range []Store{r.fs, r.ms} {
		call := st.RemoveMsg
		if erase {
			call = st.EraseMsg
		}
		err := call(env.Seq(seq), r.doneFor(id, st == r.fs))
		if live != (err == nil) || (!live && !errors.Is(err, ErrNotFound)) {
			r.rt.Fatalf("remove %d (live %v): %v", seq, live, err)
		}
	}
	r.compare()
}

// doneFor returns a completion that checks success and, for the file store, advances the
// durable watermark.
func (r *modelRun) doneFor(id int, file bool) func(error) {
	return func(err error) {
		if err != nil {
			r.rt.Fatalf("op %d: completion error %v", id, err)
		}
		if file {
			r.acked(id)
		}
	}
}

func (r *modelRun) opPurge(rt *rapid.T) {
	subject := rapid.SampledFrom([]string{"", ">", "a", "a.*", "b.>", "c", "*.x.*"}).Draw(rt, "purgeSubject")
	var opts PurgeOpts
	opts.Subject = subject
	switch rapid.IntRange(0, 2).Draw(rt, "purgeKind") {
	case 1:
		opts.Seq = env.Seq(rapid.Uint64Range(1, r.m.last+2).Draw(rt, "purgeSeq"))
	case 2:
		opts.Keep = rapid.Uint64Range(1, 5).Draw(rt, "purgeKeep")
	}
	f := AllSubjects
	if subject != "" {
		f = MustFilter(subject)
	}
	want := r.m.purge(f, f.All(), uint64(opts.Seq), opts.Keep)
	id := r.record()
	for _, st := range []Store{r.fs, r.ms} {
		got, err := st.Purge(opts, r.doneFor(id, st == r.fs))
		if err != nil || got != want {
			r.rt.Fatalf("purge %+v: got %d %v, want %d", opts, got, err, want)
		}
	}
	r.compare()
}

func (r *modelRun) opCompact(rt *rapid.T) {
	seq := rapid.Uint64Range(0, r.m.last+4).Draw(rt, "compactSeq")
	want := r.m.compact(seq)
	id := r.record()
	for _, st := range []Store{r.fs, r.ms} {
		got, err := st.Compact(env.Seq(seq), r.doneFor(id, st == r.fs))
		if err != nil || got != want {
			r.rt.Fatalf("compact %d: got %d %v, want %d", seq, got, err, want)
		}
	}
	r.compare()
}

func (r *modelRun) opTruncate(rt *rapid.T) {
	seq := rapid.Uint64Range(0, r.m.last+1).Draw(rt, "truncateSeq")
	wantErr := r.m.truncate(seq)
	id := r.record()
	for _, st := range []Store{r.fs, r.ms} {
		done := r.doneFor(id, st == r.fs)
		if wantErr != nil {
			done = nil
		}
		if err := st.Truncate(env.Seq(seq), done); !errors.Is(err, wantErr) {
			r.rt.Fatalf("truncate %d: got %v, want %v", seq, err, wantErr)
		}
	}
	r.compare()
}

func (r *modelRun) opLimits(rt *rapid.T) {
	l := drawLimits(rt)
	r.h.cfg.Limits = l // the owner keeps its config; a reopened store gets the new limits
	r.m.setLimits(l, r.now())
	id := r.record()
	for _, st := range []Store{r.fs, r.ms} {
		if err := st.SetLimits(l, r.doneFor(id, st == r.fs)); err != nil {
			r.rt.Fatalf("set limits: %v", err)
		}
	}
	r.compare()
}

func (r *modelRun) opAdvance(rt *rapid.T) {
	d := time.Duration(rapid.IntRange(1, 4000).Draw(rt, "advanceMs")) * time.Millisecond
	r.h.advance(d)
	r.m.expire(r.now())
	r.record()
	r.compare()
}

func (r *modelRun) opReopen(rt *rapid.T) {
	inFlight := r.fs.(*store).syncing
	if err := r.fs.Close(); err != nil {
		r.rt.Fatalf("close: %v", err)
	}
	r.acked(r.opID) // Close makes everything durable
	r.fs = r.h.openFile()
	r.h.settle()
	if inFlight {
		r.readmitEvicted()
	}
	r.m.expire(r.now())
	r.record()
	r.compare()
}

func (r *modelRun) opCrash(rt *rapid.T) {
	machine := rapid.Bool().Draw(rt, "powerLoss")
	r.h.crash(machine)
	// Recover first without limits, to judge the replay alone: a limit applied at recovery
	// may rightly remove an old message when a lost deletion left a newer one in its way.
	limits := r.h.cfg.Limits
	r.h.cfg.Limits = Limits{}
	r.fs = r.h.openFile()
	r.checkRecovered()
	// The recovered content is the new baseline, and durable (recovery syncs it).
	m := newModel(r.m.limits)
	for seq := uint64(1); ; seq++ {
		msg, err := r.fs.LoadNext(AllSubjects, env.Seq(seq))
		if err != nil {
			break
		}
		seq = uint64(msg.Seq)
		m.msgs[seq] = mmsg{subject: msg.Subject, hdr: string(msg.Header), data: string(msg.Data), time: msg.Time, ttl: int64(msg.TTL)}
	}
	m.limits = limits
	st := r.fs.State()
	m.last, m.lastTime = uint64(st.LastSeq), st.LastTime
	if err := r.fs.Close(); err != nil {
		r.rt.Fatalf("close: %v", err)
	}
	r.h.cfg.Limits = limits
	r.fs = r.h.openFile()
	m.setLimits(limits, r.now())
	r.m = m
	r.pending, r.durable, r.durableID = nil, m.clone(), r.opID
	// The memory store died with the process: rebuild it from a snapshot of the file store.
	r.memFromFile()
	r.m.expire(r.now())
	r.compare()
}

// memFromFile rebuilds the memory store from a snapshot of the file store.
func (r *modelRun) memFromFile() {
	r.ms = r.newMem()
	var snap bytes.Buffer
	if err := r.fs.Snapshot(&snap); err != nil {
		r.rt.Fatalf("snapshot: %v", err)
	}
	if err := r.ms.Restore(&snap, nil); err != nil {
		r.rt.Fatalf("restore: %v", err)
	}
	r.h.settle()
}

// readmitEvicted: a Close with a sync in flight cannot log the evictions that sync was to
// make loggable (nothing may be written after Close returns), and the open applies the
// limits to what it finds, which may no longer include what caused an eviction. A message
// evicted earlier may then be back, unchanged; the memory store follows the file store.
func (r *modelRun) readmitEvicted() {
	for seq, x := range r.m.evicted {
		msg, err := r.fs.LoadMsg(env.Seq(seq))
		if err != nil {
			continue
		}
		if !sameMsg(x, msg) {
			r.rt.Fatalf("evicted seq %d came back changed: %s", seq, describe(msg))
		}
		r.m.msgs[seq] = x
		delete(r.m.evicted, seq)
	}
	r.memFromFile()
}

// checkRecovered checks the recovered file store against the durability rule.
func (r *modelRun) checkRecovered() {
	states := []*model{r.durable}
	for _, p := range r.pending {
		states = append(states, p.m)
	}
	now := r.now()
	got := map[uint64]*Msg{}
	for seq := uint64(1); ; {
		msg, err := r.fs.LoadNext(AllSubjects, env.Seq(seq))
		if err != nil {
			break
		}
		got[uint64(msg.Seq)] = msg
		seq = uint64(msg.Seq) + 1
	}
	seqs := map[uint64]bool{}
	for s := range got {
		seqs[s] = true
	}
	for _, st := range states {
		for s := range st.msgs {
			seqs[s] = true
		}
	}
	for s := range seqs {
		if !r.allowed(states, s, got[s], now) {
			r.rt.Fatalf("after crash seq %d is %v; allowed: %s", s, describe(got[s]), r.allowedText(states, s))
		}
	}
	st := r.fs.State()
	lastOK := false
	for _, m := range states {
		lastOK = lastOK || (uint64(st.LastSeq) == m.last && st.LastTime == m.lastTime)
	}
	if !lastOK {
		r.rt.Fatalf("after crash last %d@%d matches no state at or after the last acknowledgement", st.LastSeq, st.LastTime)
	}
}

// allowed: absent if some state lacks it (or expiry may have removed it since), present if
// some state holds exactly that message.
func (r *modelRun) allowed(states []*model, seq uint64, got *Msg, now int64) bool {
	for _, m := range states {
		x, ok := m.msgs[seq]
		if got == nil && (!ok || expired(x, r.h.cfg.Limits, now)) {
			return true
		}
		if got != nil && ok && sameMsg(x, got) {
			return true
		}
		if x, ok := m.evicted[seq]; got != nil && ok && sameMsg(x, got) {
			return true // an eviction whose record was held back
		}
	}
	return false
}

func expired(x mmsg, l Limits, now int64) bool {
	return (x.ttl > 0 && x.time+x.ttl <= now) || (x.ttl == 0 && l.MaxAge > 0 && x.time <= now-int64(l.MaxAge))
}

func (r *modelRun) allowedText(states []*model, seq uint64) string {
	var parts []string
	for _, m := range states {
		if x, ok := m.msgs[seq]; ok {
			parts = append(parts, fmt.Sprintf("%s/%q", x.subject, x.data))
		} else {
			parts = append(parts, "absent")
		}
	}
	return strings.Join(parts, ", ")
}

func describe(m *Msg) string {
	if m == nil {
		return "absent"
	}
	return fmt.Sprintf("%s/%q", m.Subject, m.Data)
}

func sameMsg(x mmsg, m *Msg) bool {
	return m.Subject == x.subject && string(m.Header) == x.hdr && string(m.Data) == x.data &&
		m.Time == x.time && int64(m.TTL) == x.ttl
}

// compare checks the two stores against the model on every read.
func (r *modelRun) compare() {
	rt, m := r.rt, r.m
	want := m.state()
	for _, st := range []Store{r.fs, r.ms} {
		if got := st.State(); !reflect.DeepEqual(got, want) {
			rt.Fatalf("state:\n got  %+v\n want %+v", got, want)
		}
		if got, w := st.Deleted(), m.deleted(); !reflect.DeepEqual(got, w) {
			rt.Fatalf("deleted: got %v want %v", got, w)
		}
		for seq := uint64(0); seq <= m.last+2; seq++ {
			got, err := st.LoadMsg(env.Seq(seq))
			x, ok := m.msgs[seq]
			if ok != (err == nil) || (ok && !sameMsg(x, got)) || (!ok && !errors.Is(err, ErrNotFound)) {
				rt.Fatalf("load %d: got %v %v, want %v", seq, describe(got), err, ok)
			}
		}
		starts := []uint64{0, 1, m.last / 2, m.last, m.last + 1}
		for _, fs := range modelFilters {
			f := MustFilter(fs...)
			if got, w := st.SubjectsState(f), m.subjectsState(f); !reflect.DeepEqual(got, w) {
				rt.Fatalf("subjects state %v: got %v want %v", fs, got, w)
			}
			r.compareLoad(st, f, m.last, false, true)
			for _, start := range starts {
				r.compareLoad(st, f, start, true, false)
				r.compareLoad(st, f, start, false, false)
				for _, lps := range []bool{false, true} {
					if got, w := st.NumPending(env.Seq(start), f, lps), m.numPending(start, f, lps); got != w {
						rt.Fatalf("num pending %v from %d lps=%v: got %d want %d", fs, start, lps, got, w)
					}
				}
			}
		}
	}
}

func (r *modelRun) compareLoad(st Store, f Filter, start uint64, forward, last bool) {
	var got *Msg
	var err error
	switch {
	case last:
		got, err = st.LoadLast(f)
	case forward:
		got, err = st.LoadNext(f, env.Seq(start))
	default:
		got, err = st.LoadPrev(f, env.Seq(start))
	}
	from := start
	if forward {
		from = max(start, 1)
	}
	want := r.m.find(f, from, forward)
	if want == 0 {
		if !errors.Is(err, ErrNotFound) {
			r.rt.Fatalf("load %v from %d fwd=%v: got %v %v, want none", f.Subjects(), start, forward, describe(got), err)
		}
		return
	}
	if err != nil || uint64(got.Seq) != want || !sameMsg(r.m.msgs[want], got) {
		r.rt.Fatalf("load %v from %d fwd=%v: got %v %v, want seq %d", f.Subjects(), start, forward, describe(got), err, want)
	}
	if forward && !last {
		shared, err := st.LoadNextShared(f, env.Seq(start))
		if err != nil || uint64(shared.Seq) != want || !sameMsg(r.m.msgs[want], shared) {
			r.rt.Fatalf("shared load %v from %d: got %v %v, want seq %d", f.Subjects(), start, describe(shared), err, want)
		}
		if !sameMsg(r.m.msgs[want], got) {
			r.rt.Fatalf("a shared load changed the message an earlier load returned: %v", describe(got))
		}
	}
}
