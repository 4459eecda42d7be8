package filestore

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// eachKind runs a test against a fresh file store and a fresh memory store.
func eachKind(t *testing.T, cfg Config, fn func(t *testing.T, h *harness, st Store)) {
	for _, kind := range []string{"file", "memory"} {
		t.Run(kind, func(t *testing.T) {
			h := newHarness(t, 7, cfg)
			st := h.openMem()
			if kind == "file" {
				st = h.openFile()
			}
			fn(t, h, st)
		})
	}
}

func seqsOf(t *testing.T, st Store) []env.Seq {
	t.Helper()
	var out []env.Seq
	for seq := env.Seq(1); ; {
		m, err := st.LoadNext(AllSubjects, seq)
		if errors.Is(err, ErrNotFound) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m.Seq)
		seq = m.Seq + 1
	}
}

func wantSeqs(t *testing.T, st Store, want ...env.Seq) {
	t.Helper()
	if got := seqsOf(t, st); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("seqs %v, want %v", got, want)
	}
}

// TestLimits: each limit removes the oldest (DiscardOld) or rejects the new (DiscardNew).
func TestLimits(t *testing.T) {
	cases := []struct {
		name     string
		limits   Limits
		subjects []string
		wantErrs []error // per store, nil for success
		want     []env.Seq
	}{
		{"max msgs discard old", Limits{MaxMsgs: 2}, []string{"a", "b", "c"}, []error{nil, nil, nil}, []env.Seq{2, 3}},
		{"max msgs discard new", Limits{MaxMsgs: 2, Discard: DiscardNew}, []string{"a", "b", "c"}, []error{nil, nil, ErrMaxMsgs}, []env.Seq{1, 2}},
		{"max bytes discard old", Limits{MaxBytes: 2 * (1 + 3 + 16)}, []string{"a", "b", "c"}, []error{nil, nil, nil}, []env.Seq{2, 3}},
		{"max bytes discard new", Limits{MaxBytes: 2 * (1 + 3 + 16), Discard: DiscardNew}, []string{"a", "b", "c"}, []error{nil, nil, ErrMaxBytes}, []env.Seq{1, 2}},
		{"message bigger than max bytes", Limits{MaxBytes: 10}, []string{"a"}, []error{ErrMaxBytes}, nil},
		{"per subject keeps newest", Limits{MaxMsgsPerSubject: 1}, []string{"a", "b", "a", "a"}, []error{nil, nil, nil, nil}, []env.Seq{2, 4}},
		{"per subject with discard new still rolls", Limits{MaxMsgsPerSubject: 1, Discard: DiscardNew}, []string{"a", "a"}, []error{nil, nil}, []env.Seq{2}},
		{"per subject discard new per subject", Limits{MaxMsgsPerSubject: 1, Discard: DiscardNew, DiscardNewPerSubject: true}, []string{"a", "a", "b"}, []error{nil, ErrMaxMsgsPerSubj, nil}, []env.Seq{1, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachKind(t, Config{Limits: c.limits}, func(t *testing.T, h *harness, st Store) {
				for i, subj := range c.subjects {
					_, err := h.store(st, subj, "xyz", StoreOpts{})
					if !errors.Is(err, c.wantErrs[i]) {
						t.Fatalf("store %d (%s): err %v, want %v", i, subj, err, c.wantErrs[i])
					}
				}
				wantSeqs(t, st, c.want...)
			})
		})
	}
}

// TestMaxAgeAndTTL: MaxAge removes from the front by the Clock; a TTL overrides it (shorter
// or longer); TTLNever is exempt; removal happens on the store's own timer.
func TestMaxAgeAndTTL(t *testing.T) {
	eachKind(t, Config{Limits: Limits{MaxAge: 10 * time.Second}}, func(t *testing.T, h *harness, st Store) {
		h.mustStore(st, "plain", "1")                                                     // expires at 10s
		if _, err := h.store(st, "short", "2", StoreOpts{TTL: time.Second}); err != nil { // at 1s
			t.Fatal(err)
		}
		if _, err := h.store(st, "long", "3", StoreOpts{TTL: 20 * time.Second}); err != nil { // at 20s
			t.Fatal(err)
		}
		if _, err := h.store(st, "never", "4", StoreOpts{TTL: TTLNever}); err != nil {
			t.Fatal(err)
		}
		h.advance(500 * time.Millisecond)
		wantSeqs(t, st, 1, 2, 3, 4)
		h.advance(time.Second)
		wantSeqs(t, st, 1, 3, 4)
		h.advance(9 * time.Second)
		wantSeqs(t, st, 3, 4)
		h.advance(10 * time.Second)
		wantSeqs(t, st, 4)
		h.advance(time.Hour)
		wantSeqs(t, st, 4)
	})
}

