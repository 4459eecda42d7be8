package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type server struct {
	name string
	bin  string
}

// profileDir, when set, is where each petrel run writes its CPU profile.
var profileDir string

// profiles numbers the profile files of one run.
var profiles atomic.Int64

type running struct {
	profiled bool // stop with SIGTERM, so the CPU profile is written out
	cmd      *exec.Cmd
	url      string
	monitor  string // "http://127.0.0.1:port"
}

// handedOut is every port freePort returned in this run: the kernel may offer a port
// again once its probe closed, before the server it was meant for binds it (a cluster's
// ports are picked before its nodes start).
var handedOut sync.Map

// freePort picks a loopback port nothing listens on now, and none picked before.
func freePort() (int, error) {
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if _, dup := handedOut.LoadOrStore(port, true); !dup {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no fresh loopback port in 100 tries")
}

// start runs the binary on free loopback ports (clients and monitoring) and waits for it
// to accept.
func (s server) start(args ...string) (*running, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	args = append(args, "-a", "127.0.0.1", "-p", fmt.Sprint(port), "-m", fmt.Sprint(mport))
	profiled := profileDir != "" && s.name == "petrel"
	if profiled {
		file := filepath.Join(profileDir, fmt.Sprintf("petrel-%03d.pprof", profiles.Add(1)))
		args = append(args, "--profile_cpu", file)
		fmt.Fprintf(os.Stderr, "profile: %s\n", file)
	}
	cmd := exec.Command(s.bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.bin, err)
	}
	ready, ended := make(chan struct{}), make(chan struct{})
	var last string // the last line before readiness, to say why a start failed
	go func() {
		defer close(ended)
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			if !signalled {
				last = sc.Text()
			}
			if !signalled && strings.Contains(sc.Text(), "Server is ready") {
				close(ready)
				signalled = true
			}
		}
	}()
	select {
	case <-ready:
	case <-ended:
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s exited before it was ready: %s", s.name, last)
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("%s did not become ready", s.name)
	}
	return &running{profiled: profiled, cmd: cmd, url: fmt.Sprintf("nats://127.0.0.1:%d", port), monitor: fmt.Sprintf("http://127.0.0.1:%d", mport)}, nil
}

// rssMiB is the process's resident memory now, from /proc (0 where there is none).
func (r *running) rssMiB() float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func (r *running) stop() {
	if r.profiled {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = r.cmd.Wait(); close(done) }()
		select {
		case <-done:
			return
		case <-time.After(30 * time.Second):
		}
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
}
