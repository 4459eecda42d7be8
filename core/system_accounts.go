package core

import (
	"encoding/json"
	"strings"

	"github.com/petrel-io/petrel/core/bus"
)

// The system account's per-account requests: $SYS.REQ.ACCOUNT.<account>.<KIND> for CONNZ,
// SUBSZ, STATZ, INFO and CONNS, and $SYS.REQ.ACCOUNT.PING.STATZ|CONNZ for every account.
// Every other account reaches its own CONNZ and STATZ through the same subjects (and
// $SYS.REQ.SERVER.PING.CONNZ), answered about itself, as nats-server's automatic imports do.

// accountRequest answers $SYS.REQ.ACCOUNT.<account>.<KIND> in the system account.
func (s *Server) accountRequest(m bus.Msg) {
	toks := strings.Split(m.Subject, ".")
	if len(toks) != 5 {
		return
	}
	acc, kind := toks[3], toks[4]
	if acc == "PING" {
		acc = ""
	}
	s.answerAccount(m, acc, kind)
}

// ownAccountRequest answers, in a non-system account, the requests about that account.
func (s *Server) ownAccountRequest(m bus.Msg) {
	toks := strings.Split(m.Subject, ".")
	s.answerAccount(m, m.Account, toks[len(toks)-1])
}

// answerAccount replies with the document kind asks for about acc ("" for every account).
func (s *Server) answerAccount(m bus.Msg, acc, kind string) {
	info := s.serverInfo()
	var data any
	var apiErr *apiError
	switch kind {
	case "CONNZ", "SUBSZ":
		data, apiErr = s.monitorDocument(kind, m.Data, acc)
	case "STATZ":
		var r struct {
			Accounts      []string `json:"accounts"`
			IncludeUnused bool     `json:"include_unused"`
		}
		if len(m.Data) > 0 {
			_ = json.Unmarshal(m.Data, &r)
		}
		if acc != "" {
			r.Accounts, r.IncludeUnused = []string{acc}, true
		}
		data = s.AccountStatz(r.Accounts, r.IncludeUnused)
	case "INFO":
		a := s.cfg().accounts.Get(acc)
		if a == nil {
			return
		}
		data = s.accountInfo(a)
	case "CONNS":
		a := s.cfg().accounts.Get(acc)
		if a == nil {
			return
		}
		data = struct {
			Account    string `json:"acc"`
			Conns      int    `json:"conns"`
			LeafNodes  int    `json:"leafnodes"`
			TotalConns int    `json:"total_conns"`
		}{acc, a.Conns(), 0, a.Conns()}
	default:
		return
	}
	s.reply(m, apiResponse{Server: info, Data: data, Error: apiErr})
}
