package core

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/sublist"
)

// The monitoring documents, with nats-server's JSON field names. The server package serves
// them over HTTP; the engine only assembles them.

// Varz is the general server document (/varz).
type Varz struct {
	ID               string    `json:"server_id"`
	Name             string    `json:"server_name"`
	Version          string    `json:"version"`
	PetrelVersion    string    `json:"petrel_version"`
	Proto            int       `json:"proto"`
	Go               string    `json:"go"`
	Host             string    `json:"host"`
	Port             int       `json:"port"`
	AuthRequired     bool      `json:"auth_required,omitempty"`
	TLSRequired      bool      `json:"tls_required,omitempty"`
	MaxConnections   int       `json:"max_connections"`
	PingInterval     int64     `json:"ping_interval"`
	MaxPingsOut      int       `json:"ping_max"`
	HTTPPort         int       `json:"http_port"`
	MaxControlLine   int       `json:"max_control_line"`
	MaxPayload       int       `json:"max_payload"`
	MaxPending       int64     `json:"max_pending"`
	WriteDeadline    int64     `json:"write_deadline"`
	JetStream        bool      `json:"jetstream"`
	Start            time.Time `json:"start"`
	Now              time.Time `json:"now"`
	Uptime           string    `json:"uptime"`
	Cores            int       `json:"cores"`
	Connections      int       `json:"connections"`
	TotalConnections int64     `json:"total_connections"`
	Routes           int       `json:"routes"`
	Remotes          int       `json:"remotes"`
	Leafnodes        int       `json:"leafnodes"`
	InMsgs           int64     `json:"in_msgs"`
	OutMsgs          int64     `json:"out_msgs"`
	InBytes          int64     `json:"in_bytes"`
	OutBytes         int64     `json:"out_bytes"`
	SlowConsumers    int64     `json:"slow_consumers"`
	Subscriptions    int       `json:"subscriptions"`
	LameDuck         bool      `json:"lame_duck_mode,omitempty"`
}

// Varz assembles /varz; httpPort is the monitoring port, which the host knows.
func (s *Server) Varz(httpPort int) Varz {
	now := s.env.Clock.Now()
	s.mu.Lock()
	conns, lameDuck := len(s.clients), s.lameDuck
	s.mu.Unlock()
	cfg := s.cfg()
	info := s.infoFor(cfg)
	return Varz{
		ID: s.id, Name: cfg.name, Version: Version, PetrelVersion: PetrelVersion, Proto: ProtoVersion,
		Go: runtime.Version(), Host: info.Host, Port: s.Port(), AuthRequired: info.AuthRequired,
		TLSRequired: info.TLSRequired, MaxConnections: cfg.MaxConnections,
		PingInterval: int64(cfg.PingInterval), MaxPingsOut: cfg.MaxPingsOut, HTTPPort: httpPort,
		MaxControlLine: cfg.MaxControlLine, MaxPayload: cfg.MaxPayload, MaxPending: cfg.MaxPending,
		WriteDeadline: int64(cfg.WriteDeadline), JetStream: cfg.JetStream,
		Start: s.start, Now: now, Uptime: FormatUptime(now.Sub(s.start)), Cores: runtime.NumCPU(),
		Connections: conns, TotalConnections: s.stats.totalConns.Load(),
		InMsgs: s.stats.inMsgs.Load(), OutMsgs: s.stats.outMsgs.Load(),
		InBytes: s.stats.inBytes.Load(), OutBytes: s.stats.outBytes.Load(),
		SlowConsumers: s.stats.slowConsumers.Load(), Subscriptions: s.subs.Count(), LameDuck: lameDuck,
	}
}

// FormatUptime renders a duration as nats-server does: 1y2d3h4m5s, largest unit first.
func FormatUptime(d time.Duration) string {
	tsecs := int64(d / time.Second)
	units := []struct {
		secs int64
		name string
	}{{365 * 86400, "y"}, {86400, "d"}, {3600, "h"}, {60, "m"}}
	var b strings.Builder
	for _, u := range units {
		if tsecs >= u.secs {
			fmt.Fprintf(&b, "%d%s", tsecs/u.secs, u.name)
			tsecs %= u.secs
		}
	}
	fmt.Fprintf(&b, "%ds", tsecs)
	return b.String()
}

// ConnzOptions are /connz's query parameters.
type ConnzOptions struct {
	Sort       string // cid (default), start, subs, pending, msgs_to, msgs_from, bytes_to, bytes_from, last, idle, uptime, stop, reason, rtt
	Subs       bool
	SubsDetail bool
	Offset     int
	Limit      int    // default 1024
	CID        uint64 // only this connection
	State      string // open (default), closed, any
	User       string
}

