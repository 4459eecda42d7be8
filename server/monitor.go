package server

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jetstream"
)

func (s *Server) monitorMux() *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(path string, h http.HandlerFunc) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			s.httpStats.count(path)
			h(w, r)
		})
	}
	handle("/", s.handleRoot)
	handle("/varz", s.handleVarz)
	handle("/connz", s.handleConnz)
	handle("/routez", s.handleRoutez)
	handle("/subsz", s.handleSubsz)
	handle("/subscriptionsz", s.handleSubsz)
	handle("/healthz", s.handleHealthz)
	handle("/jsz", s.handleJsz)
	handle("/accountz", s.handleAccountz)
	handle("/accstatz", s.handleAccstatz)
	handle("/metrics", s.handleMetrics)
	return mux
}

// httpStats counts monitoring requests per endpoint (/varz's http_req_stats).
type httpStats struct {
	mu     sync.Mutex
	counts map[string]uint64
}

func (h *httpStats) count(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.counts == nil {
		h.counts = map[string]uint64{}
	}
	h.counts[path]++
}

func (h *httpStats) snapshot() map[string]uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]uint64, len(h.counts))
	for k, v := range h.counts {
		out[k] = v
	}
	return out
}

// varzHost is what only the host knows for /varz: the monitoring listener, the
// configuration file, the JetStream configuration.
func (s *Server) varzHost() core.VarzHost {
	host := s.opts.HTTPHost
	if host == "" {
		host = s.opts.Core.Host
	}
	s.mu.Lock()
	digest := s.configDigest
	s.mu.Unlock()
	return core.VarzHost{
		HTTPHost: host, HTTPPort: s.monitorPort(), HTTPReqStats: s.httpStats.snapshot(),
		ConfigDigest: digest, JetStream: s.jetStreamVarz(),
	}
}

// jetStreamVarz is the JetStream configuration this server accepted, or nil when
// JetStream was not asked for.
func (s *Server) jetStreamVarz() *core.JetStreamConfigVarz {
	if !s.opts.Core.JetStream {
		return nil
	}
	js := s.opts.JetStream
	cfg := &core.JetStreamConfigVarz{MaxMemory: js.MaxMemory, MaxStore: js.MaxStore, StoreDir: s.opts.StoreDir,
		Domain: js.Domain, Strict: true}
	if d, err := time.ParseDuration(js.SyncInterval); err == nil {
		cfg.SyncInterval = d
	} else {
		cfg.SyncAlways = true // "always" or unset: Petrel's default, fsync before every ack
	}
	return cfg
}

