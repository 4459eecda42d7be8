package core

import (
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/route"
)

// LameDuck stops accepting, tells clients (async INFO with ldm) so they reconnect
// elsewhere, waits the grace period, then closes clients spread evenly over the lame-duck
// duration, and finally runs done on the server's executor.
func (s *Server) LameDuck(done func()) {
	s.ex.Post(func() {
		s.mu.Lock()
		if s.lameDuck || s.shutdown {
			s.mu.Unlock()
			if done != nil {
				done()
			}
			return
		}
		s.lameDuck = true
		s.mu.Unlock()
		s.log.Logf(env.LevelInfo, "Entering lame duck mode, stop accepting new clients")
		s.serverEvent("LAMEDUCK")
		s.closeListener()
		if rt := s.clusterRoutes(); rt != nil {
			// Peers stop offering this server to their clients; the routes stay up, so
			// messages keep flowing until the clients here are closed.
			rt.step(func(r *route.Router) { r.LameDuck() })
		}
		cfg := s.cfg()
		info := s.infoFor(cfg)
		info.LameDuck = true
		line := s.infoLine(info)
		var wsLine []byte // WebSocket clients are told their listener's host and port
		for _, c := range s.clientList() {
			l := line
			if c.ws != nil {
				if wsLine == nil {
					wsInfo := info
					s.webSocketInfo(cfg, &wsInfo)
					wsLine = s.infoLine(wsInfo)
				}
				l = wsLine
			}
			c.ex.Post(func() {
				if c.info.Protocol >= 1 {
					c.write(l)
				}
			})
		}
		s.env.Clock.AfterFunc(cfg.LameDuckGrace, s.ex, func() { s.drainClients(done) })
	})
}

// drainClients closes the remaining clients in batches across the lame-duck duration.
func (s *Server) drainClients(done func()) {
	clients := s.clientList()
	const batches = 10
	per := max(1, (len(clients)+batches-1)/batches)
	cfg := s.cfg()
	step := (cfg.LameDuckDuration - cfg.LameDuckGrace) / batches
	if step < 0 {
		step = 0
	}
	var next func(i int)
	next = func(i int) {
		end := min(len(clients), i+per)
		for _, c := range clients[i:end] {
			c.ex.Post(func() { c.close(reasonLameDuck) })
		}
		if end >= len(clients) {
			s.log.Logf(env.LevelInfo, "Lame duck mode: all clients closed")
			if done != nil {
				done()
			}
			return
		}
		s.env.Clock.AfterFunc(step, s.ex, func() { next(end) })
	}
	next(0)
}
