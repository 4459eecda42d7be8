package core

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/resolver"
)

// The NATS resolver (operator mode with a resolver directory): account JWTs pushed to
// $SYS.REQ.CLAIMS.UPDATE or $SYS.REQ.ACCOUNT.<id>.CLAIMS.UPDATE are checked, stored durably
// (core/resolver), and then put in force like a reload: the account set is rebuilt and
// every connected client's credentials are checked again (a revocation or a changed limit
// applies at once). The reply comes after both, so an acknowledged update survives a crash.
// $SYS.REQ.ACCOUNT.<id>.CLAIMS.LOOKUP answers with the JWT in force, $SYS.REQ.CLAIMS.LIST
// with the accounts.

// resolvedAccounts merges the resolver directory's JWTs with the preloaded ones: the later
// issued wins; a stored JWT that does not decode or whose issuer is not trusted is skipped
// with a warning (it could not have been accepted).
func (s *Server) resolvedAccounts(dir string, t *auth.Trust) (*auth.Trust, []string, error) {
	d, err := s.resolverDir(dir)
	if err != nil {
		return nil, nil, err
	}
	stored := d.Stored()
	out := *t
	out.Accounts = maps.Clone(t.Accounts)
	if out.Accounts == nil {
		out.Accounts = map[string]string{}
	}
	var warnings []string
	for _, pub := range slices.Sorted(maps.Keys(stored)) {
		ac, err := jwt.DecodeAccountClaims(stored[pub])
		if err != nil || ac.Subject != pub {
			warnings = append(warnings, fmt.Sprintf("resolver: %s/%s.jwt is not that account's JWT; skipped", dir, pub))
			continue
		}
		if old, ok := out.Accounts[pub]; ok {
			if prev, err := jwt.DecodeAccountClaims(old); err == nil && prev.IssuedAt > ac.IssuedAt {
				continue
			}
		}
		out.Accounts[pub] = stored[pub]
	}
	return &out, warnings, nil
}

// startResolver subscribes the claim requests when a resolver directory is configured.
func (s *Server) startResolver() {
	cfg := s.cfg()
	if cfg.ResolverDir == "" || cfg.Auth.Trust == nil {
		return
	}
	sys, b := cfg.accounts.System().Name(), s.Bus()
	for subj, h := range map[string]bus.Handler{
		"$SYS.REQ.CLAIMS.UPDATE":           s.claimsUpdate,
		"$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE": s.claimsUpdate,
		"$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP": s.claimsLookup,
		"$SYS.REQ.CLAIMS.LIST":             s.claimsList,
		"$SYS.REQ.CLAIMS.DELETE":           s.claimsDelete,
	} {
		_, err := b.Subscribe(sys, subj, "", h)
		env.Assertf(err == nil, "core: resolver subscription %s: %v", subj, err)
	}
}

// claimUpdateReply is nats-server's answer to an update: a status, or an error.
type claimUpdateReply struct {
	Server *ServerInfo   `json:"server"`
	Data   *claimStatus  `json:"data,omitempty"`
	Error  *claimFailure `json:"error,omitempty"`
}

