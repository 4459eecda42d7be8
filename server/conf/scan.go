package conf

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner walks one file's bytes and keeps the line and column of its offset. The parser
// drives it token by token because what a token is depends on where it stands: "a:b" is a
// key and a value in key position but one string in value position.
type scanner struct {
	file string
	data []byte
	off  int
	line int
	col  int
}

func newScanner(file string, data []byte) *scanner {
	s := &scanner{file: file, data: data, line: 1, col: 1}
	// A UTF-8 byte order mark is not part of the text (editors on Windows add one).
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		s.off = 3
	}
	return s
}

func (s *scanner) eof() bool { return s.off >= len(s.data) }

// peek returns the byte at the offset; callers check eof first.
func (s *scanner) peek() byte { return s.data[s.off] }

func (s *scanner) at(c byte) bool { return s.off < len(s.data) && s.data[s.off] == c }

func (s *scanner) pos() Pos { return Pos{File: s.file, Line: s.line, Col: s.col} }

// advance moves past one byte. Columns count characters, so UTF-8 continuation bytes do
// not move the column.
func (s *scanner) advance() {
	c := s.data[s.off]
	s.off++
	switch {
	case c == '\n':
		s.line++
		s.col = 1
	case c < 0x80 || c >= 0xC0:
		s.col++
	}
}

