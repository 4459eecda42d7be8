package core

import (
	"fmt"
	"github.com/petrel-io/petrel/core/account"
	"sort"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// ConnzOptions are /connz's query parameters.
type ConnzOptions struct {
	Sort       string // cid (default), start, subs, pending, msgs_to, msgs_from, bytes_to, bytes_from, last, idle, uptime, stop, reason, rtt
	Subs       bool
	SubsDetail bool
	Auth       bool // show user, account and the subscriptions' accounts
	Offset     int
	Limit      int    // default subsListDefault
	CID        uint64 // only this connection
	State      string // open (default), closed, any
	User       string
	Account    string // only this account's connections
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
	RTT          string      `json:"rtt"`
	Uptime       string      `json:"uptime"`
	Idle         string      `json:"idle"`
	PendingBytes int         `json:"pending_bytes"`
	InMsgs       int64       `json:"in_msgs"`
	OutMsgs      int64       `json:"out_msgs"`
	InBytes      int64       `json:"in_bytes"`
	OutBytes     int64       `json:"out_bytes"`
	Stalls       int64       `json:"stalls,omitempty"`
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
	NameTag      string      `json:"name_tag,omitempty"`
	sortStart    time.Duration
	acc          string // the client's account, for the account filter
	sortLastMono time.Duration
	sortRTTNanos int64
}

// SubDetail is one subscription in subs=detail and /subsz.
type SubDetail struct {
	Account    string `json:"account,omitempty"`
	AccountTag string `json:"account_tag,omitempty"`
	Subject    string `json:"subject"`
	Queue      string `json:"qgroup,omitempty"`
	Sid        string `json:"sid"`
	Msgs       int64  `json:"msgs"`
	Max        int64  `json:"max,omitempty"`
	CID        uint64 `json:"cid"`
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

// connInfo describes c now, with everything (subscriptions in detail, user, account);
// forOptions trims it to what a request asked for. It may run on any executor.
func (c *client) connInfo(now time.Time) ConnInfo {
	mono := c.srv.env.Clock.Mono()
	last := time.Duration(c.lastAct.Load())
	rtt := c.rttNanos.Load()
	ci := ConnInfo{
		CID: c.cid, Kind: "Client", Type: "nats", IP: c.host, Port: c.port, Start: c.start,
		LastActivity: now.Add(last - mono), RTT: time.Duration(rtt).String(), Uptime: FormatUptime(now.Sub(c.start)),
		Idle: FormatUptime(mono - last), PendingBytes: c.conn.Buffered(), InMsgs: c.inMsgs.Load(),
		OutMsgs: c.outMsgs.Load(), InBytes: c.inBytes.Load(), OutBytes: c.outBytes.Load(), Stalls: c.stalls.Load(),
		sortLastMono: last, sortRTTNanos: rtt,
	}
	if tc, ok := c.conn.(env.TLSConn); ok && c.srv.cfg().TLS != nil {
		ci.TLSVersion, ci.TLSCipher = tc.TLSState()
	}
	c.mu.Lock()
	acc := c.acc.Name()
	ci.NameTag, ci.acc = acc, acc
	ci.Name, ci.Lang, ci.Version = c.info.Name, c.info.Lang, c.info.Version
	if c.user != nil {
		ci.User = c.user.Name
		if acc != account.Global {
			ci.Account = acc
		}
	}
	ci.NumSubs = len(c.subs)
	for _, sid := range env.SortedKeys(c.subs) {
		sub := c.subs[sid]
		ci.SubsDetail = append(ci.SubsDetail, SubDetail{Account: acc, AccountTag: acc,
			Subject: sub.entry.Subject, Queue: sub.entry.Queue, Sid: sid, Msgs: sub.delivered.Load(),
			Max: sub.max.Load(), CID: c.cid})
	}
	c.mu.Unlock()
	return ci
}

// forOptions keeps of ci what the request asked for, as nats-server does: subscriptions
// only with subs (subjects) or subs=detail, user and accounts only with auth.
func (ci ConnInfo) forOptions(o ConnzOptions) ConnInfo {
	if !o.Auth {
		ci.User, ci.Account, ci.NameTag = "", "", ""
	}
	switch {
	case o.SubsDetail:
		detail := make([]SubDetail, len(ci.SubsDetail))
		for i, d := range ci.SubsDetail {
			if !o.Auth {
				d.Account, d.AccountTag = "", ""
			}
			detail[i] = d
		}
		ci.SubsDetail = detail
	case o.Subs:
		for _, d := range ci.SubsDetail {
			ci.Subs = append(ci.Subs, d.Subject)
		}
		ci.SubsDetail = nil
	default:
		ci.SubsDetail = nil
	}
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
		o.Limit = subsListDefault
	}
	var all []ConnInfo
	if o.State == "" || o.State == "open" || o.State == "any" {
		for _, c := range s.clientList() {
			all = append(all, c.connInfo(now))
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
	z := Connz{ID: s.id, Now: now, Total: len(all), Offset: o.Offset, Limit: o.Limit, Conns: []ConnInfo{}}
	if o.Offset < len(all) {
		for _, ci := range all[o.Offset:min(len(all), o.Offset+o.Limit)] {
			z.Conns = append(z.Conns, ci.forOptions(o))
		}
	}
	z.NumConns = len(z.Conns)
	return z, nil
}

func filterConns(all []ConnInfo, o ConnzOptions) []ConnInfo {
	if o.CID == 0 && o.User == "" && o.Account == "" {
		return all
	}
	out := all[:0]
	for _, ci := range all {
		if (o.CID == 0 || ci.CID == o.CID) && (o.User == "" || ci.User == o.User) && (o.Account == "" || ci.acc == o.Account) {
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
