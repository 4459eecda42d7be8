package auth

import (
	"encoding/base64"
	"errors"
	"testing"

	"github.com/nats-io/nkeys"
	"golang.org/x/crypto/bcrypt"
)

func TestCheck(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := kp.PublicKey()
	nonce := []byte("abcdefghijk")
	sig, _ := kp.Sign(nonce)
	users, err := New(Config{Users: []User{
		{Name: "alice", Password: "plain"},
		{Name: "bob", Password: string(hash)},
		{Nkey: pub},
		{Name: "anon", Password: "x"},
	}, NoAuthUser: "anon"})
	if err != nil {
		t.Fatal(err)
	}
	token, err := New(Config{Token: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	none, _ := New(Config{})
	cases := []struct {
		name string
		a    *Authenticator
		c    Credentials
		user string
		ok   bool
	}{
		{"plain password", users, Credentials{User: "alice", Pass: "plain"}, "alice", true},
		{"wrong password", users, Credentials{User: "alice", Pass: "nope"}, "", false},
		{"bcrypt password", users, Credentials{User: "bob", Pass: "s3cret"}, "bob", true},
		{"bcrypt wrong", users, Credentials{User: "bob", Pass: "S3cret"}, "", false},
		{"unknown user", users, Credentials{User: "eve", Pass: "plain"}, "", false},
		{"nkey raw url sig", users, Credentials{Nkey: pub, Sig: base64.RawURLEncoding.EncodeToString(sig)}, "", true},
		{"nkey std sig", users, Credentials{Nkey: pub, Sig: base64.StdEncoding.EncodeToString(sig)}, "", true},
		{"nkey bad sig", users, Credentials{Nkey: pub, Sig: base64.RawURLEncoding.EncodeToString(make([]byte, 64))}, "", false},
		{"no credentials take no_auth_user", users, Credentials{}, "anon", true},
		{"token", token, Credentials{Token: "tok"}, "", true},
		{"wrong token", token, Credentials{Token: "tik"}, "", false},
		{"user against token", token, Credentials{User: "tok"}, "", false},
		{"no auth configured", none, Credentials{User: "x"}, "", true},
	}
	for _, c := range cases {
		u, err := c.a.Check(c.c, nonce)
		if c.ok != (err == nil) {
			t.Errorf("%s: err %v, want ok=%v", c.name, err, c.ok)
			continue
		}
		if !c.ok && !errors.Is(err, ErrAuthorization) {
			t.Errorf("%s: err %v is not ErrAuthorization", c.name, err)
		}
		if c.ok && c.user != "" && (u == nil || u.Name != c.user) {
			t.Errorf("%s: user %+v, want %s", c.name, u, c.user)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []Config{
		{Users: []User{{Name: "a"}, {Name: "a"}}},
		{Users: []User{{}}},
		{Users: []User{{Nkey: "Unotakey"}}},
		{NoAuthUser: "ghost"},
		{Token: "t", Users: []User{{Name: "a", Password: "b"}}},
	}
	for i, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("config %d accepted: %+v", i, cfg)
		}
	}
}

func TestPermissions(t *testing.T) {
	p := &Permissions{
		Publish:   &SubjectPermission{Allow: []string{"pub.>", "_INBOX.>"}, Deny: []string{"pub.secret"}},
		Subscribe: &SubjectPermission{Allow: []string{"sub.>", "q.* workers"}, Deny: []string{"sub.hidden.>"}},
	}
	pubs := map[string]bool{"pub.a": true, "pub.secret": false, "other": false, "_INBOX.x.y": true}
	for s, want := range pubs {
		if got := p.CanPublish(s); got != want {
			t.Errorf("CanPublish(%q) = %v, want %v", s, got, want)
		}
	}
	subs := []struct {
		subj, queue string
		want        bool
	}{
		{"sub.a", "", true},
		{"sub.>", "", true},
		{"sub.hidden.x", "", false},
		{"other", "", false},
		{">", "", false},
		{"q.x", "workers", true},
		{"q.x", "others", false},
		{"q.x", "", false},
	}
	for _, c := range subs {
		if got := p.CanSubscribe(c.subj, c.queue); got != c.want {
			t.Errorf("CanSubscribe(%q, %q) = %v, want %v", c.subj, c.queue, got, c.want)
		}
	}
	if !p.DeniesDelivery("sub.hidden.x") || p.DeniesDelivery("sub.visible") {
		t.Error("DeniesDelivery does not follow the deny list")
	}
	var none *Permissions
	if !none.CanPublish("x") || !none.CanSubscribe(">", "") {
		t.Error("nil permissions must allow everything")
	}
}

// Recheck admits a connected client whose proven secret is configured unchanged without
// comparing it again (the presented password is not even looked at), and checks it in
// full when the secret changed.
func TestRecheck(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	perms := &Permissions{Publish: &SubjectPermission{Allow: []string{"a"}}}
	build := func(cfg Config) *Authenticator {
		a, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	before := build(Config{Users: []User{{Name: "bob", Password: string(hash)}}})
	same := build(Config{Users: []User{{Name: "bob", Password: string(hash), Permissions: perms}}})
	changed := build(Config{Users: []User{{Name: "bob", Password: "other"}}})
	gone := build(Config{Users: []User{{Name: "carol", Password: "x"}}})
	token := build(Config{Token: "t"})
	open := build(Config{})
	// A wrong password proves Recheck skipped the comparison for an unchanged secret.
	skipped := Credentials{User: "bob", Pass: "not compared"}
	cases := []struct {
		name  string
		next  *Authenticator
		creds Credentials
		ok    bool
	}{
		{"unchanged secret, new permissions", same, skipped, true},
		{"changed secret, old password", changed, Credentials{User: "bob", Pass: "s3cret"}, false},
		{"changed secret, new password", changed, Credentials{User: "bob", Pass: "other"}, true},
		{"user removed", gone, Credentials{User: "bob", Pass: "s3cret"}, false},
		{"token replaces users", token, Credentials{User: "bob", Pass: "s3cret"}, false},
		{"auth removed", open, Credentials{User: "bob", Pass: "s3cret"}, true},
	}
	for _, tc := range cases {
		u, err := tc.next.Recheck(before, tc.creds, nil)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok %v", tc.name, err, tc.ok)
		}
		if tc.next == same && (u == nil || u.Permissions != perms) {
			t.Errorf("%s: user %+v lacks the new permissions", tc.name, u)
		}
	}
}