// TestAgeExpirySurvivesRestart: a restarted store expires what became due while it was down.
func TestAgeExpirySurvivesRestart(t *testing.T) {
	h := newHarness(t, 3, Config{Limits: Limits{MaxAge: time.Second}})
	st := h.openFile()
	h.mustStore(st, "a", "1")
	h.crash(true)
	h.advance(2 * time.Second)
	st = h.openFile()
	h.settle()
	wantSeqs(t, st)
	if got := st.State(); got.LastSeq != 1 || got.FirstSeq != 2 {
		t.Fatalf("state %+v", got)
	}
}

// TestSubjectDeleteMarker: expiry of a subject's last message leaves a marker with the
// ADR-43 headers and the configured TTL, and the owner is told the last marker's sequence
// once it is durable; the marker's own expiry leaves none.
func TestSubjectDeleteMarker(t *testing.T) {
	marked, last := 0, env.Seq(0)
	var markers []Marker
	cfg := Config{Limits: Limits{MaxAge: time.Second, SubjectDeleteMarkerTTL: 5 * time.Second},
		Marked: func(ms []Marker) { marked, last, markers = marked+1, ms[len(ms)-1].Seq, append(markers, ms...) }}
	eachKind(t, cfg, func(t *testing.T, h *harness, st Store) {
		marked, last, markers = 0, 0, nil
		h.mustStore(st, "kv.a", "1")
		h.mustStore(st, "kv.a", "2")
		h.mustStore(st, "kv.b", "3")
		h.advance(1500 * time.Millisecond)
		wantSeqs(t, st, 4, 5)
		m, err := st.LoadLast(MustFilter("kv.a"))
		if err != nil {
			t.Fatal(err)
		}
		want := "NATS/1.0\r\nNats-Marker-Reason: MaxAge\r\nNats-TTL: 5s\r\nNats-Rollup: sub\r\n\r\n"
		if string(m.Header) != want || m.TTL != 5*time.Second || len(m.Data) != 0 {
			t.Fatalf("marker %+v (header %q)", m, m.Header)
		}
		before := marked
		if before == 0 || last != 5 {
			t.Fatalf("the owner was told of the markers %d times, last at seq %d (want 5)", before, last)
		}
		if want := []Marker{{Seq: 4, Prev: 2}, {Seq: 5, Prev: 3}}; !slices.Equal(markers, want) {
			t.Fatalf("markers %v, want %v (each with the expired message before it)", markers, want)
		}
		h.advance(6 * time.Second)
		wantSeqs(t, st)
		if got := st.State(); got.LastSeq != 5 || marked != before {
			t.Fatalf("a marker's expiry stored another: %+v (told %d times, then %d)", got, before, marked)
		}
	})
}

