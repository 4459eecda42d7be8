package server

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/netstack"
)

// The configuration files of testdata/conf/refuse are each refused, as nats-server refuses
// them, and those of testdata/conf/accept (nats-server files) each start Petrel. natsT says
// whether `nats-server -t` refuses the file too; the others it accepts under -t but refuses
// to start with, and Petrel refuses them already under -t (it checks everything start-up
// checks). When nats-server is installed (NATS_SERVER_BIN, or nats-server in PATH), the
// test asks it too.
var refusedConfigs = []struct {
	file, want string
	natsT      bool
}{
	{"unknown-key", `3:1: unknown field "frobnicate"`, true},
	{"unknown-key-in-authorization", `3:3: unknown field "tokn"`, true},
	{"unknown-key-in-tls", `4:3: error parsing tls config, unknown field "verfy"`, true},
	{"unknown-permission", `2:51: Unknown field "publsh" parsing permissions`, true},
	{"unknown-subject-permission", `Unknown field name "dney" parsing subject permissions, only 'allow' or 'deny' are permitted`, true},
	{"user-account-field", `3:36: unknown field "account"`, true},
	{"lame-duck-short", "1:21: invalid lame_duck_duration of 29s, minimum is 30 seconds", true},
	{"lame-duck-grace-equal", "3:25: lame duck grace period (30s) should be strictly lower than lame duck duration (30s)", false},
	{"lame-duck-grace-over-default", "lame duck grace period (3m0s) should be strictly lower than lame duck duration (2m0s)", false},
	{"user-and-users", "1:15: Can not have a single user/pass and a users array", true},
	{"token-and-users", "Can not have a token and a users array", true},
	{"token-and-user", "Cannot have a user/pass and token", true},
	{"duplicate-user", `4:5: Duplicate user "a" detected`, true},
	{"duplicate-nkey", `Duplicate nkey "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4" detected`, true},
	{"bad-nkey", "Not a valid public nkey for a user", true},
	{"user-without-name", "User entry requires a user", true},
	{"bad-permission-subject", `subject "foo..bar" is not a valid subject`, true},
	{"bad-allow-responses", "error parsing response permissions, expected a boolean or a map", true},
	{"no-auth-user-unknown", `4:15: no_auth_user: "c" not present as user or nkey in authorization block or account configuration`, false},
	{"no-auth-user-without-users", `no_auth_user: "c" present, but users/nkeys are not defined`, false},
	{"max-payload-over-pending", "1:14: max_payload (104857600) cannot be higher than max_pending (67108864)", false},
	{"ping-interval-bare-number", `2:16: ping_interval: invalid use of field "ping_interval": ping_interval should be converted to a duration`, true},
	{"duration-bare-size", "lame_duck_duration should be converted to a duration", true},
	{"quoted-port", "port: expected a port", true},
	{"quoted-bool", "debug: expected a boolean", true},
	{"numeric-password", "authorization.users[0].password: expected a string, got 123", true},
	{"server-name-space", "server name cannot contain spaces", true},
	{"tls-missing-key", "missing 'key_file' in TLS configuration", true},
	{"tls-missing-files", "/nonexistent/cert.pem: no such file or directory", true},
	{"bad-sync-interval", `error parsing sync_interval: time: invalid duration "often"`, true},
	{"connection-types", `invalid connection types ["TELNET"]`, true},
	{"system-account-missing", "error resolving system account: account missing", false},
	{"port-out-of-range", "port: 70000 is out of range", false},
	{"bad-tags", "error parsing tags: unsupported type int", true},
	{"write-timeout", "write_timeout must be 'default', 'close' or 'retry'", true},
	{"cluster-unknown-key", `4:3: unknown field "pool"`, true},
	{"cluster-name-space", "3:9: cluster name cannot contain spaces", true},
	{"cluster-auth-token", "4:17: Cluster authorization does not support tokens", true},
	{"cluster-auth-users", "4:17: Cluster authorization does not allow multiple users", true},
	{"cluster-route-url", `4:43: error parsing route url ["10.0.0.2:6222"]`, true},
	{"cluster-listen", `3:11: could not parse address string "10.0.0.1"`, true},
	{"cluster-tls-missing-key", "4:7: missing 'key_file' in TLS configuration", true},
	{"cluster-compression-kind", `4:16: field "compression" should be a boolean or a structure, got 1`, true},
	{"cluster-compression-mode", `4:16: unsupported compression mode "s2_fastest"`, false},
	{"cluster-rtt-order", "4:16: RTT threshold values [50ms 10ms] should be in ascending order", false},
	{"cluster-pinned-no-pool", "3:9: pool_size cannot be negative if pinned accounts are specified", false},
	{"cluster-pinned-duplicate", `3:9: found duplicate account name "A" in pinned accounts list ["A" "A" "$SYS"]`, false},
	{"cluster-advertise-colons", "5:14: Error setting route INFO with Cluster.Advertise value of nats://east.example:6222", false},
	{"cluster-client-port", "4:9: cluster port 14222 is the client port", false},
}

