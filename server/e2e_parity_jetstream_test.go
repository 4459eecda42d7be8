package server

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// JetStream parity, side by side: each scenario does the same things as a client and writes
// down what the client sees (PubAck and API answers as canonical JSON, status headers,
// delivered headers), leaving out what differs run to run (times, random ids: noted as
// present). nats-server v2.15.2's transcript is kept in testdata/jsparity/<scenario>.txt,
// written from the real server with
//
//	NATS_SERVER_BIN=/path/to/nats-server go test -run TestJetStreamParity ./server/ -update-jsparity-golden
//
// Petrel's transcript must equal it, but for the lines in jsParityDepartures (each with why).
// With NATS_SERVER_BIN set, nats-server is run too and must still give the kept transcript.

var updateJSParityGolden = flag.Bool("update-jsparity-golden", false, "rewrite testdata/jsparity from NATS_SERVER_BIN")

const jsParityGoldenDir = "../testdata/jsparity"

// jsParityDepartures are transcript keys where Petrel answers otherwise on purpose, with the
// reason. A key is "<scenario>/<step>".
var jsParityDepartures = map[string]string{
	"ttl/info":   infoWithoutCluster,
	"batch/info": infoWithoutCluster,
	"pause/pause-missing": "an error answer carries only its type and error; nats-server also writes the zero " +
		"pause fields of the success shape, which clients do not read once they see the error",
	"pause/pause-bad-json": "the same, and the error text after \"invalid JSON: \" is the JSON decoder's own words " +
		"(the code, 10025, is the same)",
}

const infoWithoutCluster = "Petrel has no cluster: STREAM.INFO leaves out \"cluster\", where a lone nats-server " +
	"names itself the leader"

// jsonDepartures are JSON keys whose values Petrel gives otherwise on purpose, everywhere,
// with the reason; their presence is compared, not their value.
var jsonDepartures = map[string]string{
	"_nats.level": "the API level Petrel implements (jsapi.Level, that of nats 2.12) is below nats-server v2.15.2's",
}

// volatileKeys are JSON keys whose values differ run to run (times, durations measured from
// now, random ids, server identities): their presence is kept, not their value.
var volatileKeys = map[string]bool{
	"created": true, "ts": true, "first_ts": true, "last_ts": true, "last_active": true,
	"pause_until": true, "pause_remaining": true, "pinned_ts": true, "pinned_id": true,
	"time": true, "timestamp": true, "server": true, "server_id": true, "leader": true,
	"_nats.ver": true, "leader_since": true, "id": true, "name": true, "cluster": true,
}

// volatileHeaders are delivered headers whose values differ run to run.
var volatileHeaders = map[string]bool{
	"Nats-Time-Stamp": true, "Nats-Pin-Id": true, "Nats-Schedule-Next": true,
}

// transcript is what one run of a scenario saw, a line per observation.
type transcript struct {
	t     *testing.T
	lines []string
}

func (tr *transcript) note(step, format string, args ...any) {
	tr.lines = append(tr.lines, step+": "+fmt.Sprintf(format, args...))
}

// noteJSON writes down a JSON answer, canonical (sorted keys), volatile values masked.
func (tr *transcript) noteJSON(step string, data []byte) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		tr.note(step, "not JSON: %q", data)
		return
	}
	out, err := json.Marshal(maskVolatile(v))
	must(tr.t, err)
	tr.note(step, "%s", out)
}

func maskVolatile(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if r := jsonDepartures[k]; r != "" {
				x[k] = "<departure>"
				continue
			}
			if volatileKeys[k] {
				x[k] = "<set>"
				continue
			}
			if h, ok := c.(string); ok && k == "hdrs" {
				x[k] = maskHeaders(h)
				continue
			}
			x[k] = maskVolatile(c)
		}
	case []any:
		for i, c := range x {
			x[i] = maskVolatile(c)
		}
	}
	return v
}

// maskHeaders decodes a stored message's headers (base64 in STREAM.MSG.GET answers) into
// lines, volatile values masked.
func maskHeaders(b64 string) []string {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return []string{"not base64: " + b64}
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\r\n")
	for i, line := range lines {
		if k, _, ok := strings.Cut(line, ": "); ok && volatileHeaders[k] {
			lines[i] = k + ": <set>"
		}
	}
	slices.Sort(lines[1:]) // nats.go writes a message's headers in map order
	return lines
}

// noteMsg writes down a delivered message: subject, headers (sorted, volatile masked), data.
func (tr *transcript) noteMsg(step string, m *nats.Msg) {
	var hs []string
	for k, vs := range m.Header {
		for _, v := range vs {
			if volatileHeaders[k] {
				v = "<set>"
			}
			hs = append(hs, k+"="+v)
		}
	}
	slices.Sort(hs)
	subject := m.Subject
	if strings.HasPrefix(subject, nats.InboxPrefix) {
		subject = "<inbox>"
	}
	tr.note(step, "subject=%s headers=[%s] data=%q", subject, strings.Join(hs, " "), m.Data)
}

// parityClient is one connection with the helpers the scenarios use.
type parityClient struct {
	t  *testing.T
	nc *nats.Conn
	tr *transcript
}

// api sends a request to $JS.API.<subject> and returns the answer's body.
func (c *parityClient) api(subject string, body any) []byte {
	c.t.Helper()
	var data []byte
	switch b := body.(type) {
	case nil:
	case string:
		data = []byte(b)
	default:
		var err error
		data, err = json.Marshal(b)
		must(c.t, err)
	}
	m, err := c.nc.Request("$JS.API."+subject, data, testTimeout)
	must(c.t, err)
	return m.Data
}