// ConnInfo is one connection in /connz.
type ConnInfo struct {
	CID          uint64      `json:"cid"`
	Kind         string      `json:"kind"`
	Type         string      `json:"type"`
	IP           string      `json:"ip"`
	Port         int         `json:"port"`
	Start        time.Time   `json:"start"`
	LastActivity time.Time   `json:"last_activity"`
	Stop         time.Time   `json:"stop,omitzero"`
	Reason       string      `json:"reason,omitempty"`
	RTT          string      `json:"rtt,omitempty"`
	Uptime       string      `json:"uptime"`
	Idle         string      `json:"idle"`
	PendingBytes int         `json:"pending_bytes"`
	InMsgs       int64       `json:"in_msgs"`
	OutMsgs      int64       `json:"out_msgs"`
	InBytes      int64       `json:"in_bytes"`
	OutBytes     int64       `json:"out_bytes"`
	NumSubs      int         `json:"subscriptions"`
	Name         string      `json:"name,omitempty"`
	Lang         string      `json:"lang,omitempty"`
	Version      string      `json:"version,omitempty"`
	TLSVersion   string      `json:"tls_version,omitempty"`
	TLSCipher    string      `json:"tls_cipher_suite,omitempty"`
	User         string      `json:"authorized_user,omitempty"`
	Account      string      `json:"account,omitempty"`
	Subs         []string    `json:"subscriptions_list,omitempty"`
	SubsDetail   []SubDetail `json:"subscriptions_list_detail,omitempty"`
	sortStart    time.Duration
	sortLastMono time.Duration
	sortRTTNanos int64
}

// SubDetail is one subscription in subs=detail.
type SubDetail struct {
	Subject string `json:"subject"`
	Queue   string `json:"qgroup,omitempty"`
	Sid     string `json:"sid"`
	Msgs    int64  `json:"msgs"`
	Max     int64  `json:"max,omitempty"`
	CID     uint64 `json:"cid"`
}

// Connz is /connz.
type Connz struct {
	ID       string     `json:"server_id"`
	Now      time.Time  `json:"now"`
	NumConns int        `json:"num_connections"`
	Total    int        `json:"total"`
	Offset   int        `json:"offset"`
	Limit    int        `json:"limit"`
	Conns    []ConnInfo `json:"connections"`
}

// connInfo describes c now; it may run on any executor.
func (c *client) connInfo(o ConnzOptions, now time.Time) ConnInfo {
	mono := c.srv.env.Clock.Mono()
	last := time.Duration(c.lastAct.Load())
	ci := ConnInfo{
		CID: c.cid, Kind: "Client", Type: "nats", IP: c.host, Port: c.port, Start: c.start,
		LastActivity: now.Add(last - mono), Uptime: FormatUptime(now.Sub(c.start)), Idle: FormatUptime(mono - last),
		PendingBytes: c.conn.Buffered(), InMsgs: c.inMsgs.Load(), OutMsgs: c.outMsgs.Load(),
		InBytes: c.inBytes.Load(), OutBytes: c.outBytes.Load(), sortLastMono: last, sortRTTNanos: c.rttNanos.Load(),
	}
	if rtt := c.rttNanos.Load(); rtt > 0 {
		ci.RTT = time.Duration(rtt).String()
	}
	if tc, ok := c.conn.(interface{ TLSState() (string, string) }); ok && c.srv.cfg().TLS != nil {
		ci.TLSVersion, ci.TLSCipher = tc.TLSState()
	}
	c.mu.Lock()
	ci.Name, ci.Lang, ci.Version = c.info.Name, c.info.Lang, c.info.Version
	if c.user != nil {
		ci.User, ci.Account = c.user.Name, c.user.Account
	}
	ci.NumSubs = len(c.subs)
	if o.Subs || o.SubsDetail {
		for _, sid := range env.SortedKeys(c.subs) {
			sub := c.subs[sid]
			if o.SubsDetail {
				ci.SubsDetail = append(ci.SubsDetail, SubDetail{Subject: sub.entry.Subject, Queue: sub.entry.Queue,
					Sid: sid, Msgs: sub.delivered.Load(), Max: sub.max.Load(), CID: c.cid})
			} else {
				ci.Subs = append(ci.Subs, sub.entry.Subject)
			}
		}
	}
	c.mu.Unlock()
	return ci
}

// closedConnsMax bounds the closed connections remembered for /connz?state=closed.
const closedConnsMax = 10000

// closedConns is a ring of the most recently closed connections.
type closedConns struct {
	ring []ConnInfo
	next int
}

func (r *closedConns) add(ci ConnInfo) {
	if len(r.ring) < closedConnsMax {
		r.ring = append(r.ring, ci)
		return
	}
	r.ring[r.next] = ci
	r.next = (r.next + 1) % closedConnsMax
}

