package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// operatorFixture is an operator, a system account and two accounts (A exports a stream
// B imports), made in the test with jwt/v2, and a config trusting them.
type operatorFixture struct {
	t          *testing.T
	dir        string
	op, opSign nkeys.KeyPair
	accKeys    map[string]nkeys.KeyPair
	accJWTs    map[string]string
	accPubs    map[string]string
}

// orPanic returns v, or panics (failing the test) on a set-up error of the fixture.
func orPanic[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func newOperatorFixture(t *testing.T) *operatorFixture {
	f := &operatorFixture{t: t, dir: t.TempDir(), accKeys: map[string]nkeys.KeyPair{}, accJWTs: map[string]string{}, accPubs: map[string]string{}}
	f.op = orPanic(nkeys.CreateOperator())
	f.opSign = orPanic(nkeys.CreateOperator())
	for _, name := range []string{"SYS", "A", "B"} {
		kp := orPanic(nkeys.CreateAccount())
		f.accKeys[name], f.accPubs[name] = kp, orPanic(kp.PublicKey())
	}
	ac := jwt.NewAccountClaims(f.accPubs["A"])
	ac.Name = "A"
	ac.Exports = jwt.Exports{&jwt.Export{Subject: "orders.>", Type: jwt.Stream}}
	f.sign("A", ac)
	bc := jwt.NewAccountClaims(f.accPubs["B"])
	bc.Name = "B"
	bc.Imports = jwt.Imports{&jwt.Import{Subject: "orders.>", Account: f.accPubs["A"], Type: jwt.Stream, LocalSubject: "fromA.>"}}
	f.sign("B", bc)
	sc := jwt.NewAccountClaims(f.accPubs["SYS"])
	sc.Name = "SYS"
	f.sign("SYS", sc)
	return f
}

// sign issues an account JWT with the operator's signing key.
func (f *operatorFixture) sign(name string, ac *jwt.AccountClaims) {
	f.accJWTs[name] = orPanic(ac.Encode(f.opSign))
}

// conf writes the server's configuration: the operator JWT in a file, the accounts preloaded.
func (f *operatorFixture) conf() string {
	return f.confWith("resolver: MEMORY", "SYS", "A", "B")
}

// confWith writes a configuration with the given resolver line and preloaded accounts.
func (f *operatorFixture) confWith(resolver string, preload ...string) string {
	oc := jwt.NewOperatorClaims(orPanic(f.op.PublicKey()))
	oc.Name = "OP"
	oc.SigningKeys.Add(orPanic(f.opSign.PublicKey()))
	opPath := filepath.Join(f.dir, "op.jwt")
	must(f.t, os.WriteFile(opPath, []byte(orPanic(oc.Encode(f.op))), 0o600))
	var pre strings.Builder
	for _, name := range preload {
		fmt.Fprintf(&pre, "  %s: %q\n", f.accPubs[name], f.accJWTs[name])
	}
	path := filepath.Join(f.dir, "server.conf")
	writeConf(f.t, path, fmt.Sprintf("operator: %q\nsystem_account: %s\n%s\nresolver_preload: {\n%s}\n", opPath, f.accPubs["SYS"], resolver, pre.String()))
	return path
}

// creds issues a user of account acc and writes its .creds file.
func (f *operatorFixture) creds(acc string, edit func(*jwt.UserClaims)) string {
	ukp := orPanic(nkeys.CreateUser())
	uc := jwt.NewUserClaims(orPanic(ukp.PublicKey()))
	uc.Name = "user-of-" + acc
	if edit != nil {
		edit(uc)
	}
	tok := orPanic(uc.Encode(f.accKeys[acc]))
	seed := orPanic(ukp.Seed())
	path := filepath.Join(f.dir, fmt.Sprintf("%s-%d.creds", acc, time.Now().UnixNano()))
	must(f.t, os.WriteFile(path, orPanic(jwt.FormatUserConfig(tok, seed)), 0o600))
	return path
}

// Operator mode: users with creds files connect into their JWT's account; accounts are
// isolated except through the JWT's import; claimed permissions hold; an expired JWT
// disconnects its client; a revoked user is refused; the system account answers.
func TestE2EOperatorMode(t *testing.T) {
	f := newOperatorFixture(t)
	// B revokes one user; the revocation lives in B's JWT.
	revokedKP := orPanic(nkeys.CreateUser())
	revokedPub := orPanic(revokedKP.PublicKey())
	bc := orPanic(jwt.DecodeAccountClaims(f.accJWTs["B"]))
	bc.RevokeAt(revokedPub, time.Now().Add(time.Minute))
	f.sign("B", bc)
	p := startPetrel(t, "-c", f.conf())

	a := connect(t, p.url(), nats.UserCredentials(f.creds("A", nil)))
	b := connect(t, p.url(), nats.UserCredentials(f.creds("B", nil)))
	subB := orPanic(b.SubscribeSync("fromA.>"))
	subA := orPanic(a.SubscribeSync("private.>"))
	must(t, b.Flush())
	must(t, a.Flush())
	must(t, a.Publish("orders.1", []byte("o")))
	must(t, b.Publish("private.x", []byte("no")))
	if m := next(t, subB); m.Subject != "fromA.1" { // LocalSubject renames: orders.> -> fromA.>
		t.Fatalf("B got %s", m.Subject)
	}
	none(t, a, subA)

	// Permissions from the claims.
	errs := make(chan error, 4)
	limited := connect(t, p.url(), nats.UserCredentials(f.creds("A", func(uc *jwt.UserClaims) {
		uc.Pub.Allow.Add("ok.>")
	})), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	must(t, limited.Publish("nope", nil))
	must(t, limited.Flush())
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), `Permissions Violation for Publish to "nope"`) {
			t.Fatalf("claimed permissions: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a publish outside the claimed permissions was allowed")
	}

	// A JWT that expires disconnects its client when it does.
	closed := make(chan error, 1)
	_ = connect(t, p.url(), nats.UserCredentials(f.creds("A", func(uc *jwt.UserClaims) {
		uc.Expires = time.Now().Add(1500*time.Millisecond).Unix() + 1
	})), nats.NoReconnect(), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { closed <- err }))
	select {
	case err := <-closed:
		if !errors.Is(err, nats.ErrAuthExpired) { // nats.go's name for -ERR 'User Authentication Expired'

			t.Fatalf("expiry: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("an expired user stayed connected")
	}

	// A revoked user is refused; so is a user of an account the server does not trust.
	ukp := revokedKP
	uc := jwt.NewUserClaims(revokedPub)
	uc.IssuedAt = time.Now().Unix() // before the revocation time
	tok := orPanic(uc.Encode(f.accKeys["B"]))
	revokedCreds := filepath.Join(f.dir, "revoked.creds")
	must(t, os.WriteFile(revokedCreds, orPanic(jwt.FormatUserConfig(tok, orPanic(ukp.Seed()))), 0o600))
	if _, err := nats.Connect(p.url(), nats.UserCredentials(revokedCreds), nats.NoReconnect()); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("revoked user: %v", err)
	}
	stranger := orPanic(nkeys.CreateAccount())
	f.accKeys["X"] = stranger
	if _, err := nats.Connect(p.url(), nats.UserCredentials(f.creds("X", nil)), nats.NoReconnect()); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("user of an untrusted account: %v", err)
	}

	// The system account is the JWT's.
	sys := connect(t, p.url(), nats.UserCredentials(f.creds("SYS", nil)))
	if _, err := sys.Request("$SYS.REQ.SERVER.PING", nil, 2*time.Second); err != nil {
		t.Fatalf("system account ping: %v", err)
	}
}

