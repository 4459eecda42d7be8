package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"
)

// An nkey user signs the server's nonce; a client with another key is refused.
func TestE2ENkeyAuth(t *testing.T) {
	user, err := nkeys.CreateUser()
	must(t, err)
	pub, err := user.PublicKey()
	must(t, err)
	cfg := filepath.Join(t.TempDir(), "nkey.conf")
	must(t, os.WriteFile(cfg, []byte("authorization { users = [ { nkey: "+pub+" } ] }\n"), 0o600))
	p := startPetrel(t, "-c", cfg)
	sign := func(kp nkeys.KeyPair) nats.Option {
		return nats.Nkey(pub, func(nonce []byte) ([]byte, error) { return kp.Sign(nonce) })
	}
	nc := connect(t, p.url(), sign(user))
	must(t, nc.Flush())
	impostor, err := nkeys.CreateUser()
	must(t, err)
	if _, err := nats.Connect(p.url(), sign(impostor), nats.Timeout(testTimeout)); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("wrong key: %v, want ErrAuthorization", err)
	}
}

// SIGUSR2 puts the server in lame-duck mode: clients hear ldm, then are closed, and the
// process exits cleanly.
func TestE2ELameDuckSignal(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "ldm.conf")
	must(t, os.WriteFile(cfg, []byte("lame_duck_duration: \"30s\"\nlame_duck_grace_period: \"200ms\"\n"), 0o600))
	p := startPetrel(t, "-c", cfg)
	ldm := make(chan struct{}, 1)
	closed := make(chan struct{})
	connect(t, p.url(), nats.NoReconnect(),
		nats.LameDuckModeHandler(func(*nats.Conn) { ldm <- struct{}{} }),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	must(t, p.cmd.Process.Signal(syscall.SIGUSR2))
	for _, ch := range []chan struct{}{ldm, closed, p.exited} {
		select {
		case <-ch:
		case <-time.After(testTimeout):
			t.Fatal("lame duck did not run its course (ldm INFO, close, exit)")
		}
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// -V traces protocol lines, with secrets redacted.
func TestE2ETraceLogging(t *testing.T) {
	p := startPetrel(t, "-V", "--user", "u", "--pass", "topsecret")
	nc := connect(t, p.url(), nats.UserInfo("u", "topsecret"))
	_, err := nc.SubscribeSync("traced")
	must(t, err)
	must(t, nc.Flush())
	p.waitLog("<<- [SUB traced ")
	if strings.Contains(p.log(), "topsecret") {
		t.Fatal("the trace shows the password")
	}
}
