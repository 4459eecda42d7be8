package core

import (
	"cmp"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nkeys"
	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jetstream"
	"github.com/petrel-io/petrel/core/resolver"
	"github.com/petrel-io/petrel/core/websocket"
)

// Server is one Petrel node's engine: it accepts client connections through its Env and
// routes messages between them.
//
// Concurrency: each client connection is an actor with its own executor; the server's own
// executor accepts connections and runs shutdown. A publish runs on the publisher's executor
// and queues straight into each subscriber's connection (Conn.Queue and Flush are safe from
// any executor; the publisher flushes each touched connection once per read), so the
// subscription index and the per-client fields a publisher touches are concurrency-safe
// (sublist's lock, atomics, client.mu). The settings are an immutable generation behind an
// atomic pointer (config.go), which Reload replaces.
type Server struct {
	current atomic.Pointer[config] // the settings in force; Reload swaps in a new generation
	env     *env.Env
	log     env.Logger
	id      string
	ex      env.Executor
	start   time.Time
	// stallAt is the unsent output above which a subscriber slows its publishers
	// (max_pending does not reload, so neither does this).
	stallAt int

	mu       sync.Mutex
	listener env.Listener // set by Start; a client accepted at once may read it
	port     int
	clients  map[uint64]*client
	closed   closedConns
	shutdown bool
	lameDuck bool

	// The WebSocket listener (websocket_listener.go), when configured; under mu.
	wsListener env.Listener
	wsPort     int
	// generatedClusterName names the cluster when the options do not (cluster_options.go);
	// drawn once, under mu.
	generatedClusterName string
	// routes is the route subsystem (routes.go), nil without a cluster block; set by Start.
	// An atomic pointer: every publish reads it.
	routes atomic.Pointer[routes]
	// services are the internal subscriptions the cluster is told of (routes_services.go).
	services clusterServices

	nextCID atomic.Uint64
	// internal publishes the server's own messages and owns its subscriptions (internal.go).
	internal     *client
	internalSids atomic.Uint64
	internalOut  internalQueue // internal publishes waiting for the server's executor (internal.go)
	// The system services (system.go): the system account they serve, the accounts whose
	// USER.INFO they answer (both on ex), numbering of system messages, the host's facts.
	sysAccount     string
	servedAccounts map[*account.Account]bool
	sysSeq         atomic.Uint64
	varzHost       func() VarzHost                   // under mu
	reloader       func(func(error))                 // under mu
	resolver       *resolver.Dir                     // operator mode's resolver directory, once opened (claims.go; on ex)
	js             atomic.Pointer[jetstream.Service] // nil unless JetStream is on (jetstream.go)
	jsStarting     bool                              // under mu: JetStream has not started yet; clients wait (jetstream.go)
	jsHeld         []*client                         // under mu: clients accepted meanwhile, not yet greeted
	stats          serverStats
}

type serverStats struct {
	inMsgs, inBytes, outMsgs, outBytes atomic.Int64
	slowConsumers, totalConns          atomic.Int64
	staleConns                         atomic.Int64 // connections closed for not answering PINGs
	stalls                             atomic.Int64 // times a publisher was stalled for a slow subscriber (flow control)
}

// New builds a server from options; it does not listen yet.
func New(opts Options, e *env.Env) (*Server, error) {
	e.Validate()
	s := &Server{env: e, log: e.Log, clients: map[uint64]*client{}, start: e.Clock.Now(),
		servedAccounts: map[*account.Account]bool{}, services: clusterServices{subs: map[*subscription]bool{}}}
	cfg, warnings, err := s.newConfig(opts, nil)
	if err != nil {
		return nil, err
	}
	kp, err := nkeys.CreatePairWithRand(nkeys.PrefixByteServer, randReader{e.Rand})
	if err != nil {
		return nil, fmt.Errorf("core: server identity: %w", err)
	}
	if s.id, err = kp.PublicKey(); err != nil {
		return nil, fmt.Errorf("core: server identity: %w", err)
	}
	cfg.name = cmp.Or(cfg.ServerName, s.id)
	s.ex, s.stallAt = e.Exec.New("server"), stallAbove(cfg.MaxPending)
	s.current.Store(cfg)
	cfg.installAccounts()
	s.internal = s.newInternalClient()
	s.startSystem()
	for _, w := range warnings {
		s.log.Logf(env.LevelWarn, "%s", w)
	}
	return s, nil
}

// randReader lets nkeys draw key material from the node's Rand, so identities are
// reproducible in sim and secure in production.
type randReader struct{ r env.Rand }

func (r randReader) Read(p []byte) (int, error) {
	r.r.Fill(p)
	return len(p), nil
}

// ID is the server's public nkey, sent as server_id.
func (s *Server) ID() string { return s.id }

// Name is the server's name.
func (s *Server) Name() string { return s.cfg().name }

