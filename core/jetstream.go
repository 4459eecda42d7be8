package core

import (
	"maps"
	"slices"

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
	s.js = jetstream.New(jetstream.Config{Env: s.env, Bus: s.Bus(), StoreDir: cfg.JetStreamStoreDir,
		MaxMemory: cfg.JetStreamMaxMemory, MaxStore: cfg.JetStreamMaxStore, SyncInterval: cfg.JetStreamSyncInterval,
		MaxPayload: int32(cfg.MaxPayload), Domain: cfg.JetStreamDomain, ServerVersion: Version})
	accounts := jetStreamAccounts(cfg)
	for _, name := range slices.Sorted(maps.Keys(accounts)) {
		s.js.EnableAccount(name, accounts[name])
	}
	s.log.Logf(env.LevelInfo, "Starting JetStream, store directory %q", cfg.JetStreamStoreDir)
	s.mu.Lock()
	s.jsStarting = true
	s.mu.Unlock()
	s.js.Ready(func() { s.ex.Post(s.jetStreamStarted) })
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
	if s.js == nil {
		done()
		return
	}
	s.js.Shutdown(done)
}