func (s *scanner) advanceTo(off int) {
	for s.off < off {
		s.advance()
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// skipSpace skips blanks within a line.
func (s *scanner) skipSpace() {
	for !s.eof() && isSpace(s.peek()) {
		s.advance()
	}
}

// atComment reports whether a comment starts here. Comments start only where a token
// could, so "nats://host" and "a#b" inside a word are text.
func (s *scanner) atComment() bool {
	if s.eof() {
		return false
	}
	c := s.peek()
	return c == '#' || (c == '/' && s.off+1 < len(s.data) && s.data[s.off+1] == '/')
}

// skipComment skips to the end of the line, leaving the newline.
func (s *scanner) skipComment() {
	for !s.eof() && s.peek() != '\n' {
		s.advance()
	}
}

// skipGap skips everything that may stand between two entries or elements: blanks,
// comments, newlines and the separators ',' and ';'.
func (s *scanner) skipGap() {
	for !s.eof() {
		switch c := s.peek(); {
		case isSpace(c) || c == '\n' || c == ',' || c == ';':
			s.advance()
		case s.atComment():
			s.skipComment()
		default:
			return
		}
	}
}

// atValueEnd reports whether the offset is where a value may end: end of input, a
// newline, a separator, or the close of the enclosing map or array.
func (s *scanner) atValueEnd() bool {
	if s.eof() {
		return true
	}
	switch s.peek() {
	case '\n', ',', ';', '}', ']':
		return true
	}
	return false
}

func isControl(c byte) bool { return (c < 0x20 && c != '\t') || c == 0x7f }

// word scans a bare word up to a character in stop or a blank. It returns what it found
// and, for a control character inside the word, the position of the offending byte.
func (s *scanner) word(stop string) (string, *Error) {
	start := s.off
	for !s.eof() {
		c := s.peek()
		if isSpace(c) || c == '\n' || strings.IndexByte(stop, c) >= 0 {
			break
		}
		if isControl(c) {
			return "", errorf(s.pos(), "", ErrSyntax, "control character %q is not allowed here", c)
		}
		s.advance()
	}
	return string(s.data[start:s.off]), nil
}

// bareValueStop ends an unquoted value; keyStop ends an unquoted key.
const (
	bareValueStop = ",;}]"
	keyStop       = "=:{}[],;"
)

// singleQuoted scans '...' raw: no escapes, no newlines.
func (s *scanner) singleQuoted(key string) (string, *Error) {
	open := s.pos()
	s.advance()
	start := s.off
	for !s.eof() && s.peek() != '\'' && s.peek() != '\n' {
		s.advance()
	}
	if !s.at('\'') {
		return "", errorf(open, key, ErrSyntax, "unterminated string: no closing ' on its line")
	}
	text := string(s.data[start:s.off])
	s.advance()
	return text, nil
}

// doubleQuoted scans "..." and decodes the escapes \t \n \r \" \\ and \uXXXX (a UTF-16
// surrogate pair written as two escapes makes one character).
func (s *scanner) doubleQuoted(key string) (string, *Error) {
	open := s.pos()
	s.advance()
	var b strings.Builder
	for {
		if s.eof() || s.peek() == '\n' {
			return "", errorf(open, key, ErrSyntax, `unterminated string: no closing " on its line`)
		}
		c := s.peek()
		switch c {
		case '"':
			s.advance()
			return b.String(), nil
		case '\\':
			if err := s.escape(key, &b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			s.advance()
		}
	}
}

var simpleEscapes = map[byte]byte{'t': '\t', 'n': '\n', 'r': '\r', '"': '"', '\\': '\\'}

// escape decodes one escape sequence starting at the backslash.
func (s *scanner) escape(key string, b *strings.Builder) *Error {
	at := s.pos()
	s.advance()
	if s.eof() || s.peek() == '\n' {
		return errorf(at, key, ErrSyntax, "unterminated escape sequence")
	}
	c := s.peek()
	s.advance()
	if r, ok := simpleEscapes[c]; ok {
		b.WriteByte(r)
		return nil
	}
	if c != 'u' {
		return errorf(at, key, ErrSyntax, `unknown escape \%c (known: \t \n \r \" \\ \uXXXX)`, c)
	}
	r, ok := s.hex4()
	if !ok {
		return errorf(at, key, ErrSyntax, `\u must be followed by four hex digits`)
	}
	if utf16.IsSurrogate(r) {
		low, ok := s.lowSurrogate()
		pair := utf16.DecodeRune(r, low)
		if !ok || pair == utf8.RuneError {
			return errorf(at, key, ErrSyntax, `\u%04X is half of a surrogate pair without its other half`, r)
		}
		r = pair
	}
	b.WriteRune(r)
	return nil
}

// hex4 reads four hex digits.
func (s *scanner) hex4() (rune, bool) {
	var r rune
	for range 4 {
		if s.eof() {
			return 0, false
		}
		c := s.peek()
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
		s.advance()
	}
	return r, true
}

// lowSurrogate reads a "\uXXXX" that follows a high surrogate, if there is one.
func (s *scanner) lowSurrogate() (rune, bool) {
	if s.off+1 >= len(s.data) || s.data[s.off] != '\\' || s.data[s.off+1] != 'u' {
		return 0, false
	}
	s.advance()
	s.advance()
	return s.hex4()
}

// blockString scans "( ... )" whose ')' stands alone on a later line (blanks around it
// allowed) and returns the text between, raw. If the rest of the '(' line is blank the
// text starts on the next line; the newline before the ')' line is not part of the text.
func (s *scanner) blockString(key string) (string, *Error) {
	open := s.pos()
	s.advance()
	textStart := s.off
	lineEnd := s.indexFrom(s.off, '\n')
	if lineEnd < 0 {
		return "", errorf(open, key, ErrSyntax, "unterminated block string: the closing ')' must stand alone on a later line")
	}
	if isBlank(s.data[s.off:lineEnd]) {
		textStart = lineEnd + 1
	}
	for lineStart := lineEnd + 1; lineStart <= len(s.data); {
		next := s.indexFrom(lineStart, '\n')
		end := next
		if next < 0 {
			end = len(s.data)
		}
		line := s.data[lineStart:end]
		if i := bytes.IndexByte(line, ')'); i >= 0 && isBlank(line[:i]) && isBlank(line[i+1:]) {
			text := ""
			if textStart < lineStart {
				text = strings.TrimSuffix(string(s.data[textStart:lineStart-1]), "\r")
			}
			s.advanceTo(lineStart + i + 1)
			return text, nil
		}
		if next < 0 {
			break
		}
		lineStart = next + 1
	}
	return "", errorf(open, key, ErrSyntax, "unterminated block string: the closing ')' must stand alone on a later line")
}

func (s *scanner) indexFrom(off int, c byte) int {
	i := bytes.IndexByte(s.data[off:], c)
	if i < 0 {
		return -1
	}
	return off + i
}

func isBlank(p []byte) bool {
	for _, c := range p {
		if !isSpace(c) {
			return false
		}
	}
	return true
}
