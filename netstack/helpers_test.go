package netstack

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// testTimeout bounds every wait, so a broken contract fails a test instead of hanging it.
const testTimeout = 10 * time.Second

// waitFor receives one value from ch or fails the test at the deadline.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// runOn runs fn on ex and waits for it to finish.
func runOn(t *testing.T, ex env.Executor, fn func()) {
	t.Helper()
	done := make(chan struct{})
	ex.Post(func() {
		defer close(done)
		fn()
	})
	waitFor(t, done, "a function posted to the executor")
}

// lockedBuffer collects log output written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestEnv returns an Env whose log goes to a buffer and whose halt fails the test.
func newTestEnv(t *testing.T) (*env.Env, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	e := NewEnv("test", Options{
		LogWriter: logs,
		LogLevel:  env.LevelDebug,
		Halt:      func(err error) { t.Errorf("unexpected halt: %v", err) },
	})
	return e, logs
}
