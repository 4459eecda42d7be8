package proto

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// recorder writes each op as one canonical line, so two parses can be compared.
type recorder struct{ ops []string }

func (r *recorder) add(format string, args ...any) error {
	r.ops = append(r.ops, fmt.Sprintf(format, args...))
	return nil
}
func (r *recorder) Connect(j []byte) error { return r.add("CONNECT %s", j) }
func (r *recorder) Info(j []byte) error    { return r.add("INFO %s", j) }
func (r *recorder) Pub(s, rep []byte, hdr int, msg []byte) error {
	return r.add("PUB %s|%s|%d|%q", s, rep, hdr, msg)
}
func (r *recorder) Msg(s, sid, rep []byte, hdr int, msg []byte) error {
	return r.add("MSG %s|%s|%s|%d|%q", s, sid, rep, hdr, msg)
}
func (r *recorder) Sub(s, q, sid []byte) error      { return r.add("SUB %s|%s|%s", s, q, sid) }
func (r *recorder) Unsub(sid []byte, max int) error { return r.add("UNSUB %s|%d", sid, max) }
func (r *recorder) Ping() error                     { return r.add("PING") }
func (r *recorder) Pong() error                     { return r.add("PONG") }
func (r *recorder) OK() error                       { return r.add("+OK") }
func (r *recorder) Err(t []byte) error              { return r.add("-ERR %s", t) }

func parseAll(_ any, limits Limits, chunks ...string) ([]string, error) {
	r := &recorder{}
	p := NewParser(r, limits)
	for _, c := range chunks {
		if err := p.Parse([]byte(c)); err != nil {
			return r.ops, err
		}
	}
	return r.ops, nil
}

func TestParseOps(t *testing.T) {
	cases := []struct {
		name, in string
		want     []string
	}{
		{"pub", "PUB foo 5\r\nhello\r\n", []string{`PUB foo||-1|"hello"`}},
		{"pub reply", "PUB foo bar 0\r\n\r\n", []string{`PUB foo|bar|-1|""`}},
		{"hpub", "HPUB foo r 12 14\r\nNATS/1.0\r\n\r\nhi\r\n", []string{`PUB foo|r|12|"NATS/1.0\r\n\r\nhi"`}},
		{"lowercase and tabs", "pub\tfoo \t 2\r\nhi\r\nping\r\n", []string{`PUB foo||-1|"hi"`, "PING"}},
		{"sub queue unsub", "SUB foo.* q 1\r\nSUB bar 2\r\nUNSUB 1 5\r\nUNSUB 2\r\n",
			[]string{"SUB foo.*|q|1", "SUB bar||2", "UNSUB 1|5", "UNSUB 2|0"}},
		{"connect", `CONNECT {"verbose":false, "name":"x y"}` + "\r\n", []string{`CONNECT {"verbose":false, "name":"x y"}`}},
		{"bare LF", "PING\nPONG\n", []string{"PING", "PONG"}},
		{"msg", "MSG foo 9 bar 3\r\nabc\r\nHMSG foo 9 5 5\r\nNATS/\r\n",
			[]string{`MSG foo|9|bar|-1|"abc"`, `MSG foo|9||5|"NATS/"`}},
		{"info ok err", "INFO {\"a\":1} \r\n+OK\r\n-ERR 'Stale Connection'\r\n",
			[]string{`INFO {"a":1}`, "+OK", "-ERR Stale Connection"}},
		{"payload with CRLF inside", "PUB a 4\r\n\r\n\r\n\r\n", []string{`PUB a||-1|"\r\n\r\n"`}},
		{"PING, PONG and +OK by prefix", "PINGX\r\nPONG extra\r\n+OKX\r\nPING\rPING\r\n", []string{"PING", "PONG", "+OK", "PING"}},
		{"CONNECT and INFO without a blank", "CONNECT{}\r\nINFO{}\r\nconnectX\r\n", []string{"CONNECT {}", "INFO {}", "CONNECT X"}},
		{"unsub max that is not a number", "UNSUB 1 x\r\nUNSUB 2 -1\r\n", []string{"UNSUB 1|0", "UNSUB 2|0"}},
		{"-ERR with a tab", "-ERR\t'x'\r\n", []string{"-ERR x"}},
	}
	for _, c := range cases {
		got, err := parseAll(t, Limits{}, c.in)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, in string
		limits   Limits
		want     error
	}{
		{"unknown op", "FOO bar\r\n", Limits{}, ErrUnknownOp},
		{"op name alone", "PUB\r\n", Limits{}, ErrUnknownOp},
		{"op name without blank", "SUBX foo 1\r\n", Limits{}, ErrUnknownOp},
		{"empty line", "\r\n", Limits{}, ErrUnknownOp},
		{"leading blank", " PING\r\n", Limits{}, ErrUnknownOp},
		{"bare -ERR", "-ERR\r\n", Limits{}, ErrUnknownOp},
		{"unknown op known before its line ends", "X", Limits{}, ErrUnknownOp},
		{"pub without size", "PUB foo\r\n", Limits{}, ErrBadArguments},
		{"pub with blank only", "PUB \r\n", Limits{}, ErrBadArguments},
		{"pub bad size", "PUB foo x\r\n", Limits{}, ErrBadArguments},
		{"pub signed size", "PUB foo +1\r\n", Limits{}, ErrBadArguments},
		{"pub huge size", "PUB foo 99999999999999999999\r\n", Limits{}, ErrBadArguments},
		{"hpub header larger than total", "HPUB foo 10 5\r\n", Limits{}, ErrBadArguments},
		{"sub with too many args", "SUB a b c d\r\n", Limits{}, ErrBadArguments},
		{"unsub with too many args", "UNSUB 1 2 3\r\n", Limits{}, ErrBadArguments},
		{"payload without CRLF", "PUB foo 2\r\nhiXX", Limits{}, ErrUnknownOp},
		{"payload without CR, known a byte early", "PUB foo 2\r\nhi\n", Limits{}, ErrUnknownOp},
		{"max payload", "PUB foo 200\r\n", Limits{MaxPayload: 128}, ErrMaxPayload},
		{"max control line", "SUB " + strings.Repeat("a", 2000) + " 1\r\n", Limits{MaxControlLine: 1024}, ErrMaxControlLine},
		{"max control line without newline", "SUB " + strings.Repeat("a", 2000), Limits{MaxControlLine: 1024}, ErrMaxControlLine},
		{"max control line of a PING", "PING " + strings.Repeat("a", 2000), Limits{MaxControlLine: 1024}, ErrMaxControlLine},
	}
	for _, c := range cases {
		_, err := parseAll(t, c.limits, c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
}

// TestControlLineLimitCountsArguments: max_control_line bounds the bytes after the op name
// and its blanks, as nats-server counts them, whole or split.
func TestControlLineLimitCountsArguments(t *testing.T) {
	limits := Limits{MaxControlLine: 8}
	for _, in := range [][]string{{"SUB     aaaaaa 1\r\n"}, {"SUB     aaa", "aaa 1", "\r\n"}} {
		got, err := parseAll(t, limits, in...)
		if err != nil || len(got) != 1 || got[0] != "SUB aaaaaa||1" {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	for _, in := range [][]string{{"SUB aaaaaaa 1\r\n"}, {"SUB aaaa", "aaa 1"}} {
		if _, err := parseAll(t, limits, in...); !errors.Is(err, ErrMaxControlLine) {
			t.Errorf("%q: err %v, want %v", in, err, ErrMaxControlLine)
		}
	}
}

// opGen draws one well-formed client or server operation.
func opGen() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		subj := rapid.SampledFrom([]string{"a", "foo.bar", "_INBOX.x.y"}).Draw(t, "subj")
		body := rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "body")
		switch rapid.IntRange(0, 7).Draw(t, "kind") {
		case 0:
			return string(AppendPub(nil, subj, "", -1, body))
		case 1:
			hdr := "NATS/1.0\r\nk: v\r\n\r\n"
			return string(AppendPub(nil, subj, "r.1", len(hdr), append([]byte(hdr), body...)))
		case 2:
			return string(AppendMsg(nil, []byte(subj), "7", []byte("reply"), -1, body))
		case 3:
			return string(AppendSub(nil, subj, "q", "12"))
		case 4:
			return string(AppendUnsub(nil, "12", rapid.IntRange(0, 9).Draw(t, "max")))
		case 5:
			return "PING\r\n"
		case 6:
			return `CONNECT {"echo":true}` + "\r\n"
		default:
			return string(AppendErr(nil, "Permissions Violation"))
		}
	})
}

