package fuzz

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
	"github.com/petrel-io/petrel/core/auth"
)

// fixedKey makes a key pair from a fixed seed byte, so the corpus is stable.
func fixedKey(t testing.TB, prefix nkeys.PrefixByte, b byte) nkeys.KeyPair {
	kp, err := nkeys.CreatePairWithRand(prefix, bytes.NewReader(bytes.Repeat([]byte{b}, 64)))
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// FuzzUserJWT feeds arbitrary user JWTs and signatures to operator-mode authentication: it
// must never panic, and must admit only a JWT its trusted account signed (checked by
// decoding the admitted token independently).
func FuzzUserJWT(f *testing.F) {
	op, acc, user := fixedKey(f, nkeys.PrefixByteOperator, 1), fixedKey(f, nkeys.PrefixByteAccount, 2), fixedKey(f, nkeys.PrefixByteUser, 3)
	opPub, _ := op.PublicKey()
	accPub, _ := acc.PublicKey()
	userPub, _ := user.PublicKey()
	ac := jwt.NewAccountClaims(accPub)
	accJWT, err := ac.Encode(op)
	if err != nil {
		f.Fatal(err)
	}
	a, err := auth.New(auth.Config{Trust: &auth.Trust{TrustedKeys: []string{opPub}, Accounts: map[string]string{accPub: accJWT}}})
	if err != nil {
		f.Fatal(err)
	}
	nonce := []byte("fuzz-nonce")
	sig, _ := user.Sign(nonce)
	uc := jwt.NewUserClaims(userPub)
	uc.IssuedAt = 1
	good, _ := uc.Encode(acc)
	uc.BearerToken = true
	bearer, _ := uc.Encode(acc)
	f.Add(good, string(sig))
	f.Add(bearer, "")
	f.Add("eyJ0eXAiOiJKV1QifQ.e30.AAAA", "x")
	f.Add(accJWT, "")
	f.Fuzz(func(t *testing.T, token, rawSig string) {
		c := auth.Credentials{JWT: token, Sig: encodeSig([]byte(rawSig)), Now: time.Unix(1000, 0)}
		u, err := a.Check(c, nonce)
		if err != nil {
			if u != nil {
				t.Fatal("a refused user came back")
			}
			if !errors.Is(err, auth.ErrAuthorization) && !errors.Is(err, auth.ErrExpired) && !errors.Is(err, auth.ErrRevoked) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		claims, derr := jwt.DecodeUserClaims(token)
		if derr != nil || !ac.DidSign(claims) || u.Account != accPub {
			t.Fatalf("admitted %q (%v) into %q", token, derr, u.Account)
		}
	})
}

func encodeSig(raw []byte) string { return base64.RawURLEncoding.EncodeToString(raw) }
