package core

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// The system account's events: a client's connect and disconnect (on
// $SYS.ACCOUNT.<account>.CONNECT|DISCONNECT), the server's statsz heartbeat
// ($SYS.SERVER.<id>.STATSZ), and its shutdown and lame-duck notices, each with nats-server's
// JSON so that `nats event` and monitoring tools read them.

// Event types, as nats-server names them.
const (
	connectEventType    = "io.nats.server.advisory.v1.client_connect"
	disconnectEventType = "io.nats.server.advisory.v1.client_disconnect"
)

// statszEvery is the statsz heartbeat's period (nats-server's steady rate).
const statszEvery = 10 * time.Second

// EventClient describes a client in an event.
type EventClient struct {
	Start   *time.Time    `json:"start,omitempty"`
	Host    string        `json:"host,omitempty"`
	ID      uint64        `json:"id,omitempty"`
	Account string        `json:"acc,omitempty"`
	User    string        `json:"user,omitempty"`
	Name    string        `json:"name,omitempty"`
	Lang    string        `json:"lang,omitempty"`
	Version string        `json:"ver,omitempty"`
	RTT     time.Duration `json:"rtt,omitempty"`
	Server  string        `json:"server,omitempty"`
	Stop    *time.Time    `json:"stop,omitempty"`
	NameTag string        `json:"name_tag,omitempty"`
	Kind    string        `json:"kind,omitempty"`
	Type    string        `json:"client_type,omitempty"`
}

// clientEvent is a connect or disconnect event.
type clientEvent struct {
	Type     string      `json:"type"`
	ID       string      `json:"id"`
	Time     time.Time   `json:"timestamp"`
	Server   *ServerInfo `json:"server"`
	Client   EventClient `json:"client"`
	Sent     *DataStats  `json:"sent,omitempty"`
	Received *DataStats  `json:"received,omitempty"`
	Reason   string      `json:"reason,omitempty"`
}

// sysEvent publishes v as JSON on subj in the system account.
func (s *Server) sysEvent(subj string, v any) {
	s.publishJSON(s.cfg().accounts.System().Name(), subj, v)
}

// publishJSON publishes v as JSON on subj in account.
func (s *Server) publishJSON(account, subj string, v any) {
	data, err := json.Marshal(v)
	env.Assertf(err == nil, "core: %s: %v", subj, err)
	s.Bus().Publish(account, subj, "", nil, data)
}

// eventID is a fresh event id (22 base-62 characters, like a NUID). The node's Rand is safe
// from any executor.
func (s *Server) eventID() string { return env.Token(s.env.Rand, 22) }

// eventClient describes c for an event, on c's executor.
func (c *client) eventClient(info *ServerInfo) EventClient {
	start := c.start.UTC()
	ec := EventClient{Start: &start, Host: c.host, ID: c.cid, Account: c.acc.Name(), Name: c.info.Name,
		Lang: c.info.Lang, Version: c.info.Version, RTT: time.Duration(c.rttNanos.Load()), Server: info.Name,
		Kind: "Client", Type: "nats"}
	if c.user != nil {
		ec.User = c.user.Name
	}
	if c.ws != nil {
		ec.Type = "websocket"
	}
	return ec
}

// connectEvent announces a client's first CONNECT in its account.
func (c *client) connectEvent() {
	s := c.srv
	info := s.serverInfo()
	s.sysEvent(fmt.Sprintf("$SYS.ACCOUNT.%s.CONNECT", c.acc.Name()), clientEvent{
		Type: connectEventType, ID: s.eventID(), Time: info.Time, Server: info, Client: c.eventClient(info)})
}

// disconnectEvent announces a connected client's end, with its traffic and the reason.
func (c *client) disconnectEvent(reason string) {
	s := c.srv
	info := s.serverInfo()
	ec := c.eventClient(info)
	stop := info.Time
	ec.Stop = &stop
	s.sysEvent(fmt.Sprintf("$SYS.ACCOUNT.%s.DISCONNECT", c.acc.Name()), clientEvent{
		Type: disconnectEventType, ID: s.eventID(), Time: info.Time, Server: info, Client: ec,
		Sent:     &DataStats{Msgs: c.outMsgs.Load(), Bytes: c.outBytes.Load()},
		Received: &DataStats{Msgs: c.inMsgs.Load(), Bytes: c.inBytes.Load()}, Reason: reason})
}

// statszHeartbeat publishes the server's statsz now and every statszEvery, on ex.
func (s *Server) statszHeartbeat() {
	s.mu.Lock()
	stopped := s.shutdown
	s.mu.Unlock()
	if stopped {
		return
	}
	s.sysEvent(fmt.Sprintf("$SYS.SERVER.%s.STATSZ", s.id), statszMsg{s.serverInfo(), s.statsz()})
	s.env.Clock.AfterFunc(statszEvery, s.ex, s.statszHeartbeat)
}

// serverEvent announces the server's shutdown or lame-duck mode ({"server": ...}).
func (s *Server) serverEvent(kind string) {
	s.sysEvent(fmt.Sprintf("$SYS.SERVER.%s.%s", s.id, kind), struct {
		Server *ServerInfo `json:"server"`
	}{s.serverInfo()})
}