// Connz assembles /connz.
func (s *Server) Connz(o ConnzOptions) (Connz, error) {
	now := s.env.Clock.Now()
	if o.Limit <= 0 {
		o.Limit = 1024
	}
	var all []ConnInfo
	if o.State == "" || o.State == "open" || o.State == "any" {
		for _, c := range s.clientList() {
			all = append(all, c.connInfo(o, now))
		}
	}
	if o.State == "closed" || o.State == "any" {
		s.mu.Lock()
		all = append(all, s.closed.ring...)
		s.mu.Unlock()
	} else if o.State != "" && o.State != "open" {
		return Connz{}, fmt.Errorf("invalid state %q: use open, closed or any", o.State)
	}
	all = filterConns(all, o)
	if err := sortConns(all, o.Sort); err != nil {
		return Connz{}, err
	}
	z := Connz{ID: s.id, Now: now, Total: len(all), Offset: o.Offset, Limit: o.Limit}
	if o.Offset < len(all) {
		z.Conns = all[o.Offset:min(len(all), o.Offset+o.Limit)]
	}
	z.NumConns = len(z.Conns)
	if z.Conns == nil {
		z.Conns = []ConnInfo{}
	}
	return z, nil
}

func filterConns(all []ConnInfo, o ConnzOptions) []ConnInfo {
	if o.CID == 0 && o.User == "" {
		return all
	}
	out := all[:0]
	for _, ci := range all {
		if (o.CID == 0 || ci.CID == o.CID) && (o.User == "" || ci.User == o.User) {
			out = append(out, ci)
		}
	}
	return out
}

// connSorts orders connections for each sort key; "more first" keys sort descending, as
// nats-server does.
var connSorts = map[string]func(a, b *ConnInfo) bool{
	"cid":        func(a, b *ConnInfo) bool { return a.CID < b.CID },
	"start":      func(a, b *ConnInfo) bool { return a.Start.Before(b.Start) },
	"subs":       func(a, b *ConnInfo) bool { return a.NumSubs > b.NumSubs },
	"pending":    func(a, b *ConnInfo) bool { return a.PendingBytes > b.PendingBytes },
	"msgs_to":    func(a, b *ConnInfo) bool { return a.OutMsgs > b.OutMsgs },
	"msgs_from":  func(a, b *ConnInfo) bool { return a.InMsgs > b.InMsgs },
	"bytes_to":   func(a, b *ConnInfo) bool { return a.OutBytes > b.OutBytes },
	"bytes_from": func(a, b *ConnInfo) bool { return a.InBytes > b.InBytes },
	"last":       func(a, b *ConnInfo) bool { return a.LastActivity.After(b.LastActivity) },
	"idle":       func(a, b *ConnInfo) bool { return a.sortLastMono < b.sortLastMono },
	"uptime":     func(a, b *ConnInfo) bool { return a.Start.Before(b.Start) },
	"stop":       func(a, b *ConnInfo) bool { return a.Stop.After(b.Stop) },
	"reason":     func(a, b *ConnInfo) bool { return a.Reason < b.Reason },
	"rtt":        func(a, b *ConnInfo) bool { return a.sortRTTNanos > b.sortRTTNanos },
}

func sortConns(all []ConnInfo, key string) error {
	if key == "" {
		key = "cid"
	}
	less, ok := connSorts[key]
	if !ok {
		return fmt.Errorf("invalid sorting option %q", key)
	}
	sort.SliceStable(all, func(i, j int) bool { return less(&all[i], &all[j]) })
	return nil
}

// Subsz is /subsz.
type Subsz struct {
	ID  string    `json:"server_id"`
	Now time.Time `json:"now"`
	sublist.Stats
	Total  int         `json:"total,omitempty"`
	Offset int         `json:"offset,omitempty"`
	Limit  int         `json:"limit,omitempty"`
	Subs   []SubDetail `json:"subscriptions_list,omitempty"`
}

// SubszOptions are /subsz's query parameters.
type SubszOptions struct {
	Subs   bool
	Offset int
	Limit  int
	Test   string // only subscriptions matching this literal subject
}

// Subsz assembles /subsz.
func (s *Server) Subsz(o SubszOptions) Subsz {
	z := Subsz{ID: s.id, Now: s.env.Clock.Now(), Stats: s.subs.Stats()}
	if !o.Subs {
		return z
	}
	if o.Limit <= 0 {
		o.Limit = 1024
	}
	var all []SubDetail
	for _, e := range s.subs.All(nil) {
		sub := e.Owner.(*subscription)
		if o.Test != "" && !subject.Match(o.Test, e.Subject) {
			continue
		}
		all = append(all, SubDetail{Subject: e.Subject, Queue: e.Queue, Sid: sub.sid, Msgs: sub.delivered.Load(),
			Max: sub.max.Load(), CID: sub.client.cid})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].CID != all[j].CID {
			return all[i].CID < all[j].CID
		}
		return all[i].Sid < all[j].Sid
	})
	z.Total, z.Offset, z.Limit = len(all), o.Offset, o.Limit
	if o.Offset < len(all) {
		z.Subs = all[o.Offset:min(len(all), o.Offset+o.Limit)]
	}
	return z
}

// Healthz is /healthz's answer.
type Healthz struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Healthz reports whether the server is serving.
func (s *Server) Healthz() Healthz {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil || s.shutdown {
		return Healthz{Status: "unavailable", Error: "server is not accepting connections"}
	}
	return Healthz{Status: "ok"}
}
