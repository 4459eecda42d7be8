package account

import (
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
	"pgregory.net/rapid"
)

func TestTransform(t *testing.T) {
	for _, tc := range []struct{ from, to, subj, want string }{
		{"orders.>", "fromA.orders.>", "orders.eu.new", "fromA.orders.eu.new"},
		{"prices.*", "px.*", "prices.eur", "px.eur"},
		{"a.*.b.*", "x.$2.$1", "a.1.b.2", "x.2.1"},
		{"a.*.*", "y.*.*", "a.p.q", "y.p.q"},
		{"svc.one", "svc.one", "svc.one", "svc.one"},
		{"one", "svc.one", "one", "svc.one"},
		{"a.*", "b.$x", "a.1", "b.$x"},                               // "$" without a number is a literal (nats-server)
		{"JS.A.API.>", "$JS.API.>", "JS.A.API.INFO", "$JS.API.INFO"}, // a JetStream API import
	} {
		tr, err := newTransform(tc.from, tc.to, false)
		if err != nil {
			t.Fatalf("%s -> %s: %v", tc.from, tc.to, err)
		}
		if got, ok := tr.mapSubject(tc.subj); !ok || got != tc.want {
			t.Errorf("%s -> %s on %s: %q %v, want %q", tc.from, tc.to, tc.subj, got, ok, tc.want)
		}
	}
	for _, bad := range [][2]string{{"a.*", "b.*.*"}, {"a.*", "b.>"}, {"a.*", "b.$2"}, {"a..b", "c"}} {
		if _, err := newTransform(bad[0], bad[1], false); err == nil {
			t.Errorf("%s -> %s accepted", bad[0], bad[1])
		}
	}
}

// A transform's output matches its destination pattern, for every subject its source matches.
func TestTransformProperty(t *testing.T) {
	tok := rapid.StringMatching(`[a-z0-9]{1,4}`)
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 5).Draw(t, "n")
		var from, subj, to []string
		for i := range n {
			s := tok.Draw(t, "tok")
			subj = append(subj, s)
			switch rapid.IntRange(0, 2).Draw(t, "kind") {
			case 0:
				from, to = append(from, s), append(to, "lit"+s)
			default:
				from, to = append(from, "*"), append(to, "*")
			}
			_ = i
		}
		if rapid.Bool().Draw(t, "tail") {
			from, to = append(from, ">"), append(to, ">")
			subj = append(subj, tok.Draw(t, "rest"), tok.Draw(t, "rest2"))
		}
		tr, err := newTransform(strings.Join(from, "."), strings.Join(to, "."), false)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tr.mapSubject(strings.Join(subj, "."))
		if !ok || !subject.Match(got, tr.to) || !subject.ValidPublish(got) {
			t.Fatalf("%s -> %s: %q gives %q (%v)", tr.from, tr.to, strings.Join(subj, "."), got, ok)
		}
	})
}

