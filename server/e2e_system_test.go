package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

const systemConf = `
accounts {
  SYS: { users: [ { user: sys, password: sys } ] }
  A: { users: [ { user: a, password: a, permissions: { publish: ["x.>", "$SYS.REQ.USER.INFO"], subscribe: ">" } }, { user: b, password: b } ] }
}
system_account: SYS
`

// The system account's services answer with nats-server's reply shapes; other accounts
// reach only USER.INFO.
func TestE2ESystemAccount(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "system.conf")
	writeConf(t, conf, systemConf)
	p := startPetrel(t, "-c", conf)
	sys := connect(t, p.url(), nats.UserInfo("sys", "sys"))
	a := connect(t, p.url(), nats.UserInfo("a", "a"))

	var statsz struct {
		Server struct {
			ID   string `json:"id"`
			Name string `json:"name"`
			Ver  string `json:"ver"`
		} `json:"server"`
		Statsz struct {
			Connections int `json:"connections"`
		} `json:"statsz"`
	}
	msg, err := sys.Request("$SYS.REQ.SERVER.PING", nil, 2*time.Second)
	must(t, err)
	must(t, json.Unmarshal(msg.Data, &statsz))
	if statsz.Server.ID != sys.ConnectedServerId() || statsz.Statsz.Connections != 2 {
		t.Fatalf("statsz %s", msg.Data)
	}

	var varz struct {
		Server struct{ ID string } `json:"server"`
		Data   struct {
			ID string `json:"server_id"`
		} `json:"data"`
	}
	for _, subj := range []string{"$SYS.REQ.SERVER.PING.VARZ", "$SYS.REQ.SERVER." + sys.ConnectedServerId() + ".VARZ"} {
		msg, err = sys.Request(subj, []byte(`{}`), 2*time.Second)
		must(t, err)
		must(t, json.Unmarshal(msg.Data, &varz))
		if varz.Data.ID != sys.ConnectedServerId() {
			t.Fatalf("%s: %s", subj, msg.Data)
		}
	}

	var connz struct {
		Data struct {
			Conns []struct {
				Account string `json:"account"`
				User    string `json:"authorized_user"`
			} `json:"connections"`
		} `json:"data"`
	}
	msg, err = sys.Request("$SYS.REQ.SERVER.PING.CONNZ", []byte(`{"auth": true}`), 2*time.Second)
	must(t, err)
	must(t, json.Unmarshal(msg.Data, &connz))
	if len(connz.Data.Conns) != 2 || connz.Data.Conns[1].Account != "A" || connz.Data.Conns[1].User != "a" {
		t.Fatalf("connz %s", msg.Data)
	}
	// A filter naming another server: nobody answers.
	if _, err := sys.Request("$SYS.REQ.SERVER.PING.VARZ", []byte(`{"server_name": "elsewhere", "exact_match": true}`), 300*time.Millisecond); !errors.Is(err, nats.ErrTimeout) {
		t.Fatalf("a filtered ping: %v", err)
	}

	var ui struct {
		Data struct {
			User        string `json:"user"`
			Account     string `json:"account"`
			Permissions struct {
				Publish struct {
					Allow []string `json:"allow"`
				} `json:"publish"`
			} `json:"permissions"`
		} `json:"data"`
	}
	msg, err = a.Request("$SYS.REQ.USER.INFO", nil, 2*time.Second)
	must(t, err)
	must(t, json.Unmarshal(msg.Data, &ui))
	if ui.Data.User != "a" || ui.Data.Account != "A" || len(ui.Data.Permissions.Publish.Allow) != 2 {
		t.Fatalf("user info %s", msg.Data)
	}
	// Account A cannot reach the system account's services.
	must(t, a.Publish("x.probe", nil))
	if _, err := a.Request("$SYS.REQ.SERVER.PING", nil, time.Second); err == nil {
		t.Fatal("account A reached $SYS.REQ.SERVER.PING")
	}
}

