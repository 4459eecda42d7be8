package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// Reload, signals, the pid, log and ports files, with the real binary and nats.go.

// writeConf writes a configuration file (again) for a reload.
func writeConf(t *testing.T, path, text string) {
	t.Helper()
	must(t, os.WriteFile(path, []byte(text), 0o600))
}

// reloadWith rewrites the configuration, sends SIGHUP and waits for the outcome's log line.
func (p *proc) reloadWith(path, text, outcome string) {
	p.t.Helper()
	writeConf(p.t, path, text)
	must(p.t, p.cmd.Process.Signal(syscall.SIGHUP))
	p.waitLog(outcome)
}

const reloadUsers = `authorization {
  users = [
    { user: alice, password: %ALICE%, permissions: { publish: [%PUB%], subscribe: ">" } }
    { user: bob, password: pb }
  ]
}
`

func usersConf(alicePass, pub string) string {
	return strings.NewReplacer("%ALICE%", alicePass, "%PUB%", pub).Replace(reloadUsers)
}

// A reload under connected clients: bob's publish permission narrows (his next publish is
// refused, his connection stays); then alice's password changes (her connection is closed
// with an authorization error, the new password works, the old no longer).
func TestE2EReloadPasswordAndPermissions(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "users.conf")
	writeConf(t, cfg, usersConf("pa", `"orders.>", "audit"`))
	p := startPetrel(t, "-c", cfg)

	aliceClosed := make(chan struct{})
	aliceErrs := make(chan error, 4)
	alice := connect(t, p.url(), nats.UserInfo("alice", "pa"), nats.NoReconnect(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { aliceErrs <- err }),
		nats.ClosedHandler(func(*nats.Conn) { close(aliceClosed) }))
	bobErrs := make(chan error, 4)
	bob := connect(t, p.url(), nats.UserInfo("bob", "pb"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { bobErrs <- err }))
	watch, err := bob.SubscribeSync(">")
	must(t, err)
	must(t, bob.Flush())
	must(t, alice.Publish("audit", []byte("before")))
	if m := next(t, watch); m.Subject != "audit" {
		t.Fatalf("got %s", m.Subject)
	}

	// Bob's publish permission narrows: stays connected, audit is now refused.
	p.reloadWith(cfg, strings.Replace(usersConf("pa", `"orders.>", "audit"`), "{ user: bob, password: pb }",
		`{ user: bob, password: pb, permissions: { publish: "orders.>" } }`, 1), "Reloaded server configuration")
	must(t, bob.Publish("audit", []byte("denied")))
	expectPermissionError(t, bobErrs, `publish to "audit"`)
	must(t, bob.Publish("orders.new", []byte("allowed")))
	if m := next(t, watch); m.Subject != "orders.new" {
		t.Fatalf("after the reload bob got %s", m.Subject)
	}
	if !bob.IsConnected() {
		t.Fatal("a permissions change closed bob's connection")
	}

	// Alice's password changes: her connection is closed with an authorization error.
	p.reloadWith(cfg, usersConf("pa2", `"orders.>"`), "Reloaded server configuration")
	select {
	case <-aliceClosed:
	case <-time.After(testTimeout):
		t.Fatal("alice's connection outlived her password")
	}
	select {
	case err := <-aliceErrs:
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Fatalf("alice's error %v, want an authorization violation", err)
		}
	default:
		t.Fatal("alice was closed without an authorization violation")
	}
	if _, err := nats.Connect(p.url(), nats.UserInfo("alice", "pa"), nats.Timeout(testTimeout)); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("old password: %v, want ErrAuthorization", err)
	}
	connect(t, p.url(), nats.UserInfo("alice", "pa2"))
}

// `petrel --signal reload=<pidfile>` reloads the server the pid file names; a new
// max_payload reaches new clients in INFO and connected clients' next publish.
func TestE2EReloadMaxPayloadBySignalCommand(t *testing.T) {
	dir := t.TempDir()
	cfg, pidFile := filepath.Join(dir, "p.conf"), filepath.Join(dir, "petrel.pid")
	writeConf(t, cfg, "max_payload: 1MB\n")
	p := startPetrel(t, "-c", cfg, "-P", pidFile)
	closed := make(chan struct{})
	old := connect(t, p.url(), nats.NoReconnect(), nats.ClosedHandler(func(*nats.Conn) { close(closed) }))

	writeConf(t, cfg, "max_payload: 2000\n")
	out, err := exec.Command(petrelBinary(t), "--signal", "reload="+pidFile).CombinedOutput()
	if err != nil {
		t.Fatalf("petrel --signal reload: %v: %s", err, out)
	}
	p.waitLog("Reloaded: max_payload = 2000")
	p.waitLog("Reloaded server configuration")
	if fresh := connect(t, p.url()); fresh.MaxPayload() != 2000 {
		t.Fatalf("a new client's max_payload is %d", fresh.MaxPayload())
	}
	// The connected client still believes the old limit; the server holds it to the new.
	must(t, old.Publish("big", make([]byte, 3000)))
	_ = old.Flush() // fails once the server has closed the connection
	select {
	case <-closed:
	case <-time.After(testTimeout):
		t.Fatal("a payload over the reloaded max_payload did not close the connection")
	}
	if err := old.LastError(); err == nil || !strings.Contains(strings.ToLower(err.Error()), "maximum payload violation") {
		t.Fatalf("last error %v, want a maximum payload violation", err)
	}
}