func TestBuildRefuses(t *testing.T) {
	pub := Config{Name: "A", Exports: []Export{{Kind: Stream, Subject: "s.>"}, {Kind: Service, Subject: "q.*"}, {Kind: Stream, Subject: "only.c", Accounts: []string{"C"}}}}
	withA := func(b Config) []Config { return []Config{pub, b, {Name: "C"}} }
	for name, tc := range map[string]struct {
		cfgs []Config
		want string
	}{
		"unknown exporter": {[]Config{{Name: "B", Imports: []Import{{Kind: Stream, Account: "Z", Subject: "s"}}}}, "unknown account"},
		"not exported":     {withA(Config{Name: "B", Imports: []Import{{Kind: Stream, Account: "A", Subject: "t"}}}), "not exported"},
		"wrong kind":       {withA(Config{Name: "B", Imports: []Import{{Kind: Service, Account: "A", Subject: "s.x"}}}), "not exported"},
		"restricted":       {withA(Config{Name: "B", Imports: []Import{{Kind: Stream, Account: "A", Subject: "only.c"}}}), "not exported"},
		"wider":            {withA(Config{Name: "B", Imports: []Import{{Kind: Stream, Account: "A", Subject: ">"}}}), "not exported"},
		"self":             {[]Config{pub, {Name: "C", Imports: []Import{{Kind: Stream, Account: "C", Subject: "x"}}}}, "itself"},
		"service prefix":   {withA(Config{Name: "B", Imports: []Import{{Kind: Service, Account: "A", Subject: "q.x", Prefix: "p"}}}), "'to'"},
		"duplicate":        {[]Config{pub, pub}, "duplicate"},
		"export to nobody": {[]Config{{Name: "A", Exports: []Export{{Kind: Stream, Subject: "x", Accounts: []string{"Q"}}}}}, "unknown account"},
		"service cycle": {[]Config{
			{Name: "A", Exports: []Export{{Kind: Service, Subject: "q"}}, Imports: []Import{{Kind: Service, Account: "B", Subject: "q"}}},
			{Name: "B", Exports: []Export{{Kind: Service, Subject: "q"}}, Imports: []Import{{Kind: Service, Account: "A", Subject: "q"}}},
		}, "cycle"},
		"stream cycle": {[]Config{
			{Name: "A", Exports: []Export{{Kind: Stream, Subject: ">"}}, Imports: []Import{{Kind: Stream, Account: "B", Subject: "x.>"}}},
			{Name: "B", Exports: []Export{{Kind: Stream, Subject: ">"}}, Imports: []Import{{Kind: Stream, Account: "A", Subject: "x.>"}}},
		}, "cycle"},
	} {
		_, err := Build(tc.cfgs, "", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error with %q", name, err, tc.want)
		}
	}
	// A chain that does not come back is fine: prefixes move it out of the way.
	_, err := Build([]Config{
		{Name: "A", Exports: []Export{{Kind: Stream, Subject: ">"}}, Imports: []Import{{Kind: Stream, Account: "B", Subject: "x.>", Prefix: "b"}}},
		{Name: "B", Exports: []Export{{Kind: Stream, Subject: "x.>"}}, Imports: []Import{{Kind: Stream, Account: "A", Subject: "y.>"}}},
	}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
}

// Build keeps accounts (and their subscriptions) across generations, and puts the new
// routes in force only at Install.
func TestBuildKeepsAccounts(t *testing.T) {
	first, err := Build([]Config{{Name: "A"}}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	set := first.Install()
	if set.Get(Global) == nil || set.System().Name() != DefaultSystem {
		t.Fatalf("accounts %v", set.Names())
	}
	a := set.Get("A")
	next, err := Build([]Config{{Name: "A", Exports: []Export{{Kind: Stream, Subject: "s"}}}, {Name: "B", Imports: []Import{{Kind: Stream, Account: "A", Subject: "s"}}}}, "SYS", set)
	if err != nil {
		t.Fatal(err)
	}
	if next.Set().Get("A") != a || len(a.Routes().Streams) != 0 {
		t.Fatal("routes changed before Install")
	}
	next.Install()
	if r := a.Routes().Streams; len(r) != 1 || r[0].To.Name() != "B" {
		t.Fatalf("routes %+v", r)
	}
}

func TestReplies(t *testing.T) {
	rng := env.NewPRNG(1)
	a, b := newAccount("A"), newAccount("B")
	single := ServiceRoute{From: a, Response: Singleton}
	many := ServiceRoute{From: a, Response: Streamed, Threshold: time.Second}
	if a.ReplyInterest() != "" {
		t.Fatalf("reply interest %q before any reply subject", a.ReplyInterest())
	}
	s1 := a.MapReply(b, "_INBOX.1", single, 0, rng)
	s2 := a.MapReply(b, "_INBOX.2", many, 0, rng)
	if !strings.HasPrefix(s1, ReplyPrefix) || s1 == s2 || !subject.ValidPublish(s1) {
		t.Fatalf("reply subjects %q %q", s1, s2)
	}
	// One server's reply subjects share a prefix that one subscription covers.
	if in := a.ReplyInterest(); subject.NumTokens(s1) != 3 || !subject.Match(s1, in) || !subject.Match(s2, in) {
		t.Fatalf("reply subjects %q %q, interest %q", s1, s2, in)
	}
	if to, subj, _, ok := a.Answer([]byte(s1), time.Millisecond); !ok || to != b || subj != "_INBOX.1" {
		t.Fatalf("singleton: %v %q %v", to, subj, ok)
	}
	if _, _, _, ok := a.Answer([]byte(s1), time.Millisecond); ok {
		t.Fatal("a singleton answered twice")
	}
	for _, at := range []time.Duration{500 * time.Millisecond, 1400 * time.Millisecond, 2300 * time.Millisecond} {
		if _, _, _, ok := a.Answer([]byte(s2), at); !ok {
			t.Fatalf("stream response at %v refused", at)
		}
	}
	if _, _, _, ok := a.Answer([]byte(s2), 3400*time.Millisecond); ok {
		t.Fatal("a stream answered after its threshold passed")
	}
	if _, _, _, ok := a.Answer([]byte("_INBOX.1"), 0); ok {
		t.Fatal("a subject never mapped answered")
	}
	if a.PendingReplies() != 0 {
		t.Fatalf("%d left", a.PendingReplies())
	}
}

// The table stays bounded when a service never answers.
func TestRepliesBounded(t *testing.T) {
	rng := env.NewPRNG(2)
	a, b := newAccount("A"), newAccount("B")
	r := ServiceRoute{From: a, Response: Singleton}
	for i := range maxReplies + 10 {
		a.MapReply(b, "r", r, time.Duration(i), rng)
	}
	if n := a.PendingReplies(); n > maxReplies {
		t.Fatalf("%d replies held", n)
	}
}
