package server

import (
	"github.com/petrel-io/petrel/core/env"
)

// client is one client connection. Until the protocol exists it only accounts for the
// bytes it is sent and notices when the connection ends.
type client struct {
	s *Server
	c env.Conn
}

// OnData drops the bytes: there is no protocol parser yet.
func (cl *client) OnData(p []byte) {
	if cl.s.log.Enabled(env.LevelTrace) {
		cl.s.log.Logf(env.LevelTrace, "%s - <<- %d bytes (ignored: no protocol yet)", cl.c.RemoteAddr(), len(p))
	}
}

// OnClose hands the connection back to the server's executor, which owns the set of
// connections.
func (cl *client) OnClose(err error) {
	if err != nil {
		cl.s.log.Logf(env.LevelDebug, "%s - Client connection closed: %v", cl.c.RemoteAddr(), err)
	} else {
		cl.s.log.Logf(env.LevelDebug, "%s - Client connection closed", cl.c.RemoteAddr())
	}
	cl.s.ex.Post(func() { cl.s.forget(cl.c) })
}
