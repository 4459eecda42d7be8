package env

import "fmt"

// Level orders log messages by importance.
type Level int

// Log levels, least important first.
const (
	LevelTrace Level = iota
	LevelDebug
	LevelInfo
	LevelWarn
	LevelError
)

var levelNames = [...]string{"TRC", "DBG", "INF", "WRN", "ERR"}

func (l Level) String() string {
	if l < LevelTrace || l > LevelError {
		return fmt.Sprintf("L%d", int(l))
	}
	return levelNames[l]
}

// Logger takes the node's log lines. It must be safe for concurrent use. Implementations may
// drop levels they are not configured for; callers on hot paths check Enabled first.
type Logger interface {
	Logf(level Level, format string, args ...any)
	Enabled(level Level) bool
}
