package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/netstack"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// logLines is a log writer that also hands each line to a channel, so tests wait for a log
// line instead of polling the output.
type logLines struct {
	mu    sync.Mutex
	all   bytes.Buffer
	lines chan string
}

func newLogLines() *logLines { return &logLines{lines: make(chan string, 1024)} }

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	for _, line := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		select {
		case l.lines <- line:
		default: // never block the logger; a test waiting on a dropped line times out loudly
		}
	}
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.all.String()
}

// waitLine reads lines until one contains want, or fails at the deadline.
func waitLine(t *testing.T, lines <-chan string, want string) string {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line containing %q", want)
			}
			if strings.Contains(line, want) {
				return line
			}
		case <-deadline:
			t.Fatalf("timed out waiting for a line containing %q", want)
		}
	}
}

// expectEOF reads from nc until the server closes it; the protocol's INFO and PINGs may
// come first, but nothing may be left unread at EOF but whole lines.
func expectEOF(t *testing.T, nc net.Conn) {
	t.Helper()
	must(t, nc.SetReadDeadline(time.Now().Add(testTimeout)))
	got, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("read until shutdown: %v (after %q)", err, got)
	}
	if len(got) > 0 && !strings.HasSuffix(string(got), "\r\n") {
		t.Fatalf("connection ended mid-line: %q", got)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsBadPort(t *testing.T) {
	e := netstack.NewEnv("t", netstack.Options{LogWriter: io.Discard})
	for _, port := range []int{-2, 65536} {
		if _, err := New(Options{Core: core.Options{Port: port}}, e); err == nil {
			t.Errorf("port %d accepted", port)
		}
	}
}

func TestLogLevel(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		want env.Level
	}{{Options{}, env.LevelInfo}, {Options{Debug: true}, env.LevelDebug}, {Options{Trace: true}, env.LevelTrace}} {
		if got := LogLevel(tc.opts); got != tc.want {
			t.Errorf("LogLevel(%+v) = %v, want %v", tc.opts, got, tc.want)
		}
	}
}

// In process: the server listens, accepts and tracks clients, forgets one that leaves, and
// Shutdown closes the rest cleanly, once.
func TestServerStartAcceptShutdown(t *testing.T) {
	logs := newLogLines()
	e := netstack.NewEnv("t", netstack.Options{
		LogWriter: logs,
		LogLevel:  env.LevelDebug,
		Halt:      func(err error) { t.Errorf("halt: %v", err) },
	})
	s, err := New(Options{Core: core.Options{Host: "127.0.0.1"}}, e)
	must(t, err)
	must(t, s.Start())
	addr := s.Addr()
	waitLine(t, logs.lines, "Listening for client connections on "+addr)
	waitLine(t, logs.lines, "Server is ready")
	if err := s.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}

	leaver, err := net.Dial("tcp", addr)
	must(t, err)
	waitLine(t, logs.lines, leaver.LocalAddr().String()+" - cid:1 - Client connection created")
	must(t, leaver.Close())
	waitLine(t, logs.lines, leaver.LocalAddr().String()+" - cid:1 - Client connection closed")

	stayer, err := net.Dial("tcp", addr)
	must(t, err)
	defer stayer.Close()
	waitLine(t, logs.lines, stayer.LocalAddr().String()+" - cid:2 - Client connection created")
	_, err = stayer.Write([]byte("CONNECT {\"verbose\":false}\r\n"))
	must(t, err)

	s.Shutdown()
	s.Shutdown()
	expectEOF(t, stayer)
	if n := strings.Count(logs.String(), "Server Exiting.."); n != 1 {
		t.Fatalf("logged Server Exiting %d times", n)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Fatal("dial succeeded after Shutdown")
	}
}

// freePort returns a loopback port nothing listens on (a small race with other processes
// is accepted: the test then fails at start-up, loudly).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	must(t, err)
	return port
}

// buildPetrel compiles cmd/petrel into a temporary directory.
func buildPetrel(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool in PATH to build the binary")
	}
	bin := filepath.Join(t.TempDir(), "petrel")
	out, err := exec.Command(gobin, "build", "-o", bin, "../cmd/petrel").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// End to end: the real binary starts, accepts a raw client, and on SIGTERM closes it, says
// so and exits 0.
func TestBinaryStartsAndStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildPetrel(t)
	port := freePort(t)
	cmd := exec.Command(bin, "-a", "127.0.0.1", "-p", port, "-D")
	stderr, err := cmd.StderrPipe()
	must(t, err)
	must(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // a no-op once it has exited

	var output strings.Builder // written by the reader goroutine until lines is closed
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			output.WriteString(sc.Text() + "\n")
			lines <- sc.Text()
		}
	}()
	waitLine(t, lines, "Server is ready")

	nc, err := net.Dial("tcp", "127.0.0.1:"+port)
	must(t, err)
	defer nc.Close()
	waitLine(t, lines, nc.LocalAddr().String()+" - cid:1 - Client connection created")

	must(t, cmd.Process.Signal(syscall.SIGTERM))
	expectEOF(t, nc)
	waitLine(t, lines, "Server Exiting")
	for range lines { // stderr closes when the process exits; Wait must come after reading
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("petrel exited with %v; output:\n%s", err, output.String())
		}
	case <-time.After(testTimeout):
		t.Fatalf("petrel did not exit after SIGTERM; output:\n%s", output.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
