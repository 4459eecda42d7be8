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
	// From a user JWT (operator mode): the claims' name, when the JWT expires (zero:
	// never), and the user's own limits (0: none).
	Tag     string
	Expires time.Time
	// ConnectionTypes, when set, are the kinds of connection the user may make
	// ("STANDARD", "WEBSOCKET", ...; allowed_connection_types).
	ConnectionTypes  []string
	MaxSubscriptions int
	MaxPayload       int
}

// Config is the authorization part of the server's options.
type Config struct {
	Users      []User
	Token      string // plain or bcrypt
	NoAuthUser string // users[Name] taken by clients that send no credentials
	Timeout    time.Duration
	// Trust, when set, puts the server in operator mode: users come with JWTs.
	Trust *Trust
}

// Credentials are what a CONNECT carried, and when (for JWT expiry).
type Credentials struct {
	User, Pass, Token, Nkey, Sig, JWT string
	Now                               time.Time
}

// Authenticator checks credentials against a Config. It is immutable and safe for
// concurrent use.
type Authenticator struct {
	cfg     Config
	byName  map[string]*User
	byNkey  map[string]*User
	noAuth  *User
	anyAuth bool
	trust   *trust // operator mode
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
	if cfg.Trust != nil {
		t, err := newTrust(cfg.Trust)
		if err != nil {
			return nil, err
		}
		a.trust = t
	}
	a.anyAuth = cfg.Token != "" || len(cfg.Users) > 0 || a.trust != nil
	return a, nil
}

// Required reports whether clients must authenticate (INFO auth_required).
func (a *Authenticator) Required() bool { return a.anyAuth }

// NeedsNonce reports whether INFO must carry a nonce (some user signs with an nkey).
func (a *Authenticator) NeedsNonce() bool { return len(a.byNkey) > 0 || a.trust != nil }

// Timeout is how long a client may take to send CONNECT.
func (a *Authenticator) Timeout() time.Duration { return a.cfg.Timeout }

// Check returns the user the credentials prove, nil when no auth is configured, or
// ErrAuthorization.
func (a *Authenticator) Check(c Credentials, nonce []byte) (*User, error) {
	return a.check(c, nonce, nil)
}

// Recheck is Check for a client already connected when the configuration was reloaded:
// provenBy is the Authenticator that accepted it. A password or token the client proved
// to provenBy and that a configures unchanged is not compared again (a bcrypt comparison
// costs tens of milliseconds, per connected client).
func (a *Authenticator) Recheck(provenBy *Authenticator, c Credentials, nonce []byte) (*User, error) {
	return a.check(c, nonce, provenBy)
}

// method is how a CONNECT claims to authenticate.
type method int

const (
	byNothing method = iota // matches nothing configured: refused
	byNkey
	byToken
	byPassword
	byNoAuthUser
)

// claim finds what the credentials claim: the method, the user (an empty User for the
// token) and the configured secret they must prove. Nothing is verified here.
func (a *Authenticator) claim(c Credentials) (method, *User, string) {
	switch {
	case c.Nkey != "":
		if u := a.byNkey[c.Nkey]; u != nil {
			return byNkey, u, ""
		}
	case a.cfg.Token != "":
		if c.Token != "" {
			return byToken, &User{}, a.cfg.Token
		}
	case c.User != "":
		if u := a.byName[c.User]; u != nil && u.Password != "" {
			return byPassword, u, u.Password
		}
	case c.Token == "" && c.Pass == "" && a.noAuth != nil:
		return byNoAuthUser, a.noAuth, ""
	}
	return byNothing, nil, ""
}

func (a *Authenticator) check(c Credentials, nonce []byte, provenBy *Authenticator) (*User, error) {
	if !a.anyAuth {
		return nil, nil
	}
	if c.JWT != "" && a.trust != nil {
		return a.trust.checkJWT(c, nonce)
	}
	how, u, secret := a.claim(c)
	switch how {
	case byNkey:
		if a.nkeySigned(c, nonce) {
			return u, nil
		}
	case byToken, byPassword:
		presented := c.Pass
		if how == byToken {
			presented = c.Token
		}
		if provenBy != nil && provenBy.anyAuth {
			if was, _, old := provenBy.claim(c); was == how && old == secret {
				return u, nil
			}
		}
		if SecretMatches(secret, presented) {
			return u, nil
		}
	case byNoAuthUser:
		return u, nil
	}
	return nil, ErrAuthorization
}

// nkeySigned verifies the client's signature of the nonce with its public key.
func (a *Authenticator) nkeySigned(c Credentials, nonce []byte) bool {
	return nkeySignature(c.Nkey, c.Sig, nonce)
}

// nkeySignature verifies sig (base64, URL or standard alphabet) of nonce by public key pub.
func nkeySignature(pub, sig string, nonce []byte) bool {
	if len(nonce) == 0 {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		raw, err = base64.StdEncoding.DecodeString(sig)
		if err != nil {
			return false
		}
	}
	key, err := nkeys.FromPublicKey(pub)
	return err == nil && key.Verify(nonce, raw) == nil
}

// IsBcrypt reports whether a configured secret is a bcrypt hash.
func IsBcrypt(secret string) bool {
	return strings.HasPrefix(secret, "$2a$") || strings.HasPrefix(secret, "$2b$") || strings.HasPrefix(secret, "$2y$")
}

// SecretMatches compares a presented secret with a configured one, in constant time for
// plain secrets.
func SecretMatches(configured, presented string) bool {
	if IsBcrypt(configured) {
		return bcrypt.CompareHashAndPassword([]byte(configured), []byte(presented)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(configured), []byte(presented)) == 1
}
