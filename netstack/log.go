package netstack

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// logTimeFormat has microseconds so that lines from concurrent executors can be ordered when
// reading a log.
const logTimeFormat = "2006/01/02 15:04:05.000000"

// logger writes one line per message. A mutex serialises the writes so that lines from
// concurrent executors never interleave inside a line.
type logger struct {
	min env.Level
	pid int
	now func() time.Time

	mu sync.Mutex
	w  io.Writer
}

func newLogger(w io.Writer, min env.Level) *logger {
	if w == nil {
		w = os.Stderr
	}
	return &logger{min: min, pid: os.Getpid(), now: time.Now, w: w}
}

// Enabled implements env.Logger.
func (l *logger) Enabled(level env.Level) bool { return level >= l.min }

// Logf implements env.Logger. The line is formatted before taking the lock so that slow
// formatting never holds up other executors' logging.
func (l *logger) Logf(level env.Level, format string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	// A trailing newline from the caller would leave an empty line after the entry.
	msg := strings.TrimSuffix(fmt.Sprintf(format, args...), "\n")
	line := fmt.Sprintf("[%d] %s [%s] %s\n", l.pid, l.now().Format(logTimeFormat), level, msg)
	l.mu.Lock()
	defer l.mu.Unlock()
	// A failing log writer has nowhere to report to; dropping the line is the only option.
	_, _ = io.WriteString(l.w, line)
}
