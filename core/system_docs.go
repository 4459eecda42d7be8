package core

import (
	"encoding/json"
	"time"

	"github.com/petrel-io/petrel/core/auth"
)

// ServerStats is the statsz document: the figures natscli's server list and ping show.
type ServerStats struct {
	Start            time.Time `json:"start"`
	Mem              int64     `json:"mem"`
	Cores            int       `json:"cores"`
	CPU              float64   `json:"cpu"`
	Connections      int       `json:"connections"`
	TotalConnections int64     `json:"total_connections"`
	ActiveAccounts   int       `json:"active_accounts"`
	NumSubs          int       `json:"subscriptions"`
	Sent             DataStats `json:"sent"`
	Received         DataStats `json:"received"`
	SentToClients    DataStats `json:"sent_to_clients"`
	ReceivedClients  DataStats `json:"received_from_clients"`
	SlowConsumers    int64     `json:"slow_consumers"`
	StaleConnections int64     `json:"stale_connections,omitempty"`
	StalledClients   int64     `json:"stalled_clients,omitempty"`
	MaxProcs         int       `json:"gomaxprocs,omitempty"`
	// Routes are the established routes' traffic and ActiveServers the cluster's size
	// (this server and its peers); both absent without a cluster.
	Routes        []RouteStat `json:"routes,omitempty"`
	ActiveServers int         `json:"active_servers,omitempty"`
}

// RouteStat is one route's traffic in statsz: nats-server's keys.
type RouteStat struct {
	RID      uint64    `json:"rid"`
	Name     string    `json:"name,omitempty"`
	Sent     DataStats `json:"sent"`
	Received DataStats `json:"received"`
	Pending  int       `json:"pending"`
}

// DataStats counts messages and bytes one way.
type DataStats struct {
	Msgs  int64 `json:"msgs"`
	Bytes int64 `json:"bytes"`
}

// statsz assembles the statsz document from /varz's figures.
func (s *Server) statsz() *ServerStats {
	v := s.Varz(s.hostVarz())
	active := 0
	if s.clusterRoutes() != nil {
		active = v.Remotes + 1
	}
	return &ServerStats{ActiveServers: active,
		Start: v.Start, Mem: v.Mem, Cores: v.Cores, CPU: v.CPU,
		Connections: v.Connections, TotalConnections: v.TotalConnections, ActiveAccounts: s.activeAccounts(),
		NumSubs: v.Subscriptions, Sent: DataStats{v.OutMsgs, v.OutBytes}, Received: DataStats{v.InMsgs, v.InBytes},
		SentToClients: DataStats{v.OutClientMsgs, v.OutClientBytes}, ReceivedClients: DataStats{v.InClientMsgs, v.InClientBytes},
		SlowConsumers: v.SlowConsumers, StaleConnections: v.StaleConnections, StalledClients: v.StalledClients,
		MaxProcs: v.GOMAXPROCS, Routes: s.routeStats(),
	}
}

// routeStats is statsz's routes: each established route's messages and bytes both ways.
func (s *Server) routeStats() []RouteStat {
	rt := s.clusterRoutes()
	if rt == nil {
		return nil
	}
	routes := rt.routez(RoutezOptions{}, s.env.Clock.Now(), s.env.Clock.Mono())
	out := make([]RouteStat, 0, len(routes))
	for _, ri := range routes {
		out = append(out, RouteStat{RID: ri.RID, Name: ri.RemoteName, Sent: DataStats{ri.OutMsgs, ri.OutBytes},
			Received: DataStats{ri.InMsgs, ri.InBytes}, Pending: ri.Pending})
	}
	return out
}

// activeAccounts counts the accounts with a connected client.
func (s *Server) activeAccounts() int {
	seen := map[string]bool{}
	for _, c := range s.clientList() {
		c.mu.Lock()
		seen[c.acc.Name()] = true
		c.mu.Unlock()
	}
	return len(seen)
}

