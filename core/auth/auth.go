package auth

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
)

// ErrAuthorization is every failed check; clients see -ERR 'Authorization Violation'.
var ErrAuthorization = errors.New("Authorization Violation")

// User is one configured identity.
type User struct {
	Name        string
	Password    string // plain, or a bcrypt hash ("$2a$...", "$2b$...", "$2y$...")
	Nkey        string // public user nkey ("U..."), instead of name and password
	Permissions *Permissions
	Account     string
}

// Config is the authorization part of the server's options.
type Config struct {
	Users      []User
	Token      string // plain or bcrypt
	NoAuthUser string // users[Name] taken by clients that send no credentials
	Timeout    time.Duration
}

// Credentials are what a CONNECT carried.
type Credentials struct {
	User, Pass, Token, Nkey, Sig string
}

// Authenticator checks credentials against a Config. It is immutable and safe for
// concurrent use.
type Authenticator struct {
	cfg     Config
	byName  map[string]*User
	byNkey  map[string]*User
	noAuth  *User
	anyAuth bool
}

// New builds an Authenticator, rejecting an inconsistent config.
func New(cfg Config) (*Authenticator, error) {
	a := &Authenticator{cfg: cfg, byName: map[string]*User{}, byNkey: map[string]*User{}}
	for i := range cfg.Users {
		u := &cfg.Users[i]
		switch {
		case u.Nkey != "":
			if !nkeys.IsValidPublicUserKey(u.Nkey) {
				return nil, errors.New("auth: nkey " + u.Nkey + " is not a valid public user key")
			}
			a.byNkey[u.Nkey] = u
		case u.Name != "":
			if _, dup := a.byName[u.Name]; dup {
				return nil, errors.New("auth: duplicate user " + u.Name)
			}
			a.byName[u.Name] = u
		default:
			return nil, errors.New("auth: a user needs a name or an nkey")
		}
	}
	if cfg.NoAuthUser != "" {
		a.noAuth = a.byName[cfg.NoAuthUser]
		if a.noAuth == nil {
			return nil, errors.New("auth: no_auth_user " + cfg.NoAuthUser + " is not a configured user")
		}
	}
	if cfg.Token != "" && len(cfg.Users) > 0 {
		return nil, errors.New("auth: a token cannot be combined with users")
	}
	a.anyAuth = cfg.Token != "" || len(cfg.Users) > 0
	return a, nil
}

// Required reports whether clients must authenticate (INFO auth_required).
func (a *Authenticator) Required() bool { return a.anyAuth }

// NeedsNonce reports whether INFO must carry a nonce (some user signs with an nkey).
func (a *Authenticator) NeedsNonce() bool { return len(a.byNkey) > 0 }

// Timeout is how long a client may take to send CONNECT.
func (a *Authenticator) Timeout() time.Duration { return a.cfg.Timeout }

// Check returns the user the credentials prove, nil when no auth is configured, or
// ErrAuthorization.
func (a *Authenticator) Check(c Credentials, nonce []byte) (*User, error) {
	if !a.anyAuth {
		return nil, nil
	}
	switch {
	case c.Nkey != "":
		return a.checkNkey(c, nonce)
	case a.cfg.Token != "":
		if c.Token != "" && secretMatches(a.cfg.Token, c.Token) {
			return &User{}, nil
		}
	case c.User != "":
		if u := a.byName[c.User]; u != nil && u.Password != "" && secretMatches(u.Password, c.Pass) {
			return u, nil
		}
	case c.Token == "" && c.Pass == "" && a.noAuth != nil:
		return a.noAuth, nil
	}
	return nil, ErrAuthorization
}

func (a *Authenticator) checkNkey(c Credentials, nonce []byte) (*User, error) {
	u := a.byNkey[c.Nkey]
	if u == nil || len(nonce) == 0 {
		return nil, ErrAuthorization
	}
	sig, err := base64.RawURLEncoding.DecodeString(c.Sig)
	if err != nil {
		sig, err = base64.StdEncoding.DecodeString(c.Sig)
		if err != nil {
			return nil, ErrAuthorization
		}
	}
	pub, err := nkeys.FromPublicKey(c.Nkey)
	if err != nil || pub.Verify(nonce, sig) != nil {
		return nil, ErrAuthorization
	}
	return u, nil
}

// IsBcrypt reports whether a configured secret is a bcrypt hash.
func IsBcrypt(secret string) bool {
	return strings.HasPrefix(secret, "$2a$") || strings.HasPrefix(secret, "$2b$") || strings.HasPrefix(secret, "$2y$")
}

// secretMatches compares a presented secret with a configured one, in constant time for
// plain secrets.
func secretMatches(configured, presented string) bool {
	if IsBcrypt(configured) {
		return bcrypt.CompareHashAndPassword([]byte(configured), []byte(presented)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(configured), []byte(presented)) == 1
}