// TestPurgeVariants covers every Purge shape.
func TestPurgeVariants(t *testing.T) {
	// Stored: 1 a, 2 b.x, 3 a, 4 b.y, 5 a, 6 c
	subjects := []string{"a", "b.x", "a", "b.y", "a", "c"}
	cases := []struct {
		name   string
		opts   PurgeOpts
		purged uint64
		want   []env.Seq
		first  env.Seq
	}{
		{"all", PurgeOpts{}, 6, nil, 7},
		{"all below seq", PurgeOpts{Seq: 4}, 3, []env.Seq{4, 5, 6}, 4},
		{"all keep two", PurgeOpts{Keep: 2}, 4, []env.Seq{5, 6}, 5},
		{"all keep more than stored", PurgeOpts{Keep: 10}, 0, []env.Seq{1, 2, 3, 4, 5, 6}, 1},
		{"subject", PurgeOpts{Subject: "a"}, 3, []env.Seq{2, 4, 6}, 2},
		{"subject below seq", PurgeOpts{Subject: "a", Seq: 5}, 2, []env.Seq{2, 4, 5, 6}, 2},
		{"subject keep one", PurgeOpts{Subject: "a", Keep: 1}, 2, []env.Seq{2, 4, 5, 6}, 2},
		{"wildcard keeps per subject", PurgeOpts{Subject: "b.*", Keep: 1}, 0, []env.Seq{1, 2, 3, 4, 5, 6}, 1},
		{"wildcard", PurgeOpts{Subject: "b.>"}, 2, []env.Seq{1, 3, 5, 6}, 1},
		{"full wildcard is all", PurgeOpts{Subject: ">"}, 6, nil, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachKind(t, Config{}, func(t *testing.T, h *harness, st Store) {
				for _, s := range subjects {
					h.mustStore(st, s, "x")
				}
				var n uint64
				err := h.waitDone(func(done func(error)) error {
					var err error
					n, err = st.Purge(c.opts, done)
					return err
				})
				if err != nil || n != c.purged {
					t.Fatalf("purged %d (%v), want %d", n, err, c.purged)
				}
				wantSeqs(t, st, c.want...)
				if got := st.State(); got.FirstSeq != c.first || got.LastSeq != 6 {
					t.Fatalf("state %+v, want first %d last 6", got, c.first)
				}
			})
		})
	}
	eachKind(t, Config{}, func(t *testing.T, h *harness, st Store) {
		if _, err := st.Purge(PurgeOpts{Seq: 1, Keep: 1}, nil); !errors.Is(err, ErrBadPurge) {
			t.Fatalf("seq+keep: %v", err)
		}
		if _, err := st.Purge(PurgeOpts{Subject: "a.>.b"}, nil); !errors.Is(err, ErrBadFilter) {
			t.Fatalf("bad filter: %v", err)
		}
	})
}

// TestCompactTruncate: Compact past the end moves both ends; Truncate lowers the last
// sequence, keeps the last time of the message it lands on, and refuses to go below first.
func TestCompactTruncate(t *testing.T) {
	eachKind(t, Config{}, func(t *testing.T, h *harness, st Store) {
		for i := 0; i < 5; i++ {
			h.mustStore(st, "a", fmt.Sprint(i))
		}
		m3, _ := st.LoadMsg(3)
		if err := h.waitDone(func(done func(error)) error { return st.Truncate(3, done) }); err != nil {
			t.Fatal(err)
		}
		if got := st.State(); got.LastSeq != 3 || got.LastTime != m3.Time || got.Msgs != 3 {
			t.Fatalf("after truncate: %+v", got)
		}
		if seq := h.mustStore(st, "a", "new"); seq != 4 {
			t.Fatalf("store after truncate got seq %d, want 4", seq)
		}
		if n, err := st.Compact(10, nil); err != nil || n != 4 {
			t.Fatalf("compact: %d %v", n, err)
		}
		if got := st.State(); got.FirstSeq != 10 || got.LastSeq != 9 || got.Msgs != 0 {
			t.Fatalf("after compact: %+v", got)
		}
		if err := st.Truncate(5, nil); !errors.Is(err, ErrTruncateTooLow) {
			t.Fatalf("truncate below first: %v", err)
		}
		if seq := h.mustStore(st, "a", "x"); seq != 10 {
			t.Fatalf("store after compact got seq %d, want 10", seq)
		}
	})
}