// The full resolver: an account JWT pushed by the system account is stored and put in
// force (its users connect), an update revoking a connected user closes it, and the pushed
// account survives a restart.
func TestE2EFullResolver(t *testing.T) {
	f := newOperatorFixture(t)
	jwtDir := filepath.Join(f.dir, "jwt")
	conf := f.confWith(fmt.Sprintf("resolver: { type: full, dir: %q }", jwtDir), "SYS")
	p := startPetrel(t, "-c", conf)
	credsA := f.creds("A", nil)
	if _, err := nats.Connect(p.url(), nats.UserCredentials(credsA), nats.NoReconnect()); err == nil {
		t.Fatal("a user of an account not yet pushed connected")
	}
	sys := connect(t, p.url(), nats.UserCredentials(f.creds("SYS", nil)))
	push := func(subject, tok string) string {
		t.Helper()
		resp, err := sys.Request(subject, []byte(tok), 3*time.Second)
		must(t, err)
		return string(resp.Data)
	}
	if r := push("$SYS.REQ.CLAIMS.UPDATE", f.accJWTs["A"]); !strings.Contains(r, `"code":200`) {
		t.Fatalf("update: %s", r)
	}
	if r := push("$SYS.REQ.ACCOUNT."+f.accPubs["B"]+".CLAIMS.UPDATE", f.accJWTs["A"]); !strings.Contains(r, "does not match") {
		t.Fatalf("an update under another account's subject: %s", r)
	}
	userKP := orPanic(nkeys.CreateUser())
	userPub := orPanic(userKP.PublicKey())
	uc := jwt.NewUserClaims(userPub)
	tok := orPanic(uc.Encode(f.accKeys["A"]))
	victimCreds := filepath.Join(f.dir, "victim.creds")
	must(t, os.WriteFile(victimCreds, orPanic(jwt.FormatUserConfig(tok, orPanic(userKP.Seed()))), 0o600))
	closed := make(chan struct{})
	victim := connect(t, p.url(), nats.UserCredentials(victimCreds), nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	bystander := connect(t, p.url(), nats.UserCredentials(credsA))
	if resp, err := sys.Request("$SYS.REQ.ACCOUNT."+f.accPubs["A"]+".CLAIMS.LOOKUP", nil, 2*time.Second); err != nil || string(resp.Data) != f.accJWTs["A"] {
		t.Fatalf("lookup: %v", err)
	}

	ac := orPanic(jwt.DecodeAccountClaims(f.accJWTs["A"]))
	ac.RevokeAt(userPub, time.Now().Add(time.Minute))
	f.sign("A", ac)
	if r := push("$SYS.REQ.ACCOUNT."+f.accPubs["A"]+".CLAIMS.UPDATE", f.accJWTs["A"]); !strings.Contains(r, `"code":200`) {
		t.Fatalf("revoking update: %s", r)
	}
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("a revoked user stayed connected")
	}
	if victim.IsConnected() || !bystander.IsConnected() {
		t.Fatal("the revocation hit the wrong client")
	}

	p.stop()
	p2 := startPetrelOn(t, p.port, "-c", conf)
	connect(t, p2.url(), nats.UserCredentials(credsA))
	if _, err := nats.Connect(p2.url(), nats.UserCredentials(victimCreds), nats.NoReconnect()); err == nil {
		t.Fatal("the revocation did not survive a restart")
	}
}

