package server

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// --signal with a fake process table: nats-server's forms, signals and messages (observed
// with nats-server v2.15.2 --signal; its no-pid forms were run in a fresh pid namespace).
func TestSendSignal(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "petrel.pid")
	must(t, os.WriteFile(pidFile, []byte("4242\n"), 0o600))
	badFile := filepath.Join(dir, "bad.pid")
	must(t, os.WriteFile(badFile, []byte("xx"), 0o600))
	noMatch := &exec.ExitError{} // pgrep's exit status 1: no process matched
	cases := []struct {
		name, arg string
		running   string
		pgrepErr  error
		want      []string // "pid signal" of each kill
		err       string
	}{
		{"reload one running", "reload", "4242\n", nil, []string{"4242 hangup"}, ""},
		{"each command's signal", "stop=7", "", nil, []string{"7 killed"}, ""},
		{"quit", "quit=7", "", nil, []string{"7 interrupt"}, ""},
		{"term", "term=7", "", nil, []string{"7 terminated"}, ""},
		{"reopen", "reopen=7", "", nil, []string{"7 user defined signal 1"}, ""},
		{"ldm", "ldm=7", "", nil, []string{"7 user defined signal 2"}, ""},
		{"pid file", "reload=" + pidFile, "", nil, []string{"4242 hangup"}, ""},
		{"pid file without a pid", "reload=" + badFile, "", nil, nil, "invalid pid: xx"},
		{"missing pid file is a pid", "reload=/nonexistent/pid", "", nil, nil, "invalid pid: /nonexistent/pid"},
		{"bad pid", "reload=abc", "", nil, nil, "invalid pid: abc"},
		{"too many =", "reload=1=2", "", nil, nil, "invalid signal parameters: [2]"},
		{"unknown command", "foo=7", "", nil, nil, `unknown signal "foo"`},
		{"none running", "reload", "", noMatch, nil, "no petrel processes running"},
		{"empty pid means any", "ldm=", "", noMatch, nil, "no petrel processes running"},
		{"several running", "reload", "11\n12\n", nil, nil, "multiple petrel processes running:\n11\n12"},
		{"this process is not a target", "reload", "99\n12\n", nil, []string{"12 hangup"}, ""},
		{"glob", "reload=1*", "11\n12\n23\n", nil, []string{"11 hangup", "12 hangup"}, ""},
		{"no pgrep", "reload", "", errors.New("exec: pgrep: not found"), nil, "unable to resolve pid, try providing one"},
		{"kill fails", "reload=13", "", nil, nil, "\nsignal \"reload\" 13: no such process"},
	}
	for _, tc := range cases {
		var killed []string
		sg := signaller{
			pgrep: func() ([]byte, error) { return []byte(tc.running), tc.pgrepErr },
			kill: func(pid int, sig syscall.Signal) error {
				if pid == 13 {
					return syscall.ESRCH
				}
				killed = append(killed, strconv.Itoa(pid)+" "+sig.String())
				return nil
			},
			self: 99,
		}
		err := sg.sendSignal(tc.arg)
		if (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
		if strings.Join(killed, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: signalled %q, want %q", tc.name, killed, tc.want)
		}
	}
}
