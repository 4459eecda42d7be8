package core

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jetstream"
)

// The system account's services: every server answers $SYS.REQ.SERVER.PING[.<KIND>] and
// $SYS.REQ.SERVER.<id>.<KIND> in the system account with its monitoring documents, and
// $SYS.REQ.USER.INFO in every account with the requester's identity. Replies have the
// shape nats-server's have ({"server": ..., "data": ...}), so natscli reads them.

// ServerInfo identifies the answering server in every system reply.
type ServerInfo struct {
	Name    string `json:"name"`
	Host    string `json:"host"`
	ID      string `json:"id"`
	Cluster string `json:"cluster,omitempty"`
	Version string `json:"ver"`
	// FeatureFlags are nats-server's switches of JetStream behaviours; Petrel has none,
	// and shows the object empty, as /varz does.
	FeatureFlags map[string]bool `json:"feature_flags"`
	JetStream    bool            `json:"jetstream"`
	Flags        uint64          `json:"flags"`
	Seq          uint64          `json:"seq"`
	Time         time.Time       `json:"time"`
}

// apiResponse is a system reply.
type apiResponse struct {
	Server *ServerInfo `json:"server"`
	Data   any         `json:"data,omitempty"`
	Error  *apiError   `json:"error,omitempty"`
}

type apiError struct {
	Code        int    `json:"code"`
	Description string `json:"description,omitempty"`
}

