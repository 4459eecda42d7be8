package core

import (
	"encoding/json"
	"errors"

	"github.com/petrel-io/petrel/core/bus"
)

// The system account's requests that act: $SYS.REQ.SERVER.<id>.KICK ({"cid": N}) closes a
// client, .LDM ({"cid": N}) tells one client the server is going away (an INFO with ldm),
// and .RELOAD reloads the configuration through the host. Each answers {"server": ...}, or
// with an error.

// reasonKicked is /connz's reason for a client closed by a KICK request.
const reasonKicked = "Kicked"

// SetReloader gives the engine the host's configuration reload, for RELOAD requests: f
// starts a reload and calls done with its outcome, from any goroutine (a reload waits for
// the server's executor, where the request is handled, so it cannot run there).
func (s *Server) SetReloader(f func(done func(error))) {
	s.mu.Lock()
	s.reloader = f
	s.mu.Unlock()
}

// serverAction carries out a KICK, LDM or RELOAD request; handled is false for other kinds.
func (s *Server) serverAction(kind string, m bus.Msg) (handled bool) {
	var err error
	respond := func(err error) {
		resp := apiResponse{Server: s.serverInfo()}
		if err != nil {
			resp.Error = &apiError{Code: 500, Description: err.Error()}
		}
		s.reply(m, resp)
	}
	switch kind {
	case "KICK", "LDM":
		var req struct {
			CID uint64 `json:"cid"`
		}
		if err = json.Unmarshal(m.Data, &req); err == nil {
			err = s.actOnClient(kind, req.CID)
		}
	case "RELOAD":
		s.mu.Lock()
		reload := s.reloader
		s.mu.Unlock()
		if reload == nil {
			err = errors.New("this server cannot reload its configuration")
			break
		}
		reload(respond)
		return true
	default:
		return false
	}
	respond(err)
	return true
}

// actOnClient kicks a client or sends it a lame-duck INFO.
func (s *Server) actOnClient(kind string, cid uint64) error {
	c := s.clientByCID(cid)
	if c == nil {
		return errors.New("no such client id")
	}
	if kind == "KICK" {
		c.closeAsync(reasonKicked)
		return nil
	}
	cfg := s.cfg()
	info := s.infoFor(cfg)
	info.LameDuck = true
	if c.ws != nil {
		s.webSocketInfo(cfg, &info)
	}
	line := s.infoLine(info)
	c.ex.Post(func() {
		if c.info.Protocol >= 1 {
			c.write(line)
		}
	})
	return nil
}
