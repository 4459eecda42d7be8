package auth

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

func key(t *testing.T, create func() (nkeys.KeyPair, error)) (nkeys.KeyPair, string) {
	t.Helper()
	kp, err := create()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	return kp, pub
}

// Operator-mode checks, each against the rule it enforces; times come from the caller.
func TestUserJWT(t *testing.T) {
	op, opPub := key(t, nkeys.CreateOperator)
	acc, accPub := key(t, nkeys.CreateAccount)
	scoped, scopedPub := key(t, nkeys.CreateAccount)
	plainSigner, plainSignerPub := key(t, nkeys.CreateAccount)
	ac := jwt.NewAccountClaims(accPub)
	ac.SigningKeys.Add(plainSignerPub)
	scope := jwt.NewUserScope()
	scope.Key = scopedPub
	scope.Template.Pub.Allow.Add("scoped.>")
	ac.SigningKeys.AddScopedSigner(scope)
	ac.DefaultPermissions.Sub.Allow.Add("default.>")
	ac.Limits.DisallowBearer = true
	revoked, revokedPub := key(t, nkeys.CreateUser)
	ac.RevokeAt(revokedPub, time.Unix(1<<40, 0)) // after any issue time (Encode stamps the wall clock)
	accJWT, err := ac.Encode(op)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Trust: &Trust{TrustedKeys: []string{opPub}, Accounts: map[string]string{accPub: accJWT}}})
	if err != nil {
		t.Fatal(err)
	}
	if !a.Required() || !a.NeedsNonce() {
		t.Fatal("operator mode must require auth and a nonce")
	}
	nonce := []byte("n0nce")
	now := time.Unix(1500, 0)
	connect := func(user nkeys.KeyPair, signer nkeys.KeyPair, edit func(*jwt.UserClaims)) (*User, error) {
		pub, _ := user.PublicKey()
		uc := jwt.NewUserClaims(pub)
		uc.IssuedAt = 1000
		if signer != acc {
			uc.IssuerAccount = accPub
		}
		if edit != nil {
			edit(uc)
		}
		tok, err := uc.Encode(signer)
		if err != nil {
			t.Fatal(err)
		}
		sig, _ := user.Sign(nonce)
		return a.Check(Credentials{JWT: tok, Sig: base64.RawURLEncoding.EncodeToString(sig), Now: now}, nonce)
	}
	user, _ := key(t, nkeys.CreateUser)
	u, err := connect(user, acc, nil)
	if err != nil || u.Account != accPub || u.Permissions == nil || u.Permissions.Subscribe.Allow[0] != "default.>" {
		t.Fatalf("plain user: %+v %v", u, err)
	}
	if u, err := connect(user, scoped, func(uc *jwt.UserClaims) { uc.Pub.Allow.Add(">") }); err != nil || u.Permissions.Publish.Allow[0] != "scoped.>" {
		t.Fatalf("a scoped key's user must get its template: %+v %v", u, err)
	}
	if _, err := connect(user, plainSigner, nil); err != nil {
		t.Fatalf("signing key: %v", err)
	}
	other, _ := key(t, nkeys.CreateAccount)
	for name, tc := range map[string]struct {
		user, signer nkeys.KeyPair
		edit         func(*jwt.UserClaims)
		want         error
	}{
		"expired":           {user, acc, func(uc *jwt.UserClaims) { uc.Expires = 1499 }, ErrExpired},
		"not yet valid":     {user, acc, func(uc *jwt.UserClaims) { uc.NotBefore = 1600 }, ErrAuthorization},
		"revoked":           {revoked, acc, nil, ErrRevoked},
		"untrusted signer":  {user, other, nil, ErrAuthorization},
		"bearer disallowed": {user, acc, func(uc *jwt.UserClaims) { uc.BearerToken = true }, ErrAuthorization},
	} {
		if _, err := connect(tc.user, tc.signer, tc.edit); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// A valid JWT with another key's signature of the nonce is refused.
	pub, _ := user.PublicKey()
	tok, _ := jwt.NewUserClaims(pub).Encode(acc)
	sig, _ := revoked.Sign(nonce)
	if _, err := a.Check(Credentials{JWT: tok, Sig: base64.RawURLEncoding.EncodeToString(sig), Now: now}, nonce); err == nil {
		t.Fatal("a signature by another key was accepted")
	}
}