// TestFilters: LoadNext/LoadPrev/LoadLast/NumPending/SubjectsState with literal, wildcard and
// multiple filters, including the scan path taken when a filter matches many subjects.
func TestFilters(t *testing.T) {
	eachKind(t, Config{}, func(t *testing.T, h *harness, st Store) {
		for i := 0; i < 100; i++ {
			h.mustStore(st, fmt.Sprintf("orders.%d.new", i), "x")
		}
		h.mustStore(st, "orders.7.shipped", "y") // 101
		h.mustStore(st, "other", "z")            // 102
		next := func(f Filter, start env.Seq) env.Seq {
			m, err := st.LoadNext(f, start)
			if err != nil {
				return 0
			}
			return m.Seq
		}
		if got := next(MustFilter("orders.*.new"), 50); got != 50 {
			t.Fatalf("wildcard (scan path) next from 50: %d", got)
		}
		if got := next(MustFilter("orders.*.shipped"), 1); got != 101 {
			t.Fatalf("wildcard next: %d", got)
		}
		if got := next(MustFilter("orders.7.>", "other"), 9); got != 101 {
			t.Fatalf("multi next: %d", got)
		}
		if got := next(MustFilter("nothing.*"), 1); got != 0 {
			t.Fatalf("no match: %d", got)
		}
		if m, err := st.LoadPrev(MustFilter("orders.*.new"), 1000); err != nil || m.Seq != 100 {
			t.Fatalf("prev: %v %v", m, err)
		}
		if m, err := st.LoadLast(MustFilter("orders.>")); err != nil || m.Seq != 101 {
			t.Fatalf("last: %v %v", m, err)
		}
		if n := st.NumPending(90, MustFilter("orders.*.new"), false); n != 11 {
			t.Fatalf("pending: %d", n)
		}
		if n := st.NumPending(1, MustFilter("orders.7.*"), true); n != 2 {
			t.Fatalf("pending last per subject: %d", n)
		}
		if n := st.NumPending(1, MustFilter("orders.>", "orders.7.new"), false); n != 101 {
			t.Fatalf("overlapping filters counted twice: %d", n)
		}
		ss := st.SubjectsState(MustFilter("orders.7.*"))
		if len(ss) != 2 || ss["orders.7.new"] != (SubjectState{Msgs: 1, First: 8, Last: 8}) {
			t.Fatalf("subjects state %v", ss)
		}
		if st.State().NumSubjects != 102 {
			t.Fatalf("num subjects %d", st.State().NumSubjects)
		}
	})
}

func TestFilterValidation(t *testing.T) {
	for _, bad := range []string{"", "a..b", ".a", "a.", "a.>.b", "a b", "a\tb"} {
		if _, err := NewFilter(bad); !errors.Is(err, ErrBadFilter) {
			t.Errorf("filter %q accepted", bad)
		}
	}
	for _, good := range []string{"a", "*", ">", "a.*.>", "a.b.c"} {
		if _, err := NewFilter(good); err != nil {
			t.Errorf("filter %q rejected: %v", good, err)
		}
	}
	cases := []struct {
		filter, subject string
		match           bool
	}{
		{"a.*", "a.b", true}, {"a.*", "a.b.c", false}, {"a.>", "a.b.c", true}, {"a.>", "a", false},
		{"*.b", "a.b", true}, {"a", "a.b", false}, {">", "x", true}, {"a.*.c", "a.b.c", true},
	}
	for _, c := range cases {
		if got := MustFilter(c.filter).Matches(c.subject); got != c.match {
			t.Errorf("filter %q matches %q = %v", c.filter, c.subject, got)
		}
	}
	h := newHarness(t, 1, Config{})
	st := h.openMem()
	for _, bad := range []string{"", "a.*", "a.>", "a..b", "a b"} {
		if _, err := h.store(st, bad, "x", StoreOpts{}); !errors.Is(err, ErrBadSubject) {
			t.Errorf("subject %q stored: %v", bad, err)
		}
	}
}

func TestParseTTL(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"never", TTLNever, true}, {"5", 5 * time.Second, true}, {"1h", time.Hour, true},
		{"0", 0, false}, {"-1", 0, false}, {"bogus", 0, false}, {"-5s", 0, false},
		// nats-server's rules: "never" in any case, durations of at least a second counted in
		// whole seconds ("0" is a duration under a second), digits only for a number of seconds.
		{"NEVER", TTLNever, true}, {"500ms", 0, false}, {"0s", 0, false}, {"1500ms", time.Second, true},
		{"+5", 0, false}, {"", 0, false},
	}
	for _, c := range cases {
		got, err := ParseTTL(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseTTL(%q) = %v, %v", c.in, got, err)
		}
	}
}