// Start listens for clients. It returns once the listener is open.
func (s *Server) Start() error {
	cfg := s.cfg()
	s.startJetStream(cfg) // before the listener, so the first client waits for it (greet)
	addr := env.JoinHostPort(cfg.Host, cfg.Port)
	l, err := s.env.Net.Listen(addr, s.ex, s.accept)
	if err != nil {
		s.stopJetStream(func() {})
		return fmt.Errorf("core: listen on %s: %w", addr, err)
	}
	s.mu.Lock()
	s.listener = l
	s.port = addrPort(l.Addr())
	s.mu.Unlock()
	s.log.Logf(env.LevelInfo, "Starting petrel, version %s (nats %s), name %s, id %s", PetrelVersion, Version, cfg.name, s.id)
	s.log.Logf(env.LevelInfo, "Listening for client connections on %s", env.JoinHostPort(cfg.Host, addrPort(l.Addr())))
	if err := s.startWebSocket(cfg); err != nil {
		s.closeListener()
		return err
	}
	if cfg.auth.Required() {
		s.log.Logf(env.LevelInfo, "Authorization required for client connections")
	}
	if err := s.startRoutes(cfg); err != nil {
		s.closeListener()
		return err
	}
	s.logCluster(cfg)
	s.ex.Post(s.statszHeartbeat)
	return nil
}

// PetrelVersion is Petrel's own version, logged and shown in monitoring.
const PetrelVersion = "0.1.0"

// Addr is the address the server listens on, with the port resolved.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return ""
	}
	return s.listener.Addr()
}

// Port is the resolved listen port.
func (s *Server) Port() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port
}

// addrPort is the port of a listener's address.
func addrPort(addr string) int {
	_, port := env.SplitAddr(addr)
	return port
}

// closeListener stops accepting; the listener is going away either way, so its error is
// not interesting.
func (s *Server) closeListener() {
	s.mu.Lock()
	l, wl := s.listener, s.wsListener
	s.mu.Unlock()
	if l != nil {
		_ = l.Close()
	}
	if wl != nil {
		_ = wl.Close()
	}
}

// accept runs on the server's executor for each new connection.
func (s *Server) accept(conn env.Conn) {
	if c := s.admit(conn, nil, nil); c != nil {
		s.greet(c)
	}
}

// admit makes a connection a client (on ex; nil: an executor of its own), or turns it away
// when the server is going away (reset) or at max_connections (refuse). ws is the
// connection when it came through the WebSocket listener.
func (s *Server) admit(conn env.Conn, ex env.Executor, ws *websocket.Conn) *client {
	s.mu.Lock()
	if s.shutdown || s.lameDuck {
		s.mu.Unlock()
		conn.Abort()
		return nil
	}
	if len(s.clients) >= s.cfg().MaxConnections {
		s.mu.Unlock()
		if ws != nil {
			ws.SetCloseStatus(websocket.ClosePolicyViolation, reasonMaxConnections)
		}
		s.refuse(conn, s.nextCID.Add(1), ws != nil)
		return nil
	}
	c := newClient(s, conn, s.nextCID.Add(1), ex)
	c.acc.AddConn(true) // the global account until CONNECT; close counts it out
	c.ws = ws
	s.clients[c.cid] = c
	s.mu.Unlock()
	s.stats.totalConns.Add(1)
	return c
}

// refuse turns away a connection over max_connections. Like nats-server it sends the INFO
// every client reads first (with the client id it would have had), then the -ERR, so clients
// report the error rather than a malformed greeting. A server whose clients start with a
// TLS handshake has no plaintext to send them; they are just closed. A WebSocket client
// (its TLS, if any, done below the upgrade) gets its listener's INFO.
func (s *Server) refuse(conn env.Conn, cid uint64, ws bool) {
	s.log.Logf(env.LevelError, "%s - cid:%d - maximum connections exceeded", conn.RemoteAddr(), cid)
	if cfg := s.cfg(); ws || cfg.TLS == nil || !cfg.TLSHandshakeFirst {
		host, _ := env.SplitAddr(conn.RemoteAddr())
		info := s.infoFor(cfg)
		info.ClientID, info.ClientIP = cid, host
		if ws {
			s.webSocketInfo(cfg, &info)
		}
		// Best effort: the connection is closed either way.
		_ = conn.Write(append(s.infoLine(info), "-ERR 'maximum connections exceeded'\r\n"...))
	}
	_ = conn.Close() // flushes what was written, then closes
}

// removeClient forgets a closed client, keeping a summary for /connz?state=closed.
func (s *Server) removeClient(c *client, summary ConnInfo) {
	s.mu.Lock()
	delete(s.clients, c.cid)
	s.closed.add(summary)
	s.mu.Unlock()
}

// clientList returns the open clients ordered by cid.
func (s *Server) clientList() []*client {
	s.mu.Lock()
	out := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].cid < out[j].cid })
	return out
}

// NumClients is the number of open client connections.
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Shutdown stops accepting and closes every client; done (if set) runs on the server's
// executor once every client has been told to close.
func (s *Server) Shutdown(done func()) {
	s.ex.Post(func() {
		s.mu.Lock()
		already := s.shutdown
		s.shutdown = true
		s.mu.Unlock()
		if !already {
			s.serverEvent("SHUTDOWN")
			s.closeListener()
			if rt := s.clusterRoutes(); rt != nil {
				rt.stop()
			}
			for _, c := range s.clientList() {
				c.ex.Post(func() { c.close(reasonServerShutdown) })
			}
			s.log.Logf(env.LevelInfo, "Server Exiting..")
		}
		finish := func() {
			if done != nil {
				done()
			}
		}
		if already {
			finish()
			return
		}
		s.stopJetStream(func() { s.ex.Post(finish) }) // its stores make everything durable first
	})
}
