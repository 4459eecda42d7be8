package core

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/websocket"
)

// config is one generation of the server's settings: the options with their defaults and
// the authenticator built from them. A generation is immutable, so any executor reads the
// current one (Server.cfg) without a lock; Reload installs the next. A function that reads
// several settings loads the generation once, so that it never mixes two.
type config struct {
	Options
	auth *auth.Authenticator
	name string // the server name: Options.ServerName, else the server's id
	// WebSocket: the handshake policy, and the block's authorization override (nil: auth).
	wsPolicy *websocket.Policy
	wsAuth   *auth.Authenticator
	loaded   time.Time // when this generation was installed (/varz config_load_time)
	// accounts is the generation's account set; its routes and configurations are put in
	// force by installAccounts when the generation is.
	accounts        *account.Set
	installAccounts func()
}

// newConfig checks opts, fills their defaults and builds the authenticator and the account
// set (keeping prev's accounts of the same names). The caller sets name.
func (s *Server) newConfig(opts Options, prev *account.Set) (*config, []string, error) {
	opts, warnings, err := opts.withDefaults()
	if err != nil {
		return nil, nil, err
	}
	now := s.env.Clock.Now()
	if opts.ResolverDir != "" && opts.Auth.Trust != nil {
		merged, skipped, err := s.resolvedAccounts(opts.ResolverDir, opts.Auth.Trust)
		if err != nil {
			return nil, nil, fmt.Errorf("core: %w", err)
		}
		warnings = append(warnings, skipped...)
		opts.Auth.Trust = merged
	}
	a, err := auth.New(opts.Auth)
	if err != nil {
		return nil, nil, fmt.Errorf("core: %w", err)
	}
	accounts := opts.Accounts // the options keep only what was configured
	if a.Trusted() {
		// Operator mode: the trusted account JWTs are the accounts.
		accounts = append(slices.Clone(accounts), accountsFromClaims(a.Accounts(), now)...)
	}
	next, err := account.Build(accounts, opts.SystemAccount, prev)
	if err != nil {
		return nil, nil, fmt.Errorf("core: %w", err)
	}
	for _, d := range next.Dropped {
		warnings = append(warnings, "import ignored: "+d)
	}
	cfg := &config{Options: opts, auth: a, loaded: now, accounts: next.Set(), installAccounts: func() { next.Install() }}
	for _, u := range opts.Auth.Users {
		if u.Account != "" && cfg.accounts.Get(u.Account) == nil {
			return nil, nil, fmt.Errorf("core: user %q: unknown account %q", cmp.Or(u.Name, u.Nkey), u.Account)
		}
	}
	if err := cfg.configureWebSocket(); err != nil {
		return nil, nil, err
	}
	if cfg.Cluster != nil {
		cfg.Cluster.Name = s.clusterName(cfg.Cluster) // withDefaults made Cluster a copy
	}
	return cfg, warnings, nil
}

// cfg is the generation of settings in force.
func (s *Server) cfg() *config { return s.current.Load() }

// ConfigLoadTime is when the settings in force were installed: at New, then at each
// successful Reload.
func (s *Server) ConfigLoadTime() time.Time { return s.cfg().loaded }

func (cfg *config) parserLimits() proto.Limits {
	return proto.Limits{MaxControlLine: cfg.MaxControlLine, MaxPayload: cfg.MaxPayload}
}