// apiNote sends a request and writes down its answer.
func (c *parityClient) apiNote(step, subject string, body any) {
	c.t.Helper()
	c.tr.noteJSON(step, c.api(subject, body))
}

// apiNoteUnsequenced writes down a STREAM.MSG.GET answer without the message's sequence
// (where timers decide how many messages came before it).
func (c *parityClient) apiNoteUnsequenced(step, subject string, body any) {
	c.t.Helper()
	var v map[string]any
	must(c.t, json.Unmarshal(c.api(subject, body), &v))
	if m, ok := v["message"].(map[string]any); ok {
		delete(m, "seq")
	}
	data, err := json.Marshal(v)
	must(c.t, err)
	c.tr.noteJSON(step, data)
}

// pub publishes with headers (name, value pairs) and writes down the answer.
func (c *parityClient) pub(step, subject, data string, hdr ...string) {
	c.t.Helper()
	m := nats.NewMsg(subject)
	m.Data = []byte(data)
	for i := 0; i+1 < len(hdr); i += 2 {
		m.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := c.nc.RequestMsg(m, testTimeout)
	if err != nil {
		c.tr.note(step, "error %v", err)
		return
	}
	if len(r.Data) == 0 {
		c.tr.note(step, "empty answer, headers %v", r.Header)
		return
	}
	c.tr.noteJSON(step, r.Data)
}

// pull sends one MSG.NEXT request and writes down every message up to and including the
// first status (or until wait passes with nothing more), acking each.
func (c *parityClient) pull(step, stream, consumer string, req string, wait time.Duration) {
	c.collect(step, "$JS.API.CONSUMER.MSG.NEXT."+stream+"."+consumer, req, wait, true)
}

// collect sends body to subject and writes down every answer up to and including the first
// status (or until wait passes with nothing more); with ack it acks each message that asks.
func (c *parityClient) collect(step, subject, body string, wait time.Duration, ack bool) {
	c.t.Helper()
	inbox := nats.NewInbox()
	sub, err := c.nc.SubscribeSync(inbox)
	must(c.t, err)
	defer sub.Unsubscribe()
	must(c.t, c.nc.PublishRequest(subject, inbox, []byte(body)))
	for i := 0; ; i++ {
		m, err := sub.NextMsg(wait)
		if err != nil {
			c.tr.note(fmt.Sprintf("%s.%d", step, i), "nothing more")
			return
		}
		c.tr.noteMsg(fmt.Sprintf("%s.%d", step, i), m)
		if m.Header.Get("Status") != "" {
			return
		}
		if ack && m.Reply != "" {
			must(c.t, m.Respond(nil))
		}
	}
}

// jsParityScenario is one side-by-side scenario.
type jsParityScenario struct {
	name string
	run  func(c *parityClient)
}

func TestJetStreamParity(t *testing.T) {
	bin := os.Getenv("NATS_SERVER_BIN")
	for _, sc := range jsParityScenarios {
		t.Run(sc.name, func(t *testing.T) {
			file := filepath.Join(jsParityGoldenDir, sc.name+".txt")
			if bin != "" {
				port := freePort(t)
				startNatsServer(t, bin, []string{"-a", "127.0.0.1", "-p", port, "-js", "-sd", t.TempDir()})
				got := runParity(t, sc, "nats://127.0.0.1:"+port)
				if *updateJSParityGolden {
					must(t, os.MkdirAll(jsParityGoldenDir, 0o755))
					must(t, os.WriteFile(file, []byte(strings.Join(got, "\n")+"\n"), 0o644))
				}
				compareParity(t, sc.name, "nats-server", readGolden(t, file), got, false)
			}
			p, _ := startJS(t)
			compareParity(t, sc.name, "petrel", readGolden(t, file), runParity(t, sc, p.url()), true)
		})
	}
}

func readGolden(t *testing.T, file string) []string {
	t.Helper()
	data, err := os.ReadFile(file)
	must(t, err)
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func runParity(t *testing.T, sc jsParityScenario, url string) []string {
	t.Helper()
	tr := &transcript{t: t}
	sc.run(&parityClient{t: t, nc: connect(t, url), tr: tr})
	return tr.lines
}

// compareParity reports every line of got that differs from want (nats-server's), but for
// the departures when allowed.
func compareParity(t *testing.T, scenario, who string, want, got []string, departures bool) {
	t.Helper()
	key := func(line string) string { k, _, _ := strings.Cut(line, ": "); return k }
	wantBy := map[string]string{}
	for _, l := range want {
		wantBy[key(l)] = l
	}
	gotBy := map[string]string{}
	for _, l := range got {
		gotBy[key(l)] = l
	}
	for _, l := range want {
		k := key(l)
		if departures && jsParityDepartures[scenario+"/"+k] != "" {
			continue
		}
		if g, ok := gotBy[k]; !ok {
			t.Errorf("%s: no %q\n  nats-server: %s", who, k, l)
		} else if g != l {
			t.Errorf("%s differs:\n  nats-server: %s\n  %s: %s", who, l, who, g)
		}
	}
	for _, l := range got {
		if _, ok := wantBy[key(l)]; !ok {
			t.Errorf("%s: extra line %s", who, l)
		}
	}
}
