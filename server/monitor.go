package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core"
)

func (s *Server) monitorMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/", s.handleRoot)
	mux.HandleFunc("/varz", s.handleVarz)
	mux.HandleFunc("/connz", s.handleConnz)
	mux.HandleFunc("/subsz", s.handleSubsz)
	mux.HandleFunc("/subscriptionsz", s.handleSubsz)
	mux.HandleFunc("/healthz", s.handleHealthz)
	mux.HandleFunc("/metrics", s.handleMetrics)
	return mux
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<html><body><h1>Petrel</h1><ul>`)
	for _, p := range []string{"varz", "connz", "subsz", "healthz", "metrics"} {
		fmt.Fprintf(w, `<li><a href="%s">%s</a></li>`, p, p)
	}
	fmt.Fprint(w, `</ul></body></html>`)
}

// writeJSON sends v indented, wrapped in callback(...) when the request asks for JSONP.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.MarshalIndent(v, "", "  ")
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
	writeJSON(w, r, http.StatusOK, s.core.Varz(s.monitorPort()))
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
	o := core.ConnzOptions{Sort: q.Get("sort"), State: q.Get("state"), User: q.Get("user")}
	switch q.Get("subs") {
	case "1", "true":
		o.Subs = true
	case "detail":
		o.SubsDetail = true
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

func (s *Server) handleSubsz(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	o := core.SubszOptions{Subs: q.Get("subs") == "1" || q.Get("subs") == "true", Test: q.Get("test")}
	if err := queryInts(r, map[string]*int{"offset": &o.Offset, "limit": &o.Limit}); err != nil {
		badRequest(w, r, err)
		return
	}
	writeJSON(w, r, http.StatusOK, s.core.Subsz(o))
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	h := s.core.Healthz()
	status := http.StatusOK
	if h.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, r, status, h)
}

// handleMetrics serves the Prometheus text format.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	v := s.core.Varz(s.monitorPort())
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
