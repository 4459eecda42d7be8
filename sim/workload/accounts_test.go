package workload

import (
	"maps"
	"testing"
)

func TestAccRewrite(t *testing.T) {
	for _, tc := range []struct{ from, to, subj, want string }{
		{"ev.A.>", "pA.ev.A.>", "ev.A.c.d", "pA.ev.A.c.d"},
		{"ev.A.*", "tA.*", "ev.A.b", "tA.b"},
		{"ev.A.>", "ev.C.A.>", "ev.A.a", "ev.C.A.a"},
		{"mw.*.*", "mwd.$2.$1", "mw.p.q", "mwd.q.p"},
		{"rq.B.one", "svc.B.one", "rq.B.one", "svc.B.one"},
	} {
		if got := accRewrite(tc.from, tc.to, tc.subj); got != tc.want {
			t.Errorf("%s -> %s on %s: %s, want %s", tc.from, tc.to, tc.subj, got, tc.want)
		}
	}
}

// The model follows mappings, imports (with chains) and service imports, and never a
// forbidden import.
func TestAccModelOutcomes(t *testing.T) {
	a := &accAccount{name: "A", exports: []accExport{{subject: "ev.A.>"}},
		mappings: []accMapping{{source: "mx", dsts: []accDst{{"mx.l", 40}, {"mx.r", 40}}}, {source: "m.ev", dsts: []accDst{{"ev.A.mapped", 100}}}},
		imports:  []accImport{{service: true, from: "C", subject: "svc.C.one", to: "rq.C.one", exportIndex: 0}}}
	b := &accAccount{name: "B", index: 1, exports: []accExport{{subject: "ev.B.>"}},
		imports: []accImport{{from: "A", subject: "ev.A.*", to: "ev.B.A.*"}}}
	c := &accAccount{name: "C", index: 2, exports: []accExport{{service: true, subject: "svc.C.one", singleton: true, accounts: []string{"A"}}},
		imports: []accImport{{from: "B", subject: "ev.B.>", prefix: "pB"}, {from: "A", subject: "ev.A.>", prefix: "pA", forbidden: true}}}
	spec := &accSpec{accounts: []*accAccount{a, b, c}, byName: map[string]*accAccount{"A": a, "B": b, "C": c}}
	m := newAccModel(spec)
	for _, tc := range []struct {
		acc, subj string
		want      []map[accDest]int
	}{
		{"A", "m.ev", []map[accDest]int{{{"A", "ev.A.mapped"}: 1, {"B", "ev.B.A.mapped"}: 1, {"C", "pB.ev.B.A.mapped"}: 1}}},
		{"A", "mx", []map[accDest]int{{{"A", "mx.l"}: 1}, {{"A", "mx.r"}: 1}, {{"A", "mx"}: 1}}},
		{"A", "rq.C.one", []map[accDest]int{{{"A", "rq.C.one"}: 1, {"C", "svc.C.one"}: 1}}},
		{"A", "ev.A.c.d", []map[accDest]int{{{"A", "ev.A.c.d"}: 1}}},
		{"B", "ev.A.a", []map[accDest]int{{{"B", "ev.A.a"}: 1}}},
	} {
		got := m.outcomes(tc.acc, tc.subj)
		if len(got) != len(tc.want) {
			t.Fatalf("%s %s: %d outcomes, want %d", tc.acc, tc.subj, len(got), len(tc.want))
		}
		for i, o := range got {
			if !maps.Equal(o.dests, tc.want[i]) {
				t.Errorf("%s %s outcome %d: %v, want %v", tc.acc, tc.subj, i, o.dests, tc.want[i])
			}
		}
	}
}
