package jetstream

import (
	"encoding/json"
	"path"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// Config configures the Service.
type Config struct {
	Env *env.Env
	Bus bus.Bus
	// StoreDir is the server's store_dir; JetStream keeps everything under
	// StoreDir/jetstream.
	StoreDir string
	// MaxMemory and MaxStore are the server's limits for memory and file streams
	// (max_memory_store, max_file_store); 0 is unlimited.
	MaxMemory, MaxStore int64
	// SyncInterval, when > 0, is nats-server's relaxed durability (jetstream.sync_interval):
	// a publish is acknowledged once written, and fsync runs at this period. 0 (the default)
	// acknowledges only what an fsync made durable.
	SyncInterval time.Duration
	// MaxPayload bounds a stream's max_msg_size.
	MaxPayload int32
	Domain     string
	// ServerVersion is shown in configurations' metadata (_nats.ver).
	ServerVersion string
	// ServerName is shown in API audit advisories.
	ServerName string
}

// Limits are one account's JetStream limits (0: unlimited).
type Limits struct {
	MaxMemory, MaxStore  int64
	MaxStreams           int
	MaxConsumers         int
	MaxAckPending        int
	MemoryMaxStreamBytes int64
	StoreMaxStreamBytes  int64
	MaxBytesRequired     bool
}

// Service is JetStream on one server.
type Service struct {
	cfg      Config
	env      *env.Env
	bus      bus.Bus
	ex       env.Executor // owns accounts and every account's stream registry
	root     string
	accounts map[string]*account
	refused  map[string]bus.Subscription // accounts answered "not enabled" (RefuseAccount)
}

// New makes the service; nothing runs until an account is enabled.
func New(cfg Config) *Service {
	return &Service{cfg: cfg, env: cfg.Env, bus: cfg.Bus, ex: cfg.Env.Exec.New("jetstream"),
		root: path.Join(cfg.StoreDir, "jetstream"), accounts: map[string]*account{}, refused: map[string]bus.Subscription{}}
}

// EnableAccount starts JetStream for an account (or updates its limits): its streams are
// recovered from disk and its API answers. Safe from any executor.
func (s *Service) EnableAccount(name string, l Limits) {
	s.ex.Post(func() {
		if a := s.accounts[name]; a != nil {
			a.setLimits(l)
			return
		}
		if sub := s.refused[name]; sub != nil {
			sub.Unsubscribe()
			delete(s.refused, name)
		}
		a := newAccount(s, name, l)
		s.accounts[name] = a
		a.start()
	})
}

// RefuseAccount answers an account that may not use JetStream: every API request gets
// "JetStream not enabled for account" (10039), as nats-server answers it.
func (s *Service) RefuseAccount(name string) {
	s.ex.Post(func() {
		if s.refused[name] != nil || s.accounts[name] != nil {
			return
		}
		sub, err := s.bus.Subscribe(name, jsapi.Prefix+">", "", func(m bus.Msg) {
			if m.Reply != "" {
				data, _ := json.Marshal(&jsapi.Response{Type: jsapi.SystemType, Error: jsapi.E(jsapi.ErrNotEnabledForAccount)})
				s.bus.Publish(name, m.Reply, "", nil, data) // marshalling a fixed document cannot fail
			}
		})
		if err != nil {
			s.env.Log.Logf(env.LevelWarn, "jetstream: account %s: %v", name, err)
			return
		}
		s.refused[name] = sub
	})
}

// Ready runs done on the service's executor once the accounts enabled so far answer their
// API and their recovered streams are open (or known to be offline).
func (s *Service) Ready(done func()) {
	s.ex.Post(func() {
		var streams []*streamActor
		for _, name := range sortedAccounts(s.accounts) {
			a := s.accounts[name]
			for _, n := range a.matchingNames("") {
				streams = append(streams, a.streams[n])
			}
		}
		gatherAll(s, streams, func(*streamActor) struct{} { return struct{}{} }, func([]struct{}) { done() })
	})
}

// DisableAccount stops JetStream for an account: its API stops answering and its streams
// close, their data kept on disk.
func (s *Service) DisableAccount(name string) {
	s.ex.Post(func() {
		if a := s.accounts[name]; a != nil {
			delete(s.accounts, name)
			a.stop()
		}
	})
}

// Shutdown closes every stream (their stores make everything durable) and then runs done
// on the service's executor.
func (s *Service) Shutdown(done func()) {
	s.ex.Post(func() {
		for name, sub := range s.refused {
			sub.Unsubscribe()
			delete(s.refused, name)
		}
		for name, a := range s.accounts {
			delete(s.accounts, name)
			a.stop()
		}
		if done != nil {
			done()
		}
	})
}

func (s *Service) now() time.Time { return s.env.Clock.Now() }

// accountLimits is how INFO shows l (-1: unlimited).
func (l Limits) api() jsapi.AccountLimits {
	return jsapi.AccountLimits{MaxMemory: orUnlimited(l.MaxMemory), MaxStore: orUnlimited(l.MaxStore),
		MaxStreams: int(orUnlimited(int64(l.MaxStreams))), MaxConsumers: int(orUnlimited(int64(l.MaxConsumers))),
		MaxAckPending: int(orUnlimited(int64(l.MaxAckPending))), MemoryMaxStreamBytes: orUnlimited(l.MemoryMaxStreamBytes),
		StoreMaxStreamBytes: orUnlimited(l.StoreMaxStreamBytes), MaxBytesRequired: l.MaxBytesRequired}
}

func orUnlimited(v int64) int64 {
	if v <= 0 {
		return -1
	}
	return v
}