// connzRequest is the body of a CONNZ request, with nats-server's JSON names.
type connzRequest struct {
	Sort          string `json:"sort"`
	Auth          bool   `json:"auth"`
	Subscriptions bool   `json:"subscriptions"`
	SubsDetail    bool   `json:"subscriptions_detail"`
	Offset        int    `json:"offset"`
	Limit         int    `json:"limit"`
	CID           uint64 `json:"cid"`
	State         int    `json:"state"` // 0 open, 1 closed, 2 any
	User          string `json:"user"`
}

// subszRequest is the body of a SUBSZ request.
type subszRequest struct {
	Subscriptions bool   `json:"subscriptions"`
	Offset        int    `json:"offset"`
	Limit         int    `json:"limit"`
	Test          string `json:"test"`
}

// monitorDocument builds the document a system request of kind asks for, from its JSON
// options, about account acc ("" for all: CONNZ and SUBSZ filter by it); nil, nil for a
// kind this server does not serve.
func (s *Server) monitorDocument(kind string, body []byte, acc string) (any, *apiError) {
	decode := func(dst any) *apiError {
		if len(body) == 0 {
			return nil
		}
		if err := json.Unmarshal(body, dst); err != nil {
			return &apiError{Code: 400, Description: "bad request: " + err.Error()}
		}
		return nil
	}
	switch kind {
	case "STATSZ":
		return s.statsz(), nil
	case "VARZ":
		return s.Varz(s.hostVarz()), nil
	case "IDZ":
		info := s.serverInfo()
		return struct {
			Name string `json:"name"`
			Host string `json:"host"`
			ID   string `json:"id"`
		}{info.Name, info.Host, info.ID}, nil
	case "HEALTHZ":
		return s.Healthz(HealthzOptions{}), nil
	case "CONNZ":
		var r connzRequest
		if err := decode(&r); err != nil {
			return nil, err
		}
		state := [...]string{"open", "closed", "any"}[min(max(r.State, 0), 2)]
		z, err := s.Connz(ConnzOptions{Sort: r.Sort, Auth: r.Auth, Subs: r.Subscriptions || r.SubsDetail, SubsDetail: r.SubsDetail,
			Offset: r.Offset, Limit: r.Limit, CID: r.CID, State: state, User: r.User, Account: acc})
		if err != nil {
			return nil, &apiError{Code: 400, Description: err.Error()}
		}
		return z, nil
	case "ROUTEZ":
		var o RoutezOptions
		if err := decode(&o); err != nil {
			return nil, err
		}
		return s.Routez(o), nil
	case "SUBSZ":
		var r subszRequest
		if err := decode(&r); err != nil {
			return nil, err
		}
		return s.Subsz(SubszOptions{Subs: r.Subscriptions, Offset: r.Offset, Limit: r.Limit, Test: r.Test, Account: acc}), nil
	}
	return nil, nil
}

// PermissionsJSON is a user's permissions as the system account shows them.
type PermissionsJSON struct {
	Publish   *SubjectPermissionJSON  `json:"publish,omitempty"`
	Subscribe *SubjectPermissionJSON  `json:"subscribe,omitempty"`
	Response  *ResponsePermissionJSON `json:"responses,omitempty"`
}

// SubjectPermissionJSON is one direction's allow and deny lists.
type SubjectPermissionJSON struct {
	Allow []string `json:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty"`
}

// ResponsePermissionJSON is allow_responses.
type ResponsePermissionJSON struct {
	MaxMsgs int   `json:"max"`
	Expires int64 `json:"ttl"`
}

func permissionsJSON(p *auth.Permissions) *PermissionsJSON {
	side := func(sp *auth.SubjectPermission) *SubjectPermissionJSON {
		if sp == nil {
			return nil
		}
		return &SubjectPermissionJSON{Allow: sp.Allow, Deny: sp.Deny}
	}
	out := &PermissionsJSON{Publish: side(p.Publish), Subscribe: side(p.Subscribe)}
	if r := p.Response; r != nil {
		out.Response = &ResponsePermissionJSON{MaxMsgs: r.MaxMsgs, Expires: int64(r.Expires)}
	}
	return out
}
