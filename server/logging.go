package server

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/petrel-io/petrel/core/env"
)

// logOutput is where log lines go: stderr, or the log file (log_file, -l). SIGUSR1
// reopens the file by its name, so that a rotated-away file is followed by a new one; a
// reload may name another file. Safe for concurrent use.
type logOutput struct {
	mu     sync.Mutex
	stderr io.Writer
	path   string
	file   *os.File
}

func newLogOutput(stderr io.Writer) *logOutput { return &logOutput{stderr: stderr} }

// Write implements io.Writer for the logger.
func (l *logOutput) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file != nil {
		return l.file.Write(p)
	}
	return l.stderr.Write(p)
}

// Use switches the output to the file at path ("" means stderr), opening it for append.
// On error the output is unchanged.
func (l *logOutput) Use(path string) error {
	var f *os.File
	if path != "" {
		var err error
		if f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
	}
	l.mu.Lock()
	old := l.file
	l.path, l.file = path, f
	l.mu.Unlock()
	if old != nil {
		_ = old.Close() // written with no buffer of ours: nothing is lost by a failing close
	}
	return nil
}

// Reopen opens the log file again by its name (after log rotation moved it away).
func (l *logOutput) Reopen() error {
	l.mu.Lock()
	path := l.path
	l.mu.Unlock()
	if path == "" {
		return nil
	}
	return l.Use(path)
}

// Path is the log file's name, or "" for stderr.
func (l *logOutput) Path() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.path
}

// Close closes the log file, if any; later lines go to stderr.
func (l *logOutput) Close() {
	_ = l.Use("") // switching to stderr cannot fail
}

// levelLogger filters by a level a reload can change (debug and trace). The logger below
// it writes every level.
type levelLogger struct {
	inner env.Logger
	min   atomic.Int32
}

func newLevelLogger(inner env.Logger, min env.Level) *levelLogger {
	l := &levelLogger{inner: inner}
	l.min.Store(int32(min))
	return l
}

// Enabled implements env.Logger.
func (l *levelLogger) Enabled(level env.Level) bool { return level >= env.Level(l.min.Load()) }

// Logf implements env.Logger.
func (l *levelLogger) Logf(level env.Level, format string, args ...any) {
	if l.Enabled(level) {
		l.inner.Logf(level, format, args...)
	}
}

// SetLevel changes the least important level written.
func (l *levelLogger) SetLevel(min env.Level) { l.min.Store(int32(min)) }
