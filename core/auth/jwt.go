package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

// Operator mode: users prove themselves with a user JWT (and, unless it is a bearer token,
// a signature of the nonce by the user's key), issued by an account (or one of its signing
// keys) whose JWT an operator the server trusts issued. Time checks use the caller's clock,
// never the library's (jwt's Validate reads the wall clock).

// Trust is operator mode's configuration.
type Trust struct {
	Operators   []string          // operator JWTs
	TrustedKeys []string          // operator public keys trusted without a JWT
	Accounts    map[string]string // account public key -> account JWT (the MEMORY resolver)
}

// Errors a client sees (nats-server's texts, in -ERR and the log).
var (
	ErrExpired = errors.New("User Authentication Expired")
	ErrRevoked = errors.New("User Authentication Revoked")
)

// trust is a checked Trust.
type trust struct {
	keys     map[string]bool // operator keys: identities and signing keys
	accounts map[string]*jwt.AccountClaims
}

func newTrust(t *Trust) (*trust, error) {
	tr := &trust{keys: map[string]bool{}, accounts: map[string]*jwt.AccountClaims{}}
	for _, k := range t.TrustedKeys {
		if !nkeys.IsValidPublicOperatorKey(k) {
			return nil, fmt.Errorf("auth: trusted key %q is not an operator public key", k)
		}
		tr.keys[k] = true
	}
	for _, tok := range t.Operators {
		oc, err := jwt.DecodeOperatorClaims(tok)
		if err != nil {
			return nil, fmt.Errorf("auth: operator JWT: %w", err)
		}
		tr.keys[oc.Subject] = true
		for _, k := range oc.SigningKeys {
			tr.keys[k] = true
		}
	}
	if len(tr.keys) == 0 {
		return nil, errors.New("auth: operator mode needs an operator JWT or trusted keys")
	}
	for pub, tok := range t.Accounts {
		ac, err := jwt.DecodeAccountClaims(tok)
		switch {
		case err != nil:
			return nil, fmt.Errorf("auth: account %s: %w", pub, err)
		case ac.Subject != pub:
			return nil, fmt.Errorf("auth: account JWT for %s is %s's", pub, ac.Subject)
		case !tr.keys[ac.Issuer]:
			return nil, fmt.Errorf("auth: account %s: issuer %s is not a trusted operator key", pub, ac.Issuer)
		}
		tr.accounts[pub] = ac
	}
	return tr, nil
}

// TrustsIssuer reports whether key is a trusted operator key (an identity or signing key).
func (a *Authenticator) TrustsIssuer(key string) bool { return a.trust != nil && a.trust.keys[key] }

// Trusted reports whether the server is in operator mode.
func (a *Authenticator) Trusted() bool { return a.trust != nil }

// Accounts are the trusted accounts' claims, by public key.
func (a *Authenticator) Accounts() map[string]*jwt.AccountClaims {
	if a.trust == nil {
		return nil
	}
	return a.trust.accounts
}

// checkJWT proves a user JWT: issued by a trusted account (or its signing key), not
// expired or revoked, and signed for this nonce by the user's key unless a bearer token.
func (t *trust) checkJWT(c Credentials, nonce []byte) (*User, error) {
	uc, err := jwt.DecodeUserClaims(c.JWT)
	if err != nil {
		return nil, ErrAuthorization
	}
	accPub := uc.Issuer
	if uc.IssuerAccount != "" {
		accPub = uc.IssuerAccount
	}
	ac := t.accounts[accPub]
	now := c.Now.Unix()
	switch {
	case ac == nil || !ac.DidSign(uc):
		return nil, ErrAuthorization
	case uc.Expires > 0 && now >= uc.Expires, ac.Expires > 0 && now >= ac.Expires:
		return nil, ErrExpired
	case uc.NotBefore > 0 && now < uc.NotBefore:
		return nil, ErrAuthorization
	case ac.IsClaimRevoked(uc):
		return nil, ErrRevoked
	case !uc.BearerToken && !nkeySignature(uc.Subject, c.Sig, nonce):
		return nil, ErrAuthorization
	case uc.BearerToken && ac.Limits.DisallowBearer:
		return nil, ErrAuthorization
	}
	limits := uc.UserPermissionLimits
	if scope, ok := ac.SigningKeys.GetScope(uc.Issuer); ok && scope != nil {
		if us, ok := scope.(*jwt.UserScope); ok {
			limits = us.Template // a scoped key's users get its template, whatever they claim
		}
	}
	u := &User{Name: uc.Subject, Nkey: uc.Subject, Account: accPub, Tag: uc.Name,
		Permissions:      claimPermissions(limits.Permissions, ac.DefaultPermissions),
		MaxSubscriptions: claimLimit(limits.Subs), MaxPayload: claimLimit(limits.Payload)}
	for _, kind := range limits.AllowedConnectionTypes {
		u.ConnectionTypes = append(u.ConnectionTypes, strings.ToUpper(kind))
	}
	if uc.Expires > 0 {
		u.Expires = time.Unix(uc.Expires, 0)
	}
	return u, nil
}

// claimLimit turns a claim's limit (-1 or 0: none) into ours (0: none).
func claimLimit(n int64) int {
	if n <= 0 || n > 1<<31 {
		return 0
	}
	return int(n)
}

// claimPermissions converts a user's claimed permissions; an empty one takes the account's
// defaults.
func claimPermissions(p, defaults jwt.Permissions) *Permissions {
	if p.Pub.Empty() && p.Sub.Empty() && p.Resp == nil {
		p = defaults
	}
	side := func(sp jwt.Permission) *SubjectPermission {
		if sp.Empty() {
			return nil
		}
		return &SubjectPermission{Allow: sp.Allow, Deny: sp.Deny}
	}
	out := &Permissions{Publish: side(p.Pub), Subscribe: side(p.Sub)}
	if p.Resp != nil {
		out.Response = &ResponsePermission{MaxMsgs: p.Resp.MaxMsgs, Expires: p.Resp.Expires}
	}
	if out.Publish == nil && out.Subscribe == nil && out.Response == nil {
		return nil
	}
	return out
}
