package server

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/server/conf"
)

// Operator mode: `operator` (a JWT, or a file holding one; or a list), `trusted_keys`,
// `resolver: MEMORY` with `resolver_preload { <account public key>: <account JWT> }`.
// Account JWTs become the accounts; users connect with user JWTs (core/auth/jwt.go).

func (a *applier) trust() *auth.Trust {
	t := &a.opts.Core.Auth
	if t.Trust == nil {
		t.Trust = &auth.Trust{Accounts: map[string]string{}}
	}
	return t.Trust
}

// operator reads one operator JWT or file, or a list of them.
func (a *applier) operator(v *conf.Value) error {
	list, err := v.AsStringList()
	if err != nil {
		return err
	}
	for _, item := range list {
		tok, err := readJWT(item)
		if err != nil {
			return v.Errorf("operator: %v", err)
		}
		if _, err := jwt.DecodeOperatorClaims(tok); err != nil {
			return v.Errorf("operator: %v", err)
		}
		a.trust().Operators = append(a.trust().Operators, tok)
	}
	return nil
}

// readJWT returns s if it is a JWT, else the JWT in the file s names (a bare JWT, or the
// first JWT block of a decorated file).
func readJWT(s string) (string, error) {
	if strings.HasPrefix(s, "eyJ") {
		return s, nil
	}
	raw, err := os.ReadFile(s)
	if err != nil {
		return "", err
	}
	text := strings.TrimSpace(string(raw))
	if strings.HasPrefix(text, "eyJ") {
		return text, nil
	}
	tok, err := jwt.ParseDecoratedJWT(raw)
	if err != nil {
		return "", fmt.Errorf("%s holds no JWT: %w", s, err)
	}
	return tok, nil
}

func (a *applier) trustedKeys(v *conf.Value) error {
	keys, err := v.AsStringList()
	if err != nil {
		return err
	}
	a.trust().TrustedKeys = append(a.trust().TrustedKeys, keys...)
	return nil
}

// resolver reads MEMORY, or the NATS resolver's block { type: full|cache, dir,
// allow_delete, interval, limit, timeout }. On one server a cache resolver keeps what is
// pushed to it like a full one (there is no cluster to fetch from); URL resolvers are not
// supported.
func (a *applier) resolver(v *conf.Value) error {
	if v.Kind == conf.KindString && strings.EqualFold(strings.TrimSpace(v.Str), "MEMORY") {
		a.trust()
		return nil
	}
	if v.Kind != conf.KindMap {
		return v.Errorf("resolver: MEMORY or a resolver block { type: full, dir: ... } (URL resolvers are not supported)")
	}
	var kind string
	var interval, timeout time.Duration
	err := a.block(v, map[string]handler{
		"type": setString(&kind), "dir": setString(&a.opts.Core.ResolverDir),
		"allow_delete": setBool(&a.opts.Core.ResolverAllowDelete), "interval": setDurationText("interval", &interval),
		"limit": setLimit(a, &a.opts.Core.ResolverLimit, "an integer"), "timeout": setDurationText("timeout", &timeout),
	})
	if err != nil {
		return err
	}
	switch strings.ToLower(kind) {
	case "full", "cache":
	default:
		return v.Errorf("resolver: type must be full or cache, not %q", kind)
	}
	if a.opts.Core.ResolverDir == "" {
		a.opts.Core.ResolverDir = "jwt" // nats-server's default, relative to the working directory
	}
	a.trust()
	return nil
}

func (a *applier) resolverPreload(v *conf.Value) error {
	return eachEntry(v, func(e conf.Entry) error {
		if e.Value.Kind != conf.KindString {
			return wrongKind(e.Value, "an account JWT")
		}
		tok := strings.TrimSpace(e.Value.Str)
		ac, err := jwt.DecodeAccountClaims(tok)
		switch {
		case err != nil:
			return e.Value.Errorf("resolver_preload: account %s: %v", e.Key, err)
		case ac.Subject != e.Key:
			return e.Value.Errorf("resolver_preload: the JWT under %s is account %s's", e.Key, ac.Subject)
		}
		a.trust().Accounts[e.Key] = tok
		return nil
	})
}