func resolveFile(path string) (Options, []string, error) {
	return (&cli{opts: Options{ConfigFile: path}, set: map[string]bool{}}).resolve()
}

// natsServer is the nats-server binary to compare with, or "".
func natsServer() string {
	if bin := os.Getenv("NATS_SERVER_BIN"); bin != "" {
		return bin
	}
	bin, _ := exec.LookPath("nats-server") // not installed: Petrel alone is tested
	return bin
}

// natsServerAccepts runs `nats-server -t` on a file.
func natsServerAccepts(t *testing.T, bin, path string) (bool, string) {
	t.Helper()
	out, err := exec.Command(bin, "-t", "-c", path).CombinedOutput()
	return err == nil, string(out)
}

func TestConfigRefusals(t *testing.T) {
	dir := filepath.Join("..", "testdata", "conf", "refuse")
	files, err := filepath.Glob(filepath.Join(dir, "*.conf"))
	must(t, err)
	listed := map[string]bool{}
	bin := natsServer()
	for _, tc := range refusedConfigs {
		listed[tc.file+".conf"] = true
		path := filepath.Join(dir, tc.file+".conf")
		_, _, err := resolveFile(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), path+":") {
			t.Errorf("%s: error %v; want it at a position in the file, containing %q", tc.file, err, tc.want)
		}
		if bin == "" {
			continue
		}
		if ok, out := natsServerAccepts(t, bin, path); ok == tc.natsT {
			t.Errorf("%s: nats-server -t accepted %v, the table says %v: %s", tc.file, ok, !tc.natsT, out)
		}
	}
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s has no entry in the table", f)
		}
	}
}

func TestConfigAccepted(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "conf", "accept", "*.conf"))
	must(t, err)
	files = append(files, filepath.Join("..", "testdata", "conf", "nats-server.conf"))
	sort.Strings(files)
	bin := natsServer()
	e := netstack.NewEnv("t", netstack.Options{LogWriter: io.Discard})
	for _, f := range files {
		opts, _, err := resolveFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if _, err := New(opts, e); err != nil {
			t.Errorf("%s: the server would not start: %v", f, err)
		}
		if bin != "" {
			if ok, out := natsServerAccepts(t, bin, f); !ok {
				t.Errorf("%s: nats-server -t refuses it: %s", f, out)
			}
		}
	}
}

// A negative limit nats-server accepts is accepted with a warning, and Petrel's default
// stays.
func TestConfigNegativeLimitsWarn(t *testing.T) {
	opts, warnings, err := resolveFile(filepath.Join("..", "testdata", "conf", "accept", "negative-limits.conf"))
	must(t, err)
	if opts.Core.MaxPayload != 0 || opts.Core.MaxConnections != 0 || opts.Core.MaxSubscriptions != 0 || len(warnings) != 5 {
		t.Fatalf("options %+v, warnings %q", opts.Core, warnings)
	}
	if !strings.Contains(warnings[0], "negative-limits.conf:3:14: -1 is not a limit Petrel applies") {
		t.Fatalf("warning %q", warnings[0])
	}
}
