package conf

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors, reached with errors.Is through an *Error.
var (
	// ErrSyntax classifies malformed input: unterminated strings, maps and arrays, stray
	// characters, bad escapes, numbers out of range.
	ErrSyntax = errors.New("conf: syntax error")
	// ErrUndefined classifies a $NAME defined neither in an enclosing block nor in the
	// environment.
	ErrUndefined = errors.New("conf: undefined variable")
	// ErrIncludeCycle classifies an include of a file that is already being included.
	ErrIncludeCycle = errors.New("conf: include cycle")
	// ErrLimit classifies input past one of the limits in limits.go.
	ErrLimit = errors.New("conf: limit exceeded")
	// ErrType classifies a value of the wrong kind or form for an As* helper.
	ErrType = errors.New("conf: wrong type")
	// ErrInvalid classifies the errors callers make with Value.Errorf.
	ErrInvalid = errors.New("conf: invalid value")
)

// Pos is where something was written: the file name as given to Parse or as resolved for
// an include, the line (from 1) and the column (from 1, counting UTF-8 characters; a tab
// is one column).
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats the position as file:line:col, or line:col when the file has no name.
func (p Pos) String() string {
	lc := strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	if p.File == "" {
		return lc
	}
	return p.File + ":" + lc
}

// Error is every error this package returns from parsing (except failing to read the file
// given to ParseFile) and from the As* helpers.
type Error struct {
	Pos Pos
	// Key is the dotted path of the value concerned ("jetstream.max_mem",
	// "authorization.users[1].password"), or "" when the error is not about one value.
	Key string
	// Msg says what is wrong, for people.
	Msg string
	// Err classifies the error: one of the sentinels above, or the include reader's error
	// (so errors.Is(err, fs.ErrNotExist) finds a missing include).
	Err error
}

// Error formats the error as file:line:col: key: msg (without "key: " when Key is empty).
func (e *Error) Error() string {
	if e.Key == "" {
		return e.Pos.String() + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Key + ": " + e.Msg
}

// Unwrap returns the classifying error.
func (e *Error) Unwrap() error { return e.Err }

func errorf(pos Pos, key string, class error, format string, args ...any) *Error {
	return &Error{Pos: pos, Key: key, Msg: fmt.Sprintf(format, args...), Err: class}
}
