package server

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// `petrel --signal <command>[=<pid|pidfile>]` (-sl) sends a running Petrel the signal a
// command stands for, with nats-server's commands, forms and messages:
//
//	command  signal   what the server does
//	stop     SIGKILL  dies at once
//	quit     SIGINT   shuts down
//	term     SIGTERM  shuts down (ignored during lame duck)
//	reopen   SIGUSR1  reopens its log file
//	reload   SIGHUP   reloads its configuration file
//	ldm      SIGUSR2  enters lame duck mode
//
// Without a pid, the one running petrel process is found with pgrep; a pid ending in '*'
// signals every running petrel whose pid starts with it. A pid that names a readable file
// is a pid file: its content is the pid.

// processName is what pgrep looks for. It is matched exactly (pgrep -x), where
// nats-server's pattern also matches longer names (petrel-sim, petrel-bench).
const processName = "petrel"

var commandSignals = map[string]syscall.Signal{
	"stop": syscall.SIGKILL, "quit": syscall.SIGINT, "term": syscall.SIGTERM,
	"reopen": syscall.SIGUSR1, "reload": syscall.SIGHUP, "ldm": syscall.SIGUSR2,
}

// signaller is the process table: injected so that tests never signal real processes.
type signaller struct {
	pgrep func() ([]byte, error)
	kill  func(pid int, sig syscall.Signal) error
	self  int
}

func osSignaller() signaller {
	return signaller{
		pgrep: func() ([]byte, error) { return exec.Command("pgrep", "-x", processName).Output() },
		kill:  syscall.Kill,
		self:  os.Getpid(),
	}
}

// sendSignal carries out --signal's argument.
func (sg signaller) sendSignal(arg string) error {
	command, target, hasTarget := strings.Cut(arg, "=")
	if hasTarget && strings.Contains(target, "=") {
		return fmt.Errorf("invalid signal parameters: %v", strings.Split(target, "=")[1:])
	}
	if hasTarget {
		target = readPidFile(target)
	}
	prefix, glob := strings.CutSuffix(target, "*")
	if prefix != "" {
		if _, err := strconv.Atoi(prefix); err != nil {
			return fmt.Errorf("invalid pid: %s", prefix)
		}
	}
	pids := []int{}
	if prefix == "" || glob {
		var err error
		if pids, err = sg.running(); err != nil {
			return err
		}
		if len(pids) > 1 && !glob {
			return fmt.Errorf("multiple %s processes running:\n%s", processName, joinPids(pids))
		}
		if len(pids) == 0 {
			return fmt.Errorf("no %s processes running", processName)
		}
	} else {
		pid, _ := strconv.Atoi(prefix) // checked above
		pids = append(pids, pid)
	}
	sig, ok := commandSignals[command]
	if !ok {
		return fmt.Errorf("unknown signal %q", command)
	}
	var failures []string
	for _, pid := range pids {
		if glob && !strings.HasPrefix(strconv.Itoa(pid), prefix) {
			continue
		}
		if err := sg.kill(pid, sig); err != nil {
			failures = append(failures, fmt.Sprintf("\nsignal %q %d: %s", command, pid, err))
		}
	}
	if len(failures) > 0 {
		return errors.New(strings.Join(failures, ""))
	}
	return nil
}

// readPidFile returns the content of the file target names, or target itself when it
// names no readable file. Surrounding white space is dropped (nats-server keeps it, and
// then refuses a pid file that ends in a newline).
func readPidFile(target string) string {
	b, err := os.ReadFile(target)
	if err != nil {
		return target
	}
	return strings.TrimSpace(string(b))
}

// running lists the pids of the running petrel processes other than this one.
func (sg signaller) running() ([]int, error) {
	out, err := sg.pgrep()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) { // pgrep exits 1 when nothing matches
		return nil, errors.New("unable to resolve pid, try providing one")
	}
	var pids []int
	for _, field := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			return nil, errors.New("unable to resolve pid, try providing one")
		}
		if pid != sg.self {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func joinPids(pids []int) string {
	s := make([]string, len(pids))
	for i, p := range pids {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, "\n")
}
