package core

import (
	"cmp"
	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jetstream"
)

// JetStream runs in core/jetstream as a subsystem on the internal bus; the server starts it,
// tells it which accounts use it, and stops it.

// startJetStream starts JetStream when configured, for every account that may use it.
func (s *Server) startJetStream(cfg *config) {
	if !cfg.JetStream {
		return
	}
	js := jetstream.New(jetstream.Config{Env: s.env, Bus: s.Bus(), StoreDir: cfg.JetStreamStoreDir,
		MaxMemory: cfg.JetStreamMaxMemory, MaxStore: cfg.JetStreamMaxStore, SyncInterval: cfg.JetStreamSyncInterval,
		MaxPayload: int32(cfg.MaxPayload), Domain: cfg.JetStreamDomain, ServerVersion: Version,
		ServerName: cmp.Or(cfg.ServerName, s.id)})
	s.js.Store(js)
	s.syncJetStreamAccounts(nil, cfg)
	s.log.Logf(env.LevelInfo, "Starting JetStream, store directory %q", cfg.JetStreamStoreDir)
	s.mu.Lock()
	s.jsStarting = true
	s.mu.Unlock()
	js.Ready(func() { s.ex.Post(s.jetStreamStarted) })
}

// greet sends a new client its INFO, once JetStream has started: nats-server listens for
// clients only after JetStream has recovered its streams, so none of its clients gets a
// 503 from an API that is still starting, and a client reconnecting after a restart finds
// its streams there.
func (s *Server) greet(c *client) {
	s.mu.Lock()
	if s.jsStarting {
		s.jsHeld = append(s.jsHeld, c)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	c.ex.Post(c.begin)
}

// jetStreamStarted greets the clients that waited for JetStream.
func (s *Server) jetStreamStarted() {
	s.mu.Lock()
	held := s.jsHeld
	s.jsStarting, s.jsHeld = false, nil
	s.mu.Unlock()
	s.log.Logf(env.LevelInfo, "JetStream started, %d waiting clients greeted", len(held))
	for _, c := range held {
		c.ex.Post(c.begin)
	}
}

// syncJetStreamAccounts tells JetStream which accounts use it after a start or a reload:
// new ones are enabled (or their limits updated), ones that no longer may use it (were in
// old, the set before the reload) stop with their data kept, the others are answered "not
// enabled".
func (s *Server) syncJetStreamAccounts(old map[string]jetstream.Limits, next *config) {
	js := s.js.Load()
	enabled := jetStreamAccounts(next)
	for _, name := range env.SortedKeys(enabled) {
		js.EnableAccount(name, enabled[name])
	}
	for name := range old {
		if _, ok := enabled[name]; !ok {
			js.DisableAccount(name)
		}
	}
	for _, name := range next.accounts.Names() {
		if _, ok := enabled[name]; !ok && next.accounts.Get(name) != next.accounts.System() {
			js.RefuseAccount(name)
		}
	}
}

// reloadJetStream applies a reload to JetStream: started or stopped with the option, and
// its accounts brought up to date. old is jetStreamAccounts of the generation before,
// taken before the reload installed the new accounts' settings (they share Account
// objects, so reading them afterwards shows the new settings).
func (s *Server) reloadJetStream(old map[string]jetstream.Limits, next *config) {
	js := s.js.Load()
	switch {
	case next.JetStream && js == nil:
		s.startJetStream(next)
	case !next.JetStream && js != nil:
		s.js.Store(nil)
		js.Shutdown(nil)
	case js != nil:
		s.syncJetStreamAccounts(old, next)
	}
}

// jetStreamAccounts are the accounts that use JetStream and their limits: the global
// account when no accounts are configured, otherwise those configured with jetstream (the
// system account never).
func jetStreamAccounts(cfg *config) map[string]jetstream.Limits {
	out := map[string]jetstream.Limits{}
	names := cfg.accounts.Names()
	sys := cfg.accounts.System()
	for _, name := range names {
		acc := cfg.accounts.Get(name)
		if acc == nil || acc == sys {
			continue
		}
		c := acc.Config()
		switch {
		case c.JetStream:
			out[name] = limitsOf(c.JetStreamLimits)
		case name == account.Global && len(cfg.Accounts) == 0:
			out[name] = jetstream.Limits{}
		}
	}
	return out
}

func limitsOf(l account.JetStreamLimits) jetstream.Limits {
	return jetstream.Limits{MaxMemory: l.MaxMemory, MaxStore: l.MaxStore, MaxStreams: l.MaxStreams,
		MaxConsumers: l.MaxConsumers, MaxAckPending: l.MaxAckPending, MemoryMaxStreamBytes: l.MemoryMaxStreamBytes,
		StoreMaxStreamBytes: l.DiskMaxStreamBytes, MaxBytesRequired: l.MaxBytesRequired}
}

// stopJetStream closes every stream, then runs done.
func (s *Server) stopJetStream(done func()) {
	js := s.js.Load()
	if js == nil {
		done()
		return
	}
	js.Shutdown(done)
}

// Jsz gathers /jsz; done runs on JetStream's executor (with Disabled set, at once, when
// JetStream is off).
func (s *Server) Jsz(o jetstream.JszOptions, done func(*jetstream.JSInfo)) {
	js := s.js.Load()
	if js == nil {
		done(&jetstream.JSInfo{ID: s.id, Now: s.env.Clock.Now().UTC(), Disabled: true})
		return
	}
	js.Jsz(o, s.id, done)
}

// JetStreamReady runs done once JetStream answers and its recovered streams are open (at
// once without JetStream). done may run on any executor.
func (s *Server) JetStreamReady(done func()) {
	js := s.js.Load()
	if js == nil {
		done()
		return
	}
	js.Ready(done)
}
