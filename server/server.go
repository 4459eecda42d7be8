package server

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"

	"github.com/petrel-io/petrel/core/env"
)

// Options configures a Server. The field names follow nats-server's flags so that
// operators can carry their habits over.
type Options struct {
	Host       string // interface to listen on; "" means all (0.0.0.0)
	Port       int    // client port; 0 or -1 picks a free one
	ServerName string // "" means the Env's name
	Debug      bool
	Trace      bool
	JetStream  bool
	StoreDir   string
}

// DefaultHost listens on every IPv4 interface, as nats-server does by default.
const DefaultHost = "0.0.0.0"

// LogLevel is the minimum log level the options ask for. The Env's logger is built before
// the server, so the caller passes this to netstack.Options rather than the server
// changing the logger itself. Levels are ordered, so trace includes debug.
func LogLevel(opts Options) env.Level {
	switch {
	case opts.Trace:
		return env.LevelTrace
	case opts.Debug:
		return env.LevelDebug
	}
	return env.LevelInfo
}

type lifecycle int

const (
	stateNew lifecycle = iota
	stateStarted
	stateStopped
)

// Server is one Petrel node serving clients over TCP.
type Server struct {
	opts Options
	env  *env.Env
	log  env.Logger
	ex   env.Executor // owns conns and closing

	// Start, Addr and Shutdown are called from outside the engine (main, tests), so the
	// lifecycle is guarded by a mutex rather than owned by an executor.
	mu    sync.Mutex
	state lifecycle
	ln    env.Listener
	done  chan struct{} // closed when Shutdown has finished

	conns   map[env.Conn]struct{} // owned by ex
	closing bool                  // owned by ex: set once Shutdown closed the connections
}

// New checks opts and returns a server that has not started yet.
func New(opts Options, e *env.Env) (*Server, error) {
	if e == nil {
		return nil, errors.New("server: nil env")
	}
	if opts.Port < -1 || opts.Port > 65535 {
		return nil, fmt.Errorf("server: port %d out of range (0-65535, or -1 for any)", opts.Port)
	}
	if opts.Port == -1 {
		opts.Port = 0 // nats-server's spelling of "any free port"
	}
	if opts.Host == "" {
		opts.Host = DefaultHost
	}
	if opts.ServerName == "" {
		opts.ServerName = e.Name
	}
	return &Server{
		opts:  opts,
		env:   e,
		log:   e.Log,
		ex:    e.Exec.New("server"),
		done:  make(chan struct{}),
		conns: make(map[env.Conn]struct{}),
	}, nil
}

// Start listens for clients and returns once the server is ready, or with why it cannot be.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != stateNew {
		return errors.New("server: Start called twice or after Shutdown")
	}
	s.log.Logf(env.LevelInfo, "Starting petrel server")
	s.log.Logf(env.LevelInfo, "  Server name: %s", s.opts.ServerName)
	s.log.Logf(env.LevelInfo, "  Go version:  %s", runtime.Version())
	if s.opts.JetStream {
		s.log.Logf(env.LevelWarn, "JetStream is not supported yet; ignoring it (store dir %q)", s.opts.StoreDir)
	}
	addr := net.JoinHostPort(s.opts.Host, strconv.Itoa(s.opts.Port))
	ln, err := s.env.Net.Listen(addr, s.ex, s.accept)
	if err != nil {
		return fmt.Errorf("server: listen for clients: %w", err)
	}
	s.ln = ln
	s.state = stateStarted
	s.log.Logf(env.LevelInfo, "Listening for client connections on %s", ln.Addr())
	s.log.Logf(env.LevelInfo, "Server is ready")
	return nil
}

// Addr is the client address with its port resolved, or "" before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr()
}

// Shutdown stops accepting, closes every client connection and returns when that is done.
// It is idempotent: later calls wait for the first to finish. It must not be called from an
// executor of this server's Env, since it waits for the server's executor.
func (s *Server) Shutdown() {
	s.mu.Lock()
	if s.state == stateStopped {
		s.mu.Unlock()
		<-s.done
		return
	}
	s.state = stateStopped
	ln := s.ln
	s.mu.Unlock()

	// Closing the listener first means no accept can be delivered after closeAll below.
	if ln != nil {
		if err := ln.Close(); err != nil {
			s.log.Logf(env.LevelWarn, "closing client listener: %v", err)
		}
	}
	closed := make(chan struct{})
	s.ex.Post(func() {
		s.closeAll()
		close(closed)
	})
	<-closed
	s.log.Logf(env.LevelInfo, "Server Exiting..")
	close(s.done)
}

// closeAll runs on ex. Close (rather than Abort) lets anything queued reach the client.
func (s *Server) closeAll() {
	s.closing = true
	for c := range s.conns {
		if err := c.Close(); err != nil {
			s.log.Logf(env.LevelDebug, "closing client %s: %v", c.RemoteAddr(), err)
		}
	}
	clear(s.conns)
}

// accept runs on ex for each new client connection.
func (s *Server) accept(c env.Conn) {
	if s.closing {
		c.Abort()
		return
	}
	s.conns[c] = struct{}{}
	s.log.Logf(env.LevelDebug, "Client connection created from %s", c.RemoteAddr())
	cl := &client{s: s, c: c}
	c.Start(s.env.Exec.New("client "+c.RemoteAddr()), cl)
}

// forget runs on ex once a client connection has ended.
func (s *Server) forget(c env.Conn) {
	delete(s.conns, c)
}
