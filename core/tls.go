package core

import (
	"github.com/petrel-io/petrel/core/env"
)

// beginTLS upgrades the connection: INFO first then the handshake, or the handshake first
// when configured (clients that start TLS at once). Clients of a TLS server that never
// complete a handshake are dropped without an -ERR when the TLS timeout passes.
func (c *client) beginTLS(cfg *config, info []byte) {
	s := c.srv
	tc, ok := c.conn.(env.TLSConn)
	if !ok {
		s.log.Logf(env.LevelError, "cid:%d - TLS is configured but this host's connections cannot do TLS", c.cid)
		c.close(reasonTLS)
		return
	}
	if !cfg.TLSHandshakeFirst {
		c.write(info)
	}
	tc.StartTLS(cfg.TLS, cfg.TLSTimeout, c.ex, func(err error) {
		if err != nil {
			s.log.Logf(env.LevelDebug, "%s:%d - cid:%d - TLS handshake error: %v", c.host, c.port, c.cid, err)
			c.close(reasonTLS)
			return
		}
		if cfg.TLSHandshakeFirst {
			c.write(info)
		}
		c.startEvents()
	})
}
