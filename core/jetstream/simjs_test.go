package jetstream_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/sim"
	"github.com/petrel-io/petrel/sim/natsclient"
)

// simJS is one simulated node running the engine with JetStream and one client node, for
// driving the JetStream API through the protocol as a client would.
type simJS struct {
	t      testing.TB
	w      *sim.World
	server *sim.Node
	cliEnv *env.Env
	cli    *natsclient.Client
	inbox  int
}

// requestWait bounds how long (virtual time) a request waits for its answer.
const requestWait = 2 * time.Second

func newSimJS(t *testing.T) *simJS { return newSimJSWith(t, nil) }

// newSimJSWith is newSimJS with the server's Env passed through wrap first (nil: as is).
func newSimJSWith(t testing.TB, wrap func(*env.Env)) *simJS {
	t.Helper()
	quiet := sim.Quiet()
	j := &simJS{t: t, w: sim.NewWorld(1, sim.Options{Profile: &quiet})}
	j.server = j.w.AddNode("s1", sim.NodeConfig{}, func(e *env.Env) {
		if wrap != nil {
			wrap(e)
		}
		s, err := core.New(core.Options{Port: 4222, JetStream: true, JetStreamStoreDir: "data"}, e)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	})
	j.w.AddNode("c1", sim.NodeConfig{}, func(e *env.Env) { j.cliEnv = e })
	j.run(50 * time.Millisecond)
	j.connect()
	return j
}

func (j *simJS) connect() {
	j.t.Helper()
	e := j.cliEnv
	j.cli = nil
	natsclient.Dial(e, e.Exec.New("client"), "s1:4222", natsclient.Options{}, func(c *natsclient.Client, err error) {
		if err != nil {
			j.t.Errorf("dial: %v", err)
			return
		}
		j.cli = c
	})
	j.run(100 * time.Millisecond)
	if j.cli == nil {
		j.t.Fatal("no connection")
	}
}

// restartServer crashes the server node (a machine crash: unsynced data lost) and boots it
// again, then reconnects the client.
func (j *simJS) restartServer() {
	j.t.Helper()
	j.server.Crash(true)
	j.run(10 * time.Millisecond)
	j.server.Restart()
	j.run(200 * time.Millisecond)
	j.connect()
}

func (j *simJS) run(d time.Duration) { j.w.RunUntil(j.w.Now() + d) }

// newInbox is a fresh reply subject.
func (j *simJS) newInbox() string {
	j.inbox++
	return fmt.Sprintf("_INBOX.t.%d", j.inbox)
}

// request sends data to subject and returns the first answer (nil if none came in time).
func (j *simJS) request(subject string, data []byte) *natsclient.Msg {
	j.t.Helper()
	inbox := j.newInbox()
	var got *natsclient.Msg
	sub := j.cli.Subscribe(inbox, "", func(m *natsclient.Msg) {
		if got == nil {
			got = copyMsg(m)
		}
	})
	j.cli.Publish(subject, inbox, nil, data)
	for deadline := j.w.Now() + requestWait; got == nil && j.w.Now() < deadline; {
		j.run(time.Millisecond)
	}
	j.cli.Unsubscribe(sub, 0)
	return got
}

func copyMsg(m *natsclient.Msg) *natsclient.Msg {
	return &natsclient.Msg{Subject: m.Subject, Reply: m.Reply, Sid: m.Sid,
		Header: append([]byte(nil), m.Header...), Data: append([]byte(nil), m.Data...)}
}

// api sends a JSON request to $JS.API.<verb> and decodes the answer into out; it returns
// the answer's error, if any.
func (j *simJS) api(verb string, req, out any) *jsapi.Error {
	j.t.Helper()
	var body []byte
	if req != nil {
		var err error
		if body, err = json.Marshal(req); err != nil {
			j.t.Fatal(err)
		}
	}
	m := j.request(jsapi.Prefix+verb, body)
	if m == nil {
		j.t.Fatalf("%s: no answer", verb)
	}
	var resp jsapi.Response
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		j.t.Fatalf("%s: answer %q: %v", verb, m.Data, err)
	}
	if out != nil {
		if err := json.Unmarshal(m.Data, out); err != nil {
			j.t.Fatalf("%s: answer %q: %v", verb, m.Data, err)
		}
	}
	return resp.Error
}

// mustAPI is api for a request that must succeed.
func (j *simJS) mustAPI(verb string, req, out any) {
	j.t.Helper()
	if e := j.api(verb, req, out); e != nil {
		j.t.Fatalf("%s: %d %s", verb, e.ErrCode, e.Description)
	}
}

// expectError holds an API answer's error to a code.
func expectError(t *testing.T, what string, e *jsapi.Error, code jsapi.ErrCode) {
	t.Helper()
	if e == nil || e.ErrCode != code {
		t.Fatalf("%s: got error %+v, want %d", what, e, code)
	}
}

// publish publishes to a stream and waits for its ack.
func (j *simJS) publish(subject string, hdr, data []byte) jsapi.PubAckResponse {
	j.t.Helper()
	inbox := j.newInbox()
	var got *natsclient.Msg
	sub := j.cli.Subscribe(inbox, "", func(m *natsclient.Msg) { got = copyMsg(m) })
	j.cli.Publish(subject, inbox, hdr, data)
	for deadline := j.w.Now() + requestWait; got == nil && j.w.Now() < deadline; {
		j.run(time.Millisecond)
	}
	j.cli.Unsubscribe(sub, 0)
	if got == nil {
		j.t.Fatalf("publish %s: no ack", subject)
	}
	var ack jsapi.PubAckResponse
	if err := json.Unmarshal(got.Data, &ack); err != nil || ack.Error != nil {
		j.t.Fatalf("publish %s: %s", subject, got.Data)
	}
	return ack
}

func msgIDHeader(id string) []byte {
	return []byte("NATS/1.0\r\nNats-Msg-Id: " + id + "\r\n\r\n")
}

func statusOf(m *natsclient.Msg) string {
	if m == nil {
		return ""
	}
	return strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(m.Header), "\r\n", 2)[0], "NATS/1.0"))
}

// pullData sends one pull request (10 messages, 5 s) to a consumer and collects the data of
// what it delivers.
func (j *simJS) pullData(stream, consumer string) *[]string {
	var got []string
	inbox := j.newInbox()
	j.cli.Subscribe(inbox, "", func(m *natsclient.Msg) {
		if len(m.Data) > 0 {
			got = append(got, string(m.Data))
		}
	})
	j.cli.Publish(jsapi.Prefix+"CONSUMER.MSG.NEXT."+stream+"."+consumer, inbox, nil, []byte(`{"batch":10,"expires":5000000000}`))
	return &got
}
