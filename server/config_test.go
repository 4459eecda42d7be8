package server

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/petrel-io/petrel/core/auth"
)

// A configuration file written for nats-server (checked with `nats-server -t` when it was
// written) starts Petrel unchanged, and its options take effect.
func TestE2ENatsServerConfigFile(t *testing.T) {
	p := startPetrel(t, "-c", "../testdata/conf/nats-server.conf")
	admin := connect(t, p.url(), nats.UserInfo("admin", "s3cret"))
	if admin.MaxPayload() != 512<<10 || admin.ConnectedServerName() != "petrel-conf-test" {
		t.Fatalf("max_payload %d, name %q", admin.MaxPayload(), admin.ConnectedServerName())
	}
	if _, err := nats.Connect(p.url(), nats.UserInfo("admin", "nope"), nats.Timeout(testTimeout)); !errors.Is(err, nats.ErrAuthorization) {
		t.Fatalf("wrong password: %v", err)
	}

	// The bcrypt user's permissions: allowed and denied publishes, a denied subscription.
	errs := make(chan error, 10)
	client := connect(t, p.url(), nats.UserInfo("client", "client-pass"),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	watch, err := admin.SubscribeSync("orders.>")
	must(t, err)
	must(t, admin.Flush())
	must(t, client.Publish("orders.new", []byte("ok")))
	must(t, client.Publish("orders.secret", []byte("no")))
	expectPermissionError(t, errs, `publish to "orders.secret"`)
	if m := next(t, watch); string(m.Data) != "ok" {
		t.Fatalf("got %q", m.Data)
	}
	none(t, admin, watch)
	_, err = client.SubscribeSync("other")
	must(t, err)
	expectPermissionError(t, errs, `subscription to "other"`)

	// allow_responses: the service may answer requests although it may not publish there.
	service := connect(t, p.url(), nats.UserInfo("service", "svc"))
	_, err = service.Subscribe("svc.time", func(m *nats.Msg) { must(t, m.Respond([]byte("now"))) })
	must(t, err)
	must(t, service.Flush())
	resp, err := admin.Request("svc.time", nil, testTimeout)
	if err != nil || string(resp.Data) != "now" {
		t.Fatalf("request through allow_responses: %v %v", resp, err)
	}
}

func expectPermissionError(t *testing.T, errs <-chan error, want string) {
	t.Helper()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) || !strings.Contains(strings.ToLower(err.Error()), want) {
			t.Fatalf("error %v, want a permissions violation for %s", err, want)
		}
	case <-time.After(testTimeout):
		t.Fatalf("no permissions violation for %s", want)
	}
}

// Bad values and unknown keys fail start-up with the file, line, column and key; blocks of
// features not built yet only warn.
func TestConfigErrorsNamePosition(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		must(t, os.WriteFile(path, []byte(text), 0o600))
		return path
	}
	cases := []struct{ text, want string }{
		{"port: 4222\nmax_payload: lots\n", "bad.conf:2:14: max_payload: expected a size"},
		{"ping_interval: \"soon\"\n", "bad.conf:1:16: ping_interval: expected a duration"},
		{"authorization {\n  users = [ { password: x } ]\n}\n", "bad.conf:2:13"},
		{"listen: \"nowhere\"\n", "bad.conf:1:9: listen"},
		{"tls {\n  verify: maybe\n}\n", "bad.conf:2:11: error parsing tls config, expected 'verify' to be a boolean"},
		{"port: 1\nfrobnicate: yes\n", `bad.conf:2:1: unknown field "frobnicate"`},
		{"debug: [1, 2\n", "bad.conf:"},
	}
	for _, c := range cases {
		cl := &cli{opts: Options{ConfigFile: write("bad.conf", c.text)}}
		_, _, err := cl.resolve()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.text, err, c.want)
		}
	}
	cl := &cli{opts: Options{ConfigFile: write("warn.conf", "port: 1\ngateway { port: 7222 }\n")}}
	opts, warnings, err := cl.resolve()
	if err != nil || opts.Core.Port != 1 {
		t.Fatalf("resolve: %v", err)
	}
	joined := strings.Join(warnings, "\n")
	if !strings.Contains(joined, "warn.conf:2:9: gateway: gateways are not supported yet") {
		t.Fatalf("warnings: %q", warnings)
	}
}

// Command-line flags override the file.
func TestFlagsOverrideConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "o.conf")
	must(t, os.WriteFile(path, []byte("port: 1111\nserver_name: fromfile\ndebug: true\nauthorization { token: filetoken }\n"), 0o600))
	c, err := parseFlags([]string{"-c", path, "-p", "2222", "--auth", "flagtoken"}, os.Stderr)
	must(t, err)
	opts, _, err := c.resolve()
	must(t, err)
	if opts.Core.Port != 2222 || opts.Core.ServerName != "fromfile" || !opts.Debug || opts.Core.Auth.Token != "flagtoken" {
		t.Fatalf("merged options: port %d name %q debug %v token %q", opts.Core.Port, opts.Core.ServerName, opts.Debug, opts.Core.Auth.Token)
	}
}

func TestConfigPermissionsShapes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.conf")
	must(t, os.WriteFile(path, []byte(`authorization {
  default_permissions { subscribe: { deny: ">" } }
  users = [
    { user: a, password: a }
    { user: b, password: b, permissions { publish: ["x", "y"], subscribe { allow: "z.>" , deny: ["z.no"] } } }
  ]
}
`), 0o600))
	opts, _, err := (&cli{opts: Options{ConfigFile: path}}).resolve()
	must(t, err)
	users := opts.Core.Auth.Users
	if len(users) != 2 {
		t.Fatalf("users: %+v", users)
	}
	want := map[string]func(*auth.Permissions) bool{
		"a": func(p *auth.Permissions) bool { return p != nil && !p.CanSubscribe("q", "") && p.CanPublish("any") },
		"b": func(p *auth.Permissions) bool {
			return p.CanPublish("y") && !p.CanPublish("w") && p.CanSubscribe("z.a", "") && !p.CanSubscribe("z.no", "")
		},
	}
	for _, u := range users {
		if !want[u.Name](u.Permissions) {
			t.Errorf("user %s permissions %+v", u.Name, u.Permissions)
		}
	}
}

// The binary's -t checks a file and exits without serving.
func TestConfigTestFlag(t *testing.T) {
	out, err := exec.Command(petrelBinary(t), "-c", "../testdata/conf/nats-server.conf", "-t").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "is valid (sha256:") {
		t.Fatalf("-t: %v\n%s", err, out)
	}
}

// A variable defined inside a block is a definition, not an option, even when its name is
// an option of that block ("PASS" in authorization).
func TestConfigBlockVariableIsNotAnOption(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.conf")
	must(t, os.WriteFile(path, []byte("authorization {\n  PASS = \"s3cret\"\n  users = [ { user: a, password: $PASS } ]\n}\n"), 0o600))
	opts, warnings, err := (&cli{opts: Options{ConfigFile: path}}).resolve()
	must(t, err)
	if users := opts.Core.Auth.Users; len(users) != 1 || users[0].Name != "a" || users[0].Password != "s3cret" || len(warnings) != 0 {
		t.Fatalf("users %+v, warnings %q", users, warnings)
	}
}