// A file that does not parse, or that changes what cannot be reloaded, leaves the server
// running with its settings; the error is logged with the file's position.
func TestE2EReloadBadFileKeepsSettings(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "p.conf")
	good := "authorization { token: t1 }\nmax_payload: 4KB\n"
	writeConf(t, cfg, good)
	p := startPetrel(t, "-c", cfg)
	nc := connect(t, p.url(), nats.Token("t1"))
	p.reloadWith(cfg, "authorization { token: t2 }\nmax_payload: [\n", cfg+":2:")
	p.reloadWith(cfg, "authorization { token: t2 }\nserver_name: renamed\n",
		"Failed to reload server configuration: config reload not supported for ServerName: old=, new=renamed")
	p.reloadWith(cfg, "authorization { token: t2 }\nfrobnicate: 1\n", `p.conf:2:1: unknown field "frobnicate"`)
	must(t, nc.Flush())
	if !nc.IsConnected() {
		t.Fatal("a failed reload closed a client")
	}
	if again := connect(t, p.url(), nats.Token("t1")); again.MaxPayload() != 4096 {
		t.Fatalf("after failed reloads max_payload is %d", again.MaxPayload())
	}
}

// bareProc is the binary run with exactly the given arguments, for tests that watch the
// files it writes rather than its output.
type bareProc struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func startBare(t *testing.T, args ...string) *bareProc {
	t.Helper()
	p := &bareProc{cmd: exec.Command(petrelBinary(t), args...), exited: make(chan struct{})}
	stderr, err := p.cmd.StderrPipe()
	must(t, err)
	must(t, p.cmd.Start())
	var mu sync.Mutex
	var out strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
		_ = p.cmd.Wait() // the exit status is checked where it matters
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // a no-op once it has exited
		<-p.exited
		if t.Failed() {
			mu.Lock()
			t.Logf("petrel stderr:\n%s", out.String())
			mu.Unlock()
		}
	})
	return p
}

// waitFor polls cond (these tests watch files another process writes) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With -p -1 and -m -1 a launcher learns the ports from the ports file, which lists the
// listeners that are on with their resolved ports and is removed at exit.
func TestE2EPortsFile(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "ws.conf")
	must(t, os.WriteFile(conf, []byte("websocket { host: 127.0.0.1, port: -1, no_tls: true }\n"), 0o644))
	p := startBare(t, "-c", conf, "-a", "127.0.0.1", "-p", "-1", "-m", "-1", "--ports_file_dir", dir)
	var path string
	waitFor(t, "the ports file", func() bool {
		matches, _ := filepath.Glob(filepath.Join(dir, "petrel_*.ports"))
		if len(matches) == 1 {
			path = matches[0]
		}
		return path != ""
	})
	if want := filepath.Join(dir, "petrel_"+strconv.Itoa(p.cmd.Process.Pid)+".ports"); path != want {
		t.Fatalf("ports file %s, want %s", path, want)
	}
	raw, err := os.ReadFile(path)
	must(t, err)
	var doc map[string][]string
	must(t, json.Unmarshal(raw, &doc))
	if len(doc) != 3 || len(doc["nats"]) != 1 || len(doc["monitoring"]) != 1 || len(doc["websocket"]) != 1 {
		t.Fatalf("ports file %s", raw)
	}
	for _, url := range []string{doc["nats"][0], doc["websocket"][0]} {
		nc := connect(t, url)
		must(t, nc.Flush())
	}
	resp, err := http.Get(doc["monitoring"][0] + "/varz")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/varz: %s", resp.Status)
	}
	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	<-p.exited
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("ports file after exit: %v", err)
	}
}

// SIGUSR1 reopens the log file: after rotation renamed it away, a new file appears and
// takes the lines.
func TestE2EReopenLogFile(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "petrel.log")
	port := freePort(t)
	p := startBare(t, "-a", "127.0.0.1", "-p", port, "-l", logFile)
	contains := func(path, want string) func() bool {
		return func() bool {
			b, _ := os.ReadFile(path)
			return strings.Contains(string(b), want)
		}
	}
	waitFor(t, "the log file", contains(logFile, "Server is ready"))
	rotated := logFile + ".1"
	must(t, os.Rename(logFile, rotated))
	must(t, p.cmd.Process.Signal(syscall.SIGUSR1))
	waitFor(t, "a new log file", contains(logFile, "File log re-opened"))
	if b, _ := os.ReadFile(rotated); strings.Contains(string(b), "File log re-opened") {
		t.Fatal("the rotated file got the new lines")
	}
	connect(t, "nats://127.0.0.1:"+port).Close()
	must(t, p.cmd.Process.Signal(syscall.SIGTERM))
	<-p.exited
	waitFor(t, "the exit in the new file", contains(logFile, "Server Exiting"))
}

// A reload reads the TLS certificate files again: after they are replaced (rotation), new
// clients get the new certificate while connected ones stay.
func TestE2EReloadRotatesTLSCertificate(t *testing.T) {
	first, second := newTestPKI(t), newTestPKI(t)
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem")
	install := func(pki *testPKI) {
		for src, dst := range map[string]string{pki.serverCert: cert, pki.serverKey: key} {
			b, err := os.ReadFile(src)
			must(t, err)
			must(t, os.WriteFile(dst, b, 0o600))
		}
	}
	install(first)
	cfg := filepath.Join(dir, "tls.conf")
	conf := "tls {\n  cert_file: \"" + cert + "\"\n  key_file: \"" + key + "\"\n}\n"
	writeConf(t, cfg, conf)
	p := startPetrel(t, "-c", cfg)
	url := "tls://127.0.0.1:" + p.port
	before := connect(t, url, nats.RootCAs(first.caFile))

	install(second)
	p.reloadWith(cfg, conf, "Reloaded server configuration")
	_, err := nats.Connect(url, nats.RootCAs(first.caFile), nats.Timeout(2*time.Second))
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client trusting only the old CA: %v, want a certificate error", err)
	}
	connect(t, url, nats.RootCAs(second.caFile))
	must(t, before.Flush())
}