// eventFilter is what a PING may ask of the servers that should answer.
type eventFilter struct {
	Name       string   `json:"server_name,omitempty"`
	Cluster    string   `json:"cluster,omitempty"`
	Host       string   `json:"host,omitempty"`
	ExactMatch bool     `json:"exact_match,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Domain     string   `json:"domain,omitempty"`
}

// matches reports whether this server is one the filter asks for.
func (f eventFilter) matches(info *ServerInfo) bool {
	same := func(want, have string) bool {
		if want == "" {
			return true
		}
		if f.ExactMatch {
			return want == have
		}
		return strings.Contains(have, want)
	}
	return same(f.Name, info.Name) && same(f.Host, info.Host) && same(f.Cluster, info.Cluster) && f.Domain == "" && len(f.Tags) == 0
}

// SetVarzHost gives the engine what the host knows of itself (its monitoring port, its
// configuration file), for the VARZ the system account serves.
func (s *Server) SetVarzHost(f func() VarzHost) {
	s.mu.Lock()
	s.varzHost = f
	s.mu.Unlock()
}

func (s *Server) hostVarz() VarzHost {
	s.mu.Lock()
	f := s.varzHost
	s.mu.Unlock()
	if f == nil {
		return VarzHost{}
	}
	return f()
}

// serverInfo is this server's ServerInfo now; seq numbers its system messages.
func (s *Server) serverInfo() *ServerInfo {
	cfg := s.cfg()
	info := &ServerInfo{Name: cfg.name, Host: cfg.Host, ID: s.id, Version: Version, JetStream: cfg.JetStream, FeatureFlags: map[string]bool{},
		Seq: s.sysSeq.Add(1), Time: s.env.Clock.Now().UTC()}
	if info.Host == "" {
		info.Host = "0.0.0.0"
	}
	if cfg.Cluster != nil {
		info.Cluster = cfg.Cluster.Name
	}
	if cfg.JetStream {
		info.Flags = 1
	}
	return info
}

// startSystem subscribes the system services: the server's own in the system account once,
// USER.INFO in every account not yet served (at start and after each reload).
func (s *Server) startSystem() {
	set := s.cfg().accounts
	b := s.Bus()
	sys := set.System().Name()
	if s.sysAccount != sys {
		s.sysAccount = sys
		s.startResolver()
		for _, subj := range []string{"$SYS.REQ.SERVER.PING", "$SYS.REQ.SERVER.PING.*", "$SYS.REQ.SERVER." + s.id + ".*"} {
			_, err := b.Subscribe(sys, subj, "", s.serverRequest)
			env.Assertf(err == nil, "core: system subscription %s: %v", subj, err)
		}
		_, err := b.Subscribe(sys, "$SYS.REQ.ACCOUNT.*.*", "", s.accountRequest)
		env.Assertf(err == nil, "core: system subscription: %v", err)
	}
	for _, name := range set.Names() {
		acc := set.Get(name)
		if s.servedAccounts[acc] {
			continue
		}
		_, err := b.Subscribe(name, "$SYS.REQ.USER.INFO", "", s.userInfo)
		env.Assertf(err == nil, "core: user info subscription in %s: %v", name, err)
		if name != sys {
			for _, subj := range []string{"$SYS.REQ.ACCOUNT.PING.CONNZ", "$SYS.REQ.ACCOUNT.PING.STATZ", "$SYS.REQ.SERVER.PING.CONNZ"} {
				_, err := b.Subscribe(name, subj, "", s.ownAccountRequest)
				env.Assertf(err == nil, "core: %s subscription in %s: %v", subj, name, err)
			}
		}
		s.servedAccounts[acc] = true
	}
}

// reply answers a system request (v as JSON) in the account it came from.
func (s *Server) reply(m bus.Msg, v any) {
	if m.Reply != "" {
		s.publishJSON(m.Account, m.Reply, v)
	}
}

// statszMsg is nats-server's statsz message: a PING's answer and the heartbeat.
type statszMsg struct {
	Server *ServerInfo  `json:"server"`
	Stats  *ServerStats `json:"statsz"`
}

// serverRequest answers $SYS.REQ.SERVER.PING (statsz), .PING.<KIND> and .<id>.<KIND>.
func (s *Server) serverRequest(m bus.Msg) {
	kind := "STATSZ"
	if toks := strings.Split(m.Subject, "."); len(toks) == 5 {
		kind = toks[4]
	}
	var filter eventFilter
	if len(m.Data) > 0 {
		_ = json.Unmarshal(m.Data, &filter) // options this server does not know are ignored, as nats-server does
	}
	info := s.serverInfo()
	if !filter.matches(info) {
		return
	}
	if m.Subject == "$SYS.REQ.SERVER.PING" {
		s.reply(m, statszMsg{info, s.statsz()})
		return
	}
	if strings.HasPrefix(m.Subject, "$SYS.REQ.SERVER."+s.id+".") && s.serverAction(kind, m) {
		return
	}
	if kind == "JSZ" {
		var o jetstream.JszOptions
		_ = json.Unmarshal(m.Data, &o) // unknown options are ignored, as above
		s.Jsz(o, func(z *jetstream.JSInfo) { s.reply(m, apiResponse{Server: info, Data: z}) })
		return
	}
	data, err := s.monitorDocument(kind, m.Data, "")
	resp := apiResponse{Server: info, Data: data}
	if err != nil {
		resp = apiResponse{Server: info, Error: err}
	}
	if data == nil && err == nil {
		return // a kind this server does not serve: another server may
	}
	s.reply(m, resp)
}

// userInfo answers $SYS.REQ.USER.INFO with the requester's user, account and permissions.
func (s *Server) userInfo(m bus.Msg) {
	if m.From == nil {
		return
	}
	ui := UserInfo{UserID: m.From.User, Account: m.From.Account}
	if ui.UserID == "" {
		ui.UserID = "nobody"
	}
	if c := s.clientByCID(m.From.CID); c != nil {
		c.mu.Lock()
		if c.user != nil && c.user.Permissions != nil {
			ui.Permissions = permissionsJSON(c.user.Permissions)
		}
		if c.user != nil && !c.user.Expires.IsZero() {
			ui.Expires = c.user.Expires.Sub(s.env.Clock.Now()) // what is left, as nats-server reports it
		}
		c.mu.Unlock()
	}
	s.reply(m, apiResponse{Server: s.serverInfo(), Data: ui})
}

// clientByCID finds a connected client.
func (s *Server) clientByCID(cid uint64) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[cid]
}

// UserInfo is $SYS.REQ.USER.INFO's answer.
type UserInfo struct {
	UserID      string           `json:"user"`
	Account     string           `json:"account"`
	Permissions *PermissionsJSON `json:"permissions,omitempty"`
	Expires     time.Duration    `json:"expires,omitempty"`
}
