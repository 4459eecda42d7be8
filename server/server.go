package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
)

// Server is one Petrel process: the engine on the real Env, plus HTTP monitoring, the
// pid and ports files, and the log output.
type Server struct {
	opts Options // replaced by Reload (one at a time, under reloadMu)
	env  *env.Env
	log  env.Logger
	core *core.Server

	reloadMu sync.Mutex
	logs     *logOutput   // nil: the host did not hand its log output over (tests)
	level    *levelLogger // nil: the log level is fixed

	mu        sync.Mutex
	started   bool
	stopped   bool
	done      chan struct{}
	http      *http.Server
	httpAddr  string
	portsFile string // the ports file written, removed at shutdown

	// configDigest is what /varz reports of the configuration file; a reload updates it.
	configDigest string

	httpStats httpStats
}

// New builds a server that has not started yet.
func New(opts Options, e *env.Env) (*Server, error) {
	if e == nil {
		return nil, errors.New("server: nil env")
	}
	if opts.Core.Host == "" {
		opts.Core.Host = DefaultHost
	}
	if err := loadTLS(&opts); err != nil {
		return nil, err
	}
	if err := loadWebSocketTLS(&opts); err != nil {
		return nil, err
	}
	if err := loadClusterTLS(&opts); err != nil {
		return nil, err
	}
	if err := jetStreamOptions(&opts); err != nil {
		return nil, err
	}
	c, err := core.New(opts.Core, e)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	digest, err := configDigest(opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	srv := &Server{opts: opts, env: e, log: e.Log, core: c, done: make(chan struct{}), configDigest: digest}
	c.SetVarzHost(srv.varzHost)
	return srv, nil
}

// Core is the engine, for tests and the monitoring endpoints.
func (s *Server) Core() *core.Server { return s.core }

// Start listens for clients and, when configured, for monitoring requests, then writes the
// pid and ports files.
func (s *Server) Start() error {
	if err := s.listen(); err != nil {
		return err
	}
	if s.opts.PidFile != "" {
		s.writePidFile(s.opts.PidFile)
	}
	s.updatePortsFile(s.opts.PortsFileDir)
	s.log.Logf(env.LevelInfo, "Server is ready")
	return nil
}

func (s *Server) listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("server: Start called twice")
	}
	s.started = true
	if err := s.core.Start(); err != nil {
		return err
	}
	s.waitJetStream()
	if s.opts.HTTPPort != 0 {
		if err := s.startMonitor(); err != nil {
			s.core.Shutdown(nil)
			return err
		}
	}
	return nil
}

// useLogging hands the server the log output and level filter the host built, so that a
// reload can change them and SIGUSR1 reopen the file.
func (s *Server) useLogging(out *logOutput, level *levelLogger) {
	s.logs, s.level = out, level
}

// ReopenLogFile opens the log file again by its name, after rotation moved it away.
func (s *Server) ReopenLogFile() {
	if s.logs == nil || s.logs.Path() == "" {
		s.log.Logf(env.LevelInfo, "File log re-open ignored, not a file logger")
		return
	}
	if err := s.logs.Reopen(); err != nil {
		s.log.Logf(env.LevelError, "File log re-open failed: %v", err)
		return
	}
	s.log.Logf(env.LevelInfo, "File log re-opened")
}

// Addr is the client address with its port resolved, or "" before Start.
func (s *Server) Addr() string { return s.core.Addr() }

// MonitorAddr is the monitoring address, or "" when monitoring is off.
func (s *Server) MonitorAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.httpAddr
}

func (s *Server) startMonitor() error {
	host := s.opts.HTTPHost
	if host == "" {
		host = s.opts.Core.Host
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(max(s.opts.HTTPPort, 0))))
	if err != nil {
		return fmt.Errorf("server: listen for monitoring: %w", err)
	}
	s.httpAddr = ln.Addr().String()
	s.http = &http.Server{Handler: s.monitorMux(), ReadHeaderTimeout: 10 * time.Second}
	s.log.Logf(env.LevelInfo, "Starting http monitor on %s", s.httpAddr)
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Logf(env.LevelError, "http monitor: %v", err)
		}
	}()
	return nil
}

// Shutdown stops accepting, closes every client and the monitor, and returns when that is
// done. It is idempotent. It must not be called from one of the Env's executors.
func (s *Server) Shutdown() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		<-s.done
		return
	}
	s.stopped = true
	h := s.http
	s.mu.Unlock()
	if h != nil {
		_ = h.Close() // open monitoring requests are cut short on shutdown
	}
	finished := make(chan struct{})
	s.core.Shutdown(func() { close(finished) })
	<-finished
	s.updatePortsFile("")
	s.reloadMu.Lock()
	if pid := s.opts.PidFile; pid != "" {
		_ = os.Remove(pid) // a stale pid file would name another process later
	}
	s.reloadMu.Unlock()
	close(s.done)
}

// LameDuck stops accepting and closes clients gradually, then shuts down.
func (s *Server) LameDuck() {
	finished := make(chan struct{})
	s.core.LameDuck(func() { close(finished) })
	<-finished
	s.Shutdown()
}

// jetStreamOptions hands the jetstream block to the engine. Without a store_dir JetStream
// keeps its data under the temporary directory, as nats-server does.
func jetStreamOptions(o *Options) error {
	if !o.Core.JetStream {
		return nil
	}
	if o.StoreDir == "" {
		o.StoreDir = filepath.Join(os.TempDir(), "nats")
	}
	dir, err := filepath.Abs(o.StoreDir)
	if err != nil {
		return fmt.Errorf("server: store_dir %q: %w", o.StoreDir, err)
	}
	o.StoreDir = dir
	js := o.JetStream
	o.Core.JetStreamStoreDir, o.Core.JetStreamMaxMemory, o.Core.JetStreamMaxStore = dir, js.MaxMemory, js.MaxStore
	o.Core.JetStreamDomain = js.Domain
	if d, err := time.ParseDuration(js.SyncInterval); err == nil && d > 0 {
		o.Core.JetStreamSyncInterval = d
	}
	return nil
}

// waitJetStream holds "Server is ready" until JetStream answers and its streams are
// recovered, as nats-server does, so a client that connects at once finds them.
func (s *Server) waitJetStream() {
	ready := make(chan struct{})
	s.core.JetStreamReady(func() { close(ready) })
	select {
	case <-ready:
	case <-time.After(jetStreamReadyWait):
		s.log.Logf(env.LevelWarn, "JetStream is still recovering its streams after %v; they answer once open", jetStreamReadyWait)
	}
}

// jetStreamReadyWait bounds how long start-up waits for JetStream's recovery.
const jetStreamReadyWait = 2 * time.Minute
