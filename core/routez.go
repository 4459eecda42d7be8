package core

import (
	"cmp"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/route"
)

// /routez and the ROUTEZ system request: the established routes, assembled from what the
// Router knows of each (route.Router.Stats: peer, handshake time, routed traffic, the
// peer's interest) and what only the socket knows (the peer's address, unsent bytes). Keys
// and types are nats-server 2.15.2's (testdata/monitor/routez.txt). One route per peer:
// Petrel has no route pools, which nats-server shows as several routes per peer, and no
// pinned per-account routes (its "account" field).

// RoutezOptions are /routez's query parameters (subs=1, subs=detail) and the ROUTEZ
// request's body.
type RoutezOptions struct {
	Subs       bool `json:"subscriptions"`
	SubsDetail bool `json:"subscriptions_detail"`
}

// Routez is /routez.
type Routez struct {
	ID        string      `json:"server_id"`
	Name      string      `json:"server_name"`
	Now       time.Time   `json:"now"`
	NumRoutes int         `json:"num_routes"`
	Routes    []RouteInfo `json:"routes"`
}

// RouteInfo is one route in /routez.
type RouteInfo struct {
	RID          uint64     `json:"rid"`
	RemoteID     string     `json:"remote_id"`
	RemoteName   string     `json:"remote_name"`
	DidSolicit   bool       `json:"did_solicit"`
	IsConfigured bool       `json:"is_configured"`
	IP           string     `json:"ip"`
	Port         int        `json:"port"`
	Start        time.Time  `json:"start"`
	LastActivity time.Time  `json:"last_activity"`
	RTT          string     `json:"rtt,omitempty"`
	Uptime       string     `json:"uptime"`
	Idle         string     `json:"idle"`
	Pending      int        `json:"pending_size"`
	InMsgs       int64      `json:"in_msgs"`
	OutMsgs      int64      `json:"out_msgs"`
	InBytes      int64      `json:"in_bytes"`
	OutBytes     int64      `json:"out_bytes"`
	NumSubs      uint32     `json:"subscriptions"`
	Subs         []string   `json:"subscriptions_list,omitempty"`
	SubsDetail   []RouteSub `json:"subscriptions_list_detail,omitempty"`
	Compression  string     `json:"compression,omitempty"`
}

// RouteSub is one of the peer's interest entries in subs=detail. nats-server names it
// "R <account> <subject>[ <queue>]" as sid and the route's id as cid; it counts no
// messages per remote entry here (msgs is 0).
type RouteSub struct {
	Subject string `json:"subject"`
	Queue   string `json:"qgroup,omitempty"`
	Sid     string `json:"sid"`
	Msgs    int64  `json:"msgs"`
	CID     uint64 `json:"cid"`
}

// Routez assembles /routez: every established route, by connection id.
func (s *Server) Routez(o RoutezOptions) *Routez {
	now := s.env.Clock.Now()
	z := &Routez{ID: s.id, Name: s.cfg().name, Now: now, Routes: []RouteInfo{}}
	if rt := s.clusterRoutes(); rt != nil {
		z.Routes = rt.routez(o, now, s.env.Clock.Mono())
	}
	z.NumRoutes = len(z.Routes)
	return z
}

// routeSocket is what the socket of a route tells /routez.
type routeSocket struct {
	addr       string
	pending    int
	configured bool
}

// routez describes the established routes; now and mono are the same instant on the wall
// and monotonic clocks, to place the Router's monotonic times.
func (rt *routes) routez(o RoutezOptions, now time.Time, mono time.Duration) []RouteInfo {
	rt.mu.Lock()
	if rt.stopped {
		rt.mu.Unlock()
		return []RouteInfo{}
	}
	stats := rt.router.Stats(o.Subs || o.SubsDetail)
	socks := make([]routeSocket, len(stats))
	for i, st := range stats {
		if rc := rt.conns[st.Conn]; rc != nil {
			socks[i] = routeSocket{addr: rc.conn.RemoteAddr(), pending: rc.conn.Buffered()}
		}
		socks[i].configured = rt.configured(st.URL) || rt.configured(st.PeerURL)
	}
	rt.mu.Unlock()
	out := make([]RouteInfo, 0, len(stats))
	for i := range stats {
		out = append(out, routeInfo(&stats[i], socks[i], o, now, mono))
	}
	return out
}

// configured reports whether url names a configured route (by host and port), under mu:
// a route we dialled from the configuration, or one the peer dialled first whose address
// we have configured too.
func (rt *routes) configured(url string) bool {
	if url == "" {
		return false
	}
	hp := route.HostPort(url)
	for u := range rt.explicit {
		if strings.EqualFold(route.HostPort(u), hp) {
			return true
		}
	}
	return false
}

func routeInfo(st *route.ConnStats, sock routeSocket, o RoutezOptions, now time.Time, mono time.Duration) RouteInfo {
	ri := RouteInfo{RID: uint64(st.Conn), RemoteID: st.Peer, RemoteName: st.PeerName, DidSolicit: st.Solicited,
		IsConfigured: sock.configured, Start: now.Add(st.Start - mono), LastActivity: now.Add(st.LastActivity - mono),
		Uptime: FormatUptime(mono - st.Start), Idle: FormatUptime(mono - st.LastActivity), Pending: sock.pending,
		InMsgs: st.InMsgs, OutMsgs: st.OutMsgs, InBytes: st.InBytes, OutBytes: st.OutBytes,
		NumSubs: uint32(st.NumSubs), Compression: cmp.Or(st.Compression, CompressionOff)}
	ri.IP, ri.Port = env.SplitAddr(sock.addr)
	if st.RTT > 0 {
		ri.RTT = st.RTT.String()
	}
	for _, in := range st.Subs {
		if o.SubsDetail {
			sid := "R " + in.Account + " " + in.Subject
			if in.Queue != "" {
				sid += " " + in.Queue
			}
			ri.SubsDetail = append(ri.SubsDetail, RouteSub{Subject: in.Subject, Queue: in.Queue, Sid: sid, CID: ri.RID})
		} else {
			ri.Subs = append(ri.Subs, in.Subject)
		}
	}
	return ri
}

// numConns is the number of established route connections (every pool and pinned one).
func (rt *routes) numConns() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.stopped {
		return 0
	}
	return rt.router.NumConns()
}