// natscli v0.5.0's server and account commands work against Petrel with a system account
// user (and account info with any user).
func TestE2ESystemAccountNatscli(t *testing.T) {
	cli := natsCLI(t)
	conf := filepath.Join(t.TempDir(), "system.conf")
	writeConf(t, conf, systemConf)
	p := startPetrel(t, "-c", conf)
	sysURL := "nats://sys:sys@127.0.0.1:" + p.port
	id := connect(t, p.url(), nats.UserInfo("sys", "sys")).ConnectedServerId()
	for _, tc := range []struct {
		url  string
		args []string
		want []string
	}{
		{sysURL, []string{"server", "list"}, []string{"Server Overview", id, "2.12.0"}},
		{sysURL, []string{"server", "ping"}, []string{id, "1 replies"}},
		{sysURL, []string{"server", "info"}, []string{"Server information for " + id, "Auth Required: true"}},
		{sysURL, []string{"server", "report", "connections"}, []string{"Connections per server", "SYS"}},
		{"nats://a:a@127.0.0.1:" + p.port, []string{"account", "info"}, []string{"User: a", "Account: A"}},
	} {
		out, err := exec.Command(cli, append([]string{"-s", tc.url, "--timeout", "3s"}, tc.args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("nats %v: %v\n%s", tc.args, err, out)
		}
		for _, want := range tc.want {
			if !strings.Contains(string(out), want) {
				t.Fatalf("nats %v lacks %q:\n%s", tc.args, want, out)
			}
		}
	}
}

// Connect and disconnect events reach the system account with nats-server's fields; KICK
// closes a client, LDM warns one, RELOAD reloads the configuration file.
func TestE2ESystemEventsAndActions(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "system.conf")
	writeConf(t, conf, systemConf)
	p := startPetrel(t, "-c", conf)
	sys := connect(t, p.url(), nats.UserInfo("sys", "sys"))
	events, err := sys.SubscribeSync("$SYS.ACCOUNT.A.>")
	must(t, err)
	must(t, sys.Flush())
	ldm := make(chan struct{}, 1)
	a := connect(t, p.url(), nats.UserInfo("a", "a"), nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }))
	type event struct {
		Type   string `json:"type"`
		Client struct {
			ID      uint64 `json:"id"`
			Account string `json:"acc"`
			User    string `json:"user"`
		} `json:"client"`
		Reason string `json:"reason"`
	}
	var ev event
	m := next(t, events)
	must(t, json.Unmarshal(m.Data, &ev))
	cid, _ := a.GetClientID()
	if m.Subject != "$SYS.ACCOUNT.A.CONNECT" || ev.Type != "io.nats.server.advisory.v1.client_connect" || ev.Client.ID != cid || ev.Client.User != "a" || ev.Client.Account != "A" {
		t.Fatalf("connect event on %s: %s", m.Subject, m.Data)
	}
	id := sys.ConnectedServerId()
	request := func(kind, body string) string {
		t.Helper()
		resp, err := sys.Request("$SYS.REQ.SERVER."+id+"."+kind, []byte(body), 3*time.Second)
		must(t, err)
		return string(resp.Data)
	}
	if r := request("LDM", fmt.Sprintf(`{"cid": %d}`, cid)); strings.Contains(r, "error") {
		t.Fatalf("LDM: %s", r)
	}
	select {
	case <-ldm:
	case <-time.After(3 * time.Second):
		t.Fatal("no lame-duck notice after LDM")
	}
	if r := request("KICK", `{"cid": 99999}`); !strings.Contains(r, "no such client id") {
		t.Fatalf("KICK of nobody: %s", r)
	}
	if r := request("KICK", fmt.Sprintf(`{"cid": %d}`, cid)); strings.Contains(r, "error") {
		t.Fatalf("KICK: %s", r)
	}
	m = next(t, events)
	must(t, json.Unmarshal(m.Data, &ev))
	if m.Subject != "$SYS.ACCOUNT.A.DISCONNECT" || ev.Type != "io.nats.server.advisory.v1.client_disconnect" || ev.Reason != "Kicked" {
		t.Fatalf("disconnect event on %s: %s", m.Subject, m.Data)
	}
	writeConf(t, conf, strings.Replace(systemConf, `{ user: a, password: a,`, `{ user: a2, password: a2 }, { user: a, password: a,`, 1))
	if r := request("RELOAD", ""); strings.Contains(r, "error") {
		t.Fatalf("RELOAD: %s", r)
	}
	connect(t, p.url(), nats.UserInfo("a2", "a2"))
}

// Per-account monitoring: /accountz, /accstatz and the system account's account requests;
// another account asking CONNZ sees only itself.
func TestE2EAccountMonitoring(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "system.conf")
	writeConf(t, conf, systemConf)
	mport := freePort(t)
	p := startPetrel(t, "-c", conf, "-m", mport)
	sys := connect(t, p.url(), nats.UserInfo("sys", "sys"))
	a := connect(t, p.url(), nats.UserInfo("b", "b"))
	_, err := a.SubscribeSync("x.y")
	must(t, err)
	must(t, a.Publish("x.y", []byte("hello")))
	must(t, a.Flush())
	base := "http://127.0.0.1:" + mport
	if _, body := httpGet(t, base+"/accountz"); !strings.Contains(body, `"system_account": "SYS"`) || !strings.Contains(body, `"A"`) {
		t.Fatalf("accountz: %s", body)
	}
	if _, body := httpGet(t, base+"/accountz?acc=A"); !strings.Contains(body, `"account_name": "A"`) || !strings.Contains(body, `"client_connections": 1`) {
		t.Fatalf("accountz?acc=A: %s", body)
	}
	if _, body := httpGet(t, base+"/accstatz?acc=A"); !strings.Contains(body, `"acc": "A"`) || !strings.Contains(body, `"conns": 1`) {
		t.Fatalf("accstatz: %s", body)
	}
	if _, body := httpGet(t, base+"/connz?acc=A"); !strings.Contains(body, `"num_connections": 1`) {
		t.Fatalf("connz?acc=A: %s", body)
	}
	var connz struct {
		Data struct {
			NumConns int `json:"num_connections"`
		} `json:"data"`
	}
	for _, tc := range []struct {
		nc   *nats.Conn
		subj string
		want int
	}{
		{sys, "$SYS.REQ.ACCOUNT.A.CONNZ", 1},
		{sys, "$SYS.REQ.SERVER.PING.CONNZ", 2},
		{a, "$SYS.REQ.SERVER.PING.CONNZ", 1},
	} {
		resp, err := tc.nc.Request(tc.subj, []byte(`{}`), 2*time.Second)
		must(t, err)
		must(t, json.Unmarshal(resp.Data, &connz))
		if connz.Data.NumConns != tc.want {
			t.Fatalf("%s: %s", tc.subj, resp.Data)
		}
	}
	resp, err := sys.Request("$SYS.REQ.ACCOUNT.A.STATZ", nil, 2*time.Second)
	must(t, err)
	if !strings.Contains(string(resp.Data), `"acc":"A"`) || !strings.Contains(string(resp.Data), `"conns":1`) {
		t.Fatalf("account statz: %s", resp.Data)
	}
}