// TestAnySplitParsesTheSame: a stream cut into arbitrary chunks parses to exactly the ops of
// the uncut stream.
func TestAnySplitParsesTheSame(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ops := rapid.SliceOfN(opGen(), 1, 20).Draw(t, "ops")
		stream := strings.Join(ops, "")
		whole, err := parseAll(t, Limits{MaxControlLine: 4096}, stream)
		if err != nil {
			t.Fatalf("whole stream: %v", err)
		}
		if len(whole) != len(ops) {
			t.Fatalf("%d ops parsed from %d", len(whole), len(ops))
		}
		var chunks []string
		for rest := stream; len(rest) > 0; {
			n := rapid.IntRange(1, len(rest)).Draw(t, "cut")
			chunks, rest = append(chunks, rest[:n]), rest[n:]
		}
		split, err := parseAll(t, Limits{MaxControlLine: 4096}, chunks...)
		if err != nil {
			t.Fatalf("split stream: %v", err)
		}
		if strings.Join(split, "\n") != strings.Join(whole, "\n") {
			t.Fatalf("split parse differs:\n%q\n%q", split, whole)
		}
	})
}

type nopHandler struct{ recorder }

func (nopHandler) Pub(s, rep []byte, hdr int, msg []byte) error { return nil }

// TestPubParseAllocatesNothing guards the publish fast path.
func TestPubParseAllocatesNothing(t *testing.T) {
	p := NewParser(&nopHandler{}, Limits{MaxControlLine: 4096, MaxPayload: 1 << 20})
	buf := []byte("PUB foo.bar _INBOX.abc 11\r\nhello world\r\nHPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n")
	allocs := testing.AllocsPerRun(1000, func() {
		if err := p.Parse(buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("parsing whole PUBs allocated %v times per run", allocs)
	}
}

func BenchmarkParsePub(b *testing.B) {
	p := NewParser(&nopHandler{}, Limits{MaxControlLine: 4096, MaxPayload: 1 << 20})
	var buf []byte
	for i := 0; i < 100; i++ {
		buf = AppendPub(buf, "foo.bar", "", -1, make([]byte, 16))
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := p.Parse(buf); err != nil {
			b.Fatal(err)
		}
	}
}