// configDigest names a configuration file's content, as nats-server's config_digest does
// (the value differs: Petrel hashes the file's bytes, nats-server its parsed form).
func configDigest(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("server: config digest: %w", err)
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<html><body><h1>Petrel</h1><ul>`)
	for _, p := range []string{"varz", "connz", "routez", "subsz", "healthz", "jsz", "metrics"} {
		fmt.Fprintf(w, `<li><a href="%s">%s</a></li>`, p, p)
	}
	fmt.Fprint(w, `</ul></body></html>`)
}

// writeJSON sends v indented, wrapped in callback(...) when the request asks for JSONP.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
	writeBody(w, r, status, body, err)
}

// writeJSONCompact is writeJSON on one line, as nats-server sends /healthz.
func writeJSONCompact(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	writeBody(w, r, status, body, err)
}

func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if cb := r.URL.Query().Get("callback"); cb != "" {
		w.Header().Set("Content-Type", "application/javascript")
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s(%s)", cb, body)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client gone mid-response is not the server's problem
}

func badRequest(w http.ResponseWriter, r *http.Request, err error) {
	writeJSON(w, r, http.StatusBadRequest, map[string]string{"error": err.Error()})
}

func (s *Server) monitorPort() int {
	addr := s.MonitorAddr()
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		p, _ := strconv.Atoi(addr[i+1:]) // our own listener's address always has a port
		return p
	}
	return 0
}

func (s *Server) handleVarz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, s.core.Varz(s.varzHost()))
}

// queryInt reads an optional non-negative integer parameter.
func queryInt(r *http.Request, name string) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid %s %q: want a non-negative integer", name, v)
	}
	return n, nil
}

// queryInts reads optional non-negative integer parameters into their fields.
func queryInts(r *http.Request, fields map[string]*int) error {
	for name, dst := range fields {
		n, err := queryInt(r, name)
		if err != nil {
			return err
		}
		*dst = n
	}
	return nil
}

func (s *Server) handleConnz(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := core.ConnzOptions{Sort: q.Get("sort"), State: q.Get("state"), User: q.Get("user"), Account: q.Get("acc")}
	bools := map[string]*bool{"auth": &o.Auth, "subs": &o.Subs}
	if q.Get("subs") == "detail" {
		o.SubsDetail = true
		delete(bools, "subs")
	}
	if err := queryBools(r, bools); err != nil {
		badRequest(w, r, err)
		return
	}
	var cid int
	err := queryInts(r, map[string]*int{"offset": &o.Offset, "limit": &o.Limit, "cid": &cid})
	if err != nil {
		badRequest(w, r, err)
		return
	}
	o.CID = uint64(cid)
	z, err := s.core.Connz(o)
	if err != nil {
		badRequest(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, z)
}

// handleRoutez answers /routez: subs=1 lists each route's remote interest by subject,
// subs=detail in full, as /connz's subs does.
func (s *Server) handleRoutez(w http.ResponseWriter, r *http.Request) {
	var o core.RoutezOptions
	bools := map[string]*bool{"subs": &o.Subs}
	if r.URL.Query().Get("subs") == "detail" {
		o.SubsDetail = true
		delete(bools, "subs")
	}
	if err := queryBools(r, bools); err != nil {
		badRequest(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, s.core.Routez(o))
}

func (s *Server) handleAccountz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, s.core.Accountz(r.URL.Query().Get("acc")))
}

// handleAccstatz answers /accstatz: acc names accounts (comma-separated), unused includes
// accounts without connections.
func (s *Server) handleAccstatz(w http.ResponseWriter, r *http.Request) {
	var unused bool
	if err := queryBools(r, map[string]*bool{"unused": &unused}); err != nil {
		badRequest(w, r, err)
		return
	}
	var accs []string
	if list := r.URL.Query().Get("acc"); list != "" {
		accs = strings.Split(list, ",")
	}
	writeJSON(w, r, http.StatusOK, s.core.AccountStatz(accs, unused))
}

func (s *Server) handleSubsz(w http.ResponseWriter, r *http.Request) {
	o := core.SubszOptions{Test: r.URL.Query().Get("test")}
	if err := queryBools(r, map[string]*bool{"subs": &o.Subs}); err != nil {
		badRequest(w, r, err)
		return
	}
	if err := queryInts(r, map[string]*int{"offset": &o.Offset, "limit": &o.Limit}); err != nil {
		badRequest(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, s.core.Subsz(o))
}

// handleHealthz answers /healthz with nats-server's query options. A bad boolean is a
// plain-text 400, as nats-server sends it.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := core.HealthzOptions{Account: q.Get("account"), Stream: q.Get("stream"), Consumer: q.Get("consumer")}
	err := queryBools(r, map[string]*bool{"js-enabled-only": &o.JSEnabledOnly, "js-server-only": &o.JSServerOnly,
		"js-meta-only": &o.JSMetaOnly, "details": &o.Details, "js-enabled": &o.JSEnabledOnly})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h := s.core.Healthz(o)
	writeJSONCompact(w, r, h.Code, h)
}

// queryBools reads optional boolean parameters (strconv.ParseBool's spellings) into their
// fields; a parameter given without a value is true.
func queryBools(r *http.Request, fields map[string]*bool) error {
	q := r.URL.Query()
	for _, name := range env.SortedKeys(fields) {
		if !q.Has(name) {
			continue
		}
		v := q.Get(name)
		if v == "" {
			*fields[name] = true
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("Error decoding boolean for '%s': %w", name, err)
		}
		*fields[name] = b
	}
	return nil
}

// handleMetrics serves the Prometheus text format.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	v := s.core.Varz(s.varzHost())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	metric := func(name, kind, help string, value any) {
		fmt.Fprintf(w, "# HELP petrel_%s %s\n# TYPE petrel_%s %s\npetrel_%s{server_id=%q} %v\n", name, help, name, kind, name, v.ID, value)
	}
	metric("connections", "gauge", "Open client connections.", v.Connections)
	metric("total_connections", "counter", "Client connections accepted since start.", v.TotalConnections)
	metric("subscriptions", "gauge", "Subscriptions.", v.Subscriptions)
	metric("in_msgs_total", "counter", "Messages received from clients.", v.InMsgs)
	metric("out_msgs_total", "counter", "Messages sent to clients.", v.OutMsgs)
	metric("in_bytes_total", "counter", "Payload bytes received from clients.", v.InBytes)
	metric("out_bytes_total", "counter", "Payload bytes sent to clients.", v.OutBytes)
	metric("slow_consumers_total", "counter", "Clients cut off as slow consumers.", v.SlowConsumers)
	metric("uptime_seconds", "gauge", "Seconds since the server started.", s.env.Clock.Now().Sub(v.Start).Seconds())
}

// handleJsz answers /jsz with nats-server's query options (accounts, streams, consumers,
// config, acc). The document is gathered from each stream's executor.
func (s *Server) handleJsz(w http.ResponseWriter, r *http.Request) {
	o := jetstream.JszOptions{Account: r.URL.Query().Get("acc")}
	err := queryBools(r, map[string]*bool{"accounts": &o.Accounts, "streams": &o.Streams,
		"consumers": &o.Consumers, "config": &o.Config})
	if err != nil {
		badRequest(w, r, err)
		return
	}
	got := make(chan *jetstream.JSInfo, 1)
	s.core.Jsz(o, func(z *jetstream.JSInfo) { got <- z })
	select {
	case z := <-got:
		writeJSON(w, r, http.StatusOK, z)
	case <-time.After(jszTimeout):
		http.Error(w, "jsz: JetStream did not answer in time", http.StatusServiceUnavailable)
	}
}

// jszTimeout bounds how long /jsz waits for the streams to report.
const jszTimeout = 5 * time.Second
