package core

import (
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
	enabled := jetStreamAccounts(cfg)
	for name, l := range enabled {
		s.js.EnableAccount(name, l)
	}
	for _, name := range cfg.accounts.Names() {
		if _, ok := enabled[name]; !ok && cfg.accounts.Get(name) != cfg.accounts.System() {
			s.js.RefuseAccount(name)
		}
	}
	s.log.Logf(env.LevelInfo, "Starting JetStream, store directory %q", cfg.JetStreamStoreDir)
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

// Jsz gathers /jsz; done runs on JetStream's executor (with Disabled set, at once, when
// JetStream is off).
func (s *Server) Jsz(o jetstream.JszOptions, done func(*jetstream.JSInfo)) {
	if s.js == nil {
		done(&jetstream.JSInfo{ID: s.id, Now: s.env.Clock.Now().UTC(), Disabled: true})
		return
	}
	s.js.Jsz(o, s.id, done)
}

// JetStreamReady runs done once JetStream answers and its recovered streams are open (at
// once without JetStream). done may run on any executor.
func (s *Server) JetStreamReady(done func()) {
	if s.js == nil {
		done()
		return
	}
	s.js.Ready(done)
}