type claimStatus struct {
	Account string `json:"account,omitempty"`
	Code    int    `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

type claimFailure struct {
	Account     string `json:"account,omitempty"`
	Code        int    `json:"code"`
	Description string `json:"description,omitempty"`
}

func (s *Server) answerUpdate(m bus.Msg, acc string, err error) {
	r := claimUpdateReply{Server: s.serverInfo()}
	if err != nil {
		s.log.Logf(env.LevelError, "jwt update resulted in error - %s - %v", acc, err)
		r.Error = &claimFailure{acc, 500, err.Error()}
	} else {
		r.Data = &claimStatus{acc, 200, "jwt updated"}
	}
	s.reply(m, r)
}

// claimsUpdate checks, stores and applies a pushed account JWT.
func (s *Server) claimsUpdate(m bus.Msg) {
	tok := strings.TrimSpace(string(m.Data))
	ac, err := jwt.DecodeAccountClaims(tok)
	if err != nil {
		s.answerUpdate(m, "n/a", err)
		return
	}
	cfg := s.cfg()
	toks := strings.Split(m.Subject, ".")
	switch {
	case len(toks) == 6 && toks[3] != ac.Subject:
		err = errors.New("subject does not match jwt content")
	case !cfg.auth.TrustsIssuer(ac.Issuer):
		err = fmt.Errorf("issuer %s is not a trusted operator key", ac.Issuer)
	case ac.Expires > 0 && s.env.Clock.Now().Unix() >= ac.Expires:
		err = errors.New("jwt is expired")
	}
	if prev := cfg.auth.Accounts()[ac.Subject]; prev != nil && err == nil && prev.IssuedAt > ac.IssuedAt {
		err = errors.New("jwt is older than the one in force") // the claims in force are decoded already
	}
	if err == nil {
		err = s.storeClaims(cfg.ResolverDir, ac.Subject, tok)
	}
	if err != nil {
		s.answerUpdate(m, ac.Subject, err)
		return
	}
	s.env.Probe.Hit("core.resolver.update")
	opts := cfg.Options
	s.reload(opts, true, func(err error) { s.answerUpdate(m, ac.Subject, err) })
}

// storeClaims stores a pushed JWT, refusing a new account past the resolver's limit.
func (s *Server) storeClaims(dir, account, tok string) error {
	d, err := s.resolverDir(dir)
	if err != nil {
		return err
	}
	if limit := s.cfg().ResolverLimit; limit > 0 && !d.Has(account) && d.Len() >= limit {
		return fmt.Errorf("the resolver holds its limit of %d accounts", limit)
	}
	return d.Store(account, tok)
}

// resolverDir is the resolver's directory, opened (and read) once: the directory cannot
// change on reload, and every store and delete keeps the open Dir's index current.
func (s *Server) resolverDir(dir string) (*resolver.Dir, error) {
	if s.resolver == nil {
		d, err := resolver.Open(s.env.FS, dir)
		if err != nil {
			return nil, err
		}
		s.resolver = d
	}
	return s.resolver, nil
}

// claimsLookup answers with the account's JWT in force (nothing for an unknown account).
func (s *Server) claimsLookup(m bus.Msg) {
	toks := strings.Split(m.Subject, ".")
	if tok, ok := s.cfg().Auth.Trust.Accounts[toks[3]]; ok && m.Reply != "" {
		s.Bus().Publish(m.Account, m.Reply, "", nil, []byte(tok))
	}
}

// claimsList answers with the accounts whose JWTs are in force.
func (s *Server) claimsList(m bus.Msg) {
	s.reply(m, apiResponse{Server: s.serverInfo(), Data: slices.Sorted(maps.Keys(s.cfg().Auth.Trust.Accounts))})
}

// claimsDelete removes accounts: the request is a generic JWT the operator signed with its
// own key, listing them under "accounts"; the resolver must allow deletes, and the system
// account cannot go. Their JWTs leave the directory durably, then the set is rebuilt without
// them (their clients are closed, their credentials no longer checking).
func (s *Server) claimsDelete(m bus.Msg) {
	cfg := s.cfg()
	accounts, err := s.deleteRequest(cfg, strings.TrimSpace(string(m.Data)))
	if err == nil {
		err = s.deleteClaims(cfg.ResolverDir, accounts)
	}
	if err != nil {
		s.answerUpdate(m, "", err)
		return
	}
	s.env.Probe.Hit("core.resolver.delete")
	opts := cfg.Options
	trust := *opts.Auth.Trust
	trust.Accounts = maps.Clone(trust.Accounts)
	for _, acc := range accounts {
		delete(trust.Accounts, acc)
	}
	opts.Auth.Trust = &trust
	s.reload(opts, true, func(err error) {
		if err == nil {
			s.reply(m, apiResponse{Server: s.serverInfo(), Data: map[string]any{"code": 200, "message": fmt.Sprintf("deleted %d accounts", len(accounts))}})
			return
		}
		s.answerUpdate(m, "", err)
	})
}

// deleteRequest checks a delete request and returns the accounts it names.
func (s *Server) deleteRequest(cfg *config, tok string) ([]string, error) {
	gk, err := jwt.DecodeGeneric(tok)
	switch {
	case err != nil:
		return nil, err
	case !cfg.ResolverAllowDelete:
		return nil, errors.New("delete must be enabled in server config")
	case gk.Subject != gk.Issuer:
		return nil, errors.New("not self signed")
	case !cfg.auth.TrustsIssuer(gk.Issuer):
		return nil, errors.New("not trusted")
	}
	list, ok := gk.Data["accounts"].([]any)
	if !ok {
		return nil, errors.New("malformed request")
	}
	var out []string
	for _, entry := range list {
		acc, ok := entry.(string)
		switch {
		case !ok || !nkeys.IsValidPublicAccountKey(acc):
			return nil, errors.New("malformed request")
		case acc == cfg.accounts.System().Name():
			return nil, errors.New("not allowed to delete system account")
		}
		out = append(out, acc)
	}
	return out, nil
}

// deleteClaims removes the accounts' stored JWTs durably (a preloaded one has none).
func (s *Server) deleteClaims(dir string, accounts []string) error {
	d, err := s.resolverDir(dir)
	if err != nil {
		return err
	}
	for _, acc := range accounts {
		if d.Has(acc) {
			if err := d.Delete(acc); err != nil {
				return err
			}
		}
	}
	return nil
}
