package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	return resp.StatusCode, string(body)
}

func TestE2EMonitoring(t *testing.T) {
	mport := freePort(t)
	p := startPetrel(t, "-m", mport, "-n", "mon1")
	nc := connect(t, p.url())
	_, err := nc.SubscribeSync("watched.*")
	must(t, err)
	must(t, nc.Publish("watched.x", []byte("12345")))
	must(t, nc.Flush())
	base := "http://127.0.0.1:" + mport

	code, body := httpGet(t, base+"/varz")
	var varz map[string]any
	must(t, json.Unmarshal([]byte(body), &varz))
	if code != 200 || varz["server_name"] != "mon1" || varz["connections"] != 1.0 || varz["subscriptions"].(float64) < 2 ||
		varz["in_msgs"] != 1.0 || varz["max_payload"] != float64(1<<20) {
		t.Fatalf("varz %d: %s", code, body)
	}

	_, body = httpGet(t, base+"/connz?subs=1")
	var connz struct {
		NumConns int `json:"num_connections"`
		Conns    []struct {
			Subs []string `json:"subscriptions_list"`
			Lang string   `json:"lang"`
		} `json:"connections"`
	}
	must(t, json.Unmarshal([]byte(body), &connz))
	if connz.NumConns != 1 || connz.Conns[0].Lang != "go" || len(connz.Conns[0].Subs) != 1 || connz.Conns[0].Subs[0] != "watched.*" {
		t.Fatalf("connz: %s", body)
	}
	if code, _ := httpGet(t, base+"/connz?sort=nonsense"); code != 400 {
		t.Fatalf("connz with a bad sort: %d, want 400", code)
	}

	_, body = httpGet(t, base+"/subsz?subs=1&test=watched.y")
	// The count includes the system account's own subscriptions, as nats-server's does.
	if !strings.Contains(body, fmt.Sprintf(`"num_subscriptions": %v`, varz["subscriptions"])) ||
		!strings.Contains(body, `"total": 1,`) || !strings.Contains(body, `"subject": "watched.*"`) {
		t.Fatalf("subsz: %s", body)
	}
	if code, body := httpGet(t, base+"/healthz"); code != 200 || !strings.Contains(body, `"status":"ok"`) {
		t.Fatalf("healthz %d: %s", code, body)
	}
	if _, body := httpGet(t, base+"/varz?callback=cb"); !strings.HasPrefix(body, "cb({") {
		t.Fatalf("JSONP: %.40s", body)
	}
	_, body = httpGet(t, base+"/metrics")
	for _, want := range []string{"# TYPE petrel_connections gauge", "petrel_in_msgs_total{server_id=", "petrel_subscriptions{"} {
		if !strings.Contains(body, want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
}

// connRTT reads the RTT of the only open connection from /connz.
func connRTT(t *testing.T, base string) time.Duration {
	t.Helper()
	_, body := httpGet(t, base+"/connz")
	var connz struct {
		Conns []struct {
			RTT string `json:"rtt"`
		} `json:"connections"`
	}
	must(t, json.Unmarshal([]byte(body), &connz))
	if len(connz.Conns) != 1 {
		t.Fatalf("connz: %s", body)
	}
	d, err := time.ParseDuration(connz.Conns[0].RTT)
	must(t, err)
	return d
}

// A fresh nats.go connection has an RTT in /connz at once (estimated at CONNECT), and the
// server's early PING, about 2 s after CONNECT, measures it again; nats.go answers it.
func TestE2EConnzRTT(t *testing.T) {
	mport := freePort(t)
	p := startPetrel(t, "-m", mport)
	nc := connect(t, p.url())
	must(t, nc.Flush())
	base := "http://127.0.0.1:" + mport
	estimate := connRTT(t, base)
	if estimate <= 0 {
		t.Fatalf("rtt %v right after connecting, want an estimate", estimate)
	}
	deadline := time.Now().Add(5 * time.Second)
	for connRTT(t, base) == estimate {
		if time.Now().After(deadline) {
			t.Fatalf("rtt still the CONNECT estimate %v after 5 s: no early PING measured it", estimate)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// /healthz takes nats-server's options (with its 400 for a bad boolean, in plain text);
// /varz counts requests per endpoint, shows the configuration file's digest and, with -js,
// the JetStream configuration; JSONP still wraps every document.
func TestE2EMonitoringQueries(t *testing.T) {
	dir := t.TempDir()
	conf := dir + "/petrel.conf"
	must(t, os.WriteFile(conf, []byte("jetstream { max_mem: 1G, store_dir: \""+dir+"\" }\n"), 0o644))
	sum := sha256.Sum256([]byte("jetstream { max_mem: 1G, store_dir: \"" + dir + "\" }\n"))
	mport := freePort(t)
	startPetrel(t, "-m", mport, "-c", conf)
	base := "http://127.0.0.1:" + mport
	cases := []struct{ query, want string }{
		{"", `{"status":"ok"}`},
		{"?js-enabled-only=true", `{"status":"ok"}`},
		{"?details=1", `{"status":"ok"}`},
		{"?stream=S", `{"status":"error","error":"\"account\" must not be empty when checking stream health"}`},
		{"?js-server-only=perhaps", "Error decoding boolean for 'js-server-only': strconv.ParseBool: parsing \"perhaps\": invalid syntax\n"},
	}
	codes := []int{200, 200, 200, 400, 400}
	for i, c := range cases {
		if code, body := httpGet(t, base+"/healthz"+c.query); code != codes[i] || body != c.want {
			t.Errorf("/healthz%s: %d %s, want %d %s", c.query, code, body, codes[i], c.want)
		}
	}
	httpGet(t, base+"/connz")
	_, body := httpGet(t, base+"/varz")
	var varz struct {
		ReqStats  map[string]int `json:"http_req_stats"`
		Digest    string         `json:"config_digest"`
		JetStream struct {
			Config *struct {
				MaxMemory int64  `json:"max_memory"`
				StoreDir  string `json:"store_dir"`
			} `json:"config"`
			Stats any `json:"stats"`
		} `json:"jetstream"`
	}
	must(t, json.Unmarshal([]byte(body), &varz))
	if varz.ReqStats["/healthz"] != len(cases) || varz.ReqStats["/connz"] != 1 || varz.ReqStats["/varz"] != 1 {
		t.Errorf("http_req_stats %v", varz.ReqStats)
	}
	if want := "sha256:" + hex.EncodeToString(sum[:]); varz.Digest != want {
		t.Errorf("config_digest %q, want %q", varz.Digest, want)
	}
	if js := varz.JetStream; js.Config == nil || js.Config.MaxMemory != 1e9 || js.Config.StoreDir != dir || js.Stats != nil {
		t.Errorf("jetstream %s", body)
	}
	for _, ep := range []string{"/connz", "/subsz", "/healthz"} {
		if _, body := httpGet(t, base+ep+"?callback=cb"); !strings.HasPrefix(body, "cb({") {
			t.Errorf("JSONP %s: %.40s", ep, body)
		}
	}
}