// An account deleted by the operator ($SYS.REQ.CLAIMS.DELETE, allow_delete) loses its
// connected clients and admits no new ones; a delete signed by anyone else is refused; the
// resolver's limit refuses a new account past it.
func TestE2EResolverDelete(t *testing.T) {
	f := newOperatorFixture(t)
	jwtDir := filepath.Join(f.dir, "jwt")
	p := startPetrel(t, "-c", f.confWith(fmt.Sprintf("resolver: { type: full, dir: %q, allow_delete: true, limit: 1 }", jwtDir), "SYS"))
	sys := connect(t, p.url(), nats.UserCredentials(f.creds("SYS", nil)))
	request := func(subj string, body string) string {
		t.Helper()
		resp, err := sys.Request(subj, []byte(body), 3*time.Second)
		must(t, err)
		return string(resp.Data)
	}
	if r := request("$SYS.REQ.CLAIMS.UPDATE", f.accJWTs["A"]); !strings.Contains(r, `"code":200`) {
		t.Fatalf("update: %s", r)
	}
	if r := request("$SYS.REQ.CLAIMS.UPDATE", f.accJWTs["B"]); !strings.Contains(r, "limit of 1 accounts") {
		t.Fatalf("an update past the resolver's limit: %s", r)
	}
	closed := make(chan struct{})
	credsA := f.creds("A", nil)
	connect(t, p.url(), nats.UserCredentials(credsA), nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	deletion := func(signer nkeys.KeyPair, accounts ...string) string {
		gc := jwt.NewGenericClaims(orPanic(signer.PublicKey()))
		gc.Data["accounts"] = accounts
		return orPanic(gc.Encode(signer))
	}
	if r := request("$SYS.REQ.CLAIMS.DELETE", deletion(f.accKeys["B"], f.accPubs["A"])); !strings.Contains(r, "not trusted") {
		t.Fatalf("a delete signed by an account: %s", r)
	}
	if r := request("$SYS.REQ.CLAIMS.DELETE", deletion(f.op, f.accPubs["SYS"])); !strings.Contains(r, "system account") {
		t.Fatalf("deleting the system account: %s", r)
	}
	if r := request("$SYS.REQ.CLAIMS.DELETE", deletion(f.op, f.accPubs["A"])); !strings.Contains(r, "deleted 1 accounts") {
		t.Fatalf("delete: %s", r)
	}
	select {
	case <-closed:
	case <-time.After(3 * time.Second):
		t.Fatal("a client of a deleted account stayed")
	}
	if _, err := nats.Connect(p.url(), nats.UserCredentials(credsA), nats.NoReconnect()); err == nil {
		t.Fatal("a user of a deleted account connected")
	}
	if _, err := os.Stat(filepath.Join(jwtDir, f.accPubs["A"]+".jwt")); !os.IsNotExist(err) {
		t.Fatalf("the deleted account's JWT file: %v", err)
	}
}

// A private export (token required) reaches the account whose import carries an activation
// token the exporter issued; an import of it without a token is dropped with a warning, and
// the server still starts.
func TestE2EActivationToken(t *testing.T) {
	f := newOperatorFixture(t)
	ac := orPanic(jwt.DecodeAccountClaims(f.accJWTs["A"]))
	ac.Exports.Add(&jwt.Export{Subject: "secret.>", Type: jwt.Stream, TokenReq: true})
	f.sign("A", ac)
	act := jwt.NewActivationClaims(f.accPubs["B"])
	act.ImportSubject = "secret.>"
	act.ImportType = jwt.Stream
	bc := orPanic(jwt.DecodeAccountClaims(f.accJWTs["B"]))
	bc.Imports.Add(&jwt.Import{Subject: "secret.>", Account: f.accPubs["A"], Type: jwt.Stream, LocalSubject: "sec.>",
		Token: orPanic(act.Encode(f.accKeys["A"]))})
	f.sign("B", bc)
	sc := orPanic(jwt.DecodeAccountClaims(f.accJWTs["SYS"]))
	sc.Imports.Add(&jwt.Import{Subject: "secret.>", Account: f.accPubs["A"], Type: jwt.Stream, LocalSubject: "stolen.>"})
	f.sign("SYS", sc)
	p := startPetrel(t, "-c", f.conf())
	if log := p.log(); !strings.Contains(log, "import ignored") || !strings.Contains(log, `account "`+f.accPubs["SYS"]+`": stream import of "secret.>"`) {
		t.Fatalf("no warning for the import without a token:\n%s", log)
	}
	a := connect(t, p.url(), nats.UserCredentials(f.creds("A", nil)))
	b := connect(t, p.url(), nats.UserCredentials(f.creds("B", nil)))
	sys := connect(t, p.url(), nats.UserCredentials(f.creds("SYS", nil)))
	subB := orPanic(b.SubscribeSync("sec.>"))
	subSys := orPanic(sys.SubscribeSync("stolen.>"))
	must(t, b.Flush())
	must(t, sys.Flush())
	must(t, a.Publish("secret.x", []byte("s")))
	if m := next(t, subB); m.Subject != "sec.x" {
		t.Fatalf("B got %s", m.Subject)
	}
	none(t, sys, subSys)
}
