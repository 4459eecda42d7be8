package netstack

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// Uint64 is used from many executors at once; the race detector checks the locking.
func TestRandConcurrentAndInRange(t *testing.T) {
	r := newRand()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				r.Uint64()
				if v := r.Intn(7); v < 0 || v >= 7 {
					t.Errorf("Intn(7) = %d", v)
				}
			}
		}()
	}
	wg.Wait()
}

func TestRandIntnRejectsNonPositive(t *testing.T) {
	defer func() {
		if _, ok := recover().(env.AssertionError); !ok {
			t.Fatal("Intn(0) did not panic with an AssertionError")
		}
	}()
	newRand().Intn(0)
}

func TestRandFill(t *testing.T) {
	r := newRand()
	a, b := make([]byte, 64), make([]byte, 64)
	r.Fill(a)
	r.Fill(b)
	if bytes.Equal(a, make([]byte, 64)) || bytes.Equal(a, b) {
		t.Fatalf("Fill produced %x then %x", a, b)
	}
}

func TestLoggerFormatAndLevel(t *testing.T) {
	var buf bytes.Buffer
	l := newLogger(&buf, env.LevelInfo)
	l.Logf(env.LevelDebug, "hidden")
	l.Logf(env.LevelInfo, "hello %d\n", 42)
	l.Logf(env.LevelError, "bad")
	line := regexp.MustCompile(`^\[\d+\] \d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d{6} \[(INF|ERR)\] (.*)$`)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %q", len(lines), buf.String())
	}
	for i, want := range []string{"hello 42", "bad"} {
		m := line.FindStringSubmatch(lines[i])
		if m == nil || m[2] != want {
			t.Fatalf("line %d = %q, want message %q", i, lines[i], want)
		}
	}
	if l.Enabled(env.LevelDebug) || !l.Enabled(env.LevelWarn) {
		t.Fatal("Enabled disagrees with the minimum level")
	}
}
