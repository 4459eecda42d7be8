package conf

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Parser holds what a parse may ask of the world. The zero Parser reads files with the
// os package and looks variables up in the process environment; tests supply both.
type Parser struct {
	// ReadFile returns a file's contents: the file given to ParseFile and every include.
	// Nil means the os package, reading at most 16 MiB per file.
	ReadFile func(name string) ([]byte, error)
	// LookupEnv finds an environment variable for a $NAME that no enclosing block
	// defines. Nil means os.LookupEnv.
	LookupEnv func(name string) (string, bool)
}

// ParseFile reads and parses the configuration file at path with the zero Parser.
func ParseFile(path string) (*Map, error) { return Parser{}.ParseFile(path) }

// Parse parses data with the zero Parser; name is the file name positions carry and the
// directory relative includes start from.
func Parse(name string, data []byte) (*Map, error) { return Parser{}.Parse(name, data) }

// ParseFile reads and parses the configuration file at path. Failing to read path itself
// is a plain wrapped error; every other error is an *Error.
func (p Parser) ParseFile(path string) (*Map, error) {
	data, err := p.reader()(path)
	if err != nil {
		return nil, fmt.Errorf("conf: read %s: %w", path, err)
	}
	return p.Parse(path, data)
}

// Parse parses data as the file name. Every error it returns is an *Error.
func (p Parser) Parse(name string, data []byte) (*Map, error) {
	st := &state{read: p.reader(), lookup: p.LookupEnv}
	if st.lookup == nil {
		st.lookup = os.LookupEnv
	}
	if name != "" {
		st.files = []openFile{{name, cycleKey(name)}}
	}
	root := newMap(Pos{File: name, Line: 1, Col: 1}, "")
	if err := st.file(root, name, data); err != nil {
		return nil, err
	}
	return root, nil
}

func (p Parser) reader() func(string) ([]byte, error) {
	if p.ReadFile != nil {
		return p.ReadFile
	}
	return readFileLimited
}

// readFileLimited reads a file but not past maxFileBytes, so that a mistaken include of
// a device or a log fails quickly.
func readFileLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close() // read-only: a close error loses nothing
	data, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes: %w", name, maxFileBytes, ErrLimit)
	}
	return data, nil
}

// state is one parse in progress.
type state struct {
	read   func(string) ([]byte, error)
	lookup func(string) (string, bool)
	sc     *scanner   // the file being read now
	scopes []*Map     // blocks enclosing the offset, outermost first: where $NAME is sought
	files  []openFile // the include chain, outermost first, for cycle detection
	count  int        // includes processed so far
	depth  int        // maps and arrays open now
}

// openFile is a file being parsed: its name as positions carry it, and its cycleKey.
type openFile struct{ name, key string }

// file parses one file's contents into m: the top level, or the block holding an include.
func (st *state) file(m *Map, name string, data []byte) error {
	if len(data) > maxFileBytes {
		return errorf(Pos{File: name, Line: 1, Col: 1}, "", ErrLimit, "file is larger than %d bytes", maxFileBytes)
	}
	outer := st.sc
	st.sc = newScanner(name, data)
	defer func() { st.sc = outer }()
	sc := st.sc
	sc.skipGap()
	if !sc.at('{') {
		return st.body(m, 0, Pos{})
	}
	// The whole file is wrapped in braces: its keys are still top-level keys.
	open := sc.pos()
	sc.advance()
	if err := st.body(m, '}', open); err != nil {
		return err
	}
	sc.skipGap()
	if !sc.eof() {
		return errorf(sc.pos(), "", ErrSyntax, "unexpected %s after the '}' that closes the file's top-level '{'", st.describeHere())
	}
	return nil
}

// body parses entries into m until end ('}' for a map, 0 for the end of the file); open is
// where the map's '{' stands, for the error when it is never closed.
func (st *state) body(m *Map, end byte, open Pos) error {
	st.scopes = append(st.scopes, m)
	defer func() { st.scopes = st.scopes[:len(st.scopes)-1] }()
	sc := st.sc
	for {
		sc.skipGap()
		if sc.eof() {
			if end == 0 {
				return nil
			}
			return errorf(open, m.path, ErrSyntax, "unterminated map: no '}' closes the '{' opened here")
		}
		switch c := sc.peek(); {
		case c == end:
			sc.advance()
			return nil
		case c == '}' && end == 0:
			return errorf(sc.pos(), "", ErrSyntax, "unexpected '}': no map is open")
		case c == ']':
			return errorf(sc.pos(), m.path, ErrSyntax, "unexpected ']': no array is open")
		}
		if err := st.entry(m); err != nil {
			return err
		}
	}
}

// entry parses "key = value", "key: value", "key value" or "include file".
func (st *state) entry(m *Map) error {
	sc := st.sc
	keyPos := sc.pos()
	key, quoted, err := st.key(m.path)
	if err != nil {
		return err
	}
	path := joinPath(m.path, key)
	sc.skipSpace()
	separated := sc.at('=') || sc.at(':')
	if separated {
		sc.advance()
		sc.skipSpace()
	}
	if key == "include" && !quoted && !separated {
		return st.include(m, keyPos)
	}
	if sc.atValueEnd() || sc.atComment() {
		return errorf(sc.pos(), path, ErrSyntax, "missing value")
	}
	v, err := st.value(path)
	if err != nil {
		return err
	}
	if err := st.valueEnd(path); err != nil {
		return err
	}
	m.set(key, keyPos, v)
	return nil
}

// key scans a bare or quoted key.
func (st *state) key(mapPath string) (key string, quoted bool, err error) {
	sc := st.sc
	at := sc.pos()
	var e *Error
	switch c := sc.peek(); c {
	case '"':
		key, e = sc.doubleQuoted(mapPath)
		quoted = true
	case '\'':
		key, e = sc.singleQuoted(mapPath)
		quoted = true
	case '=', ':', '{', '[', '(', ')':
		return "", false, errorf(at, mapPath, ErrSyntax, "expected a key, found %q", c)
	default:
		key, e = sc.word(keyStop)
	}
	if e != nil {
		return "", false, e
	}
	if key == "" {
		return "", false, errorf(at, mapPath, ErrSyntax, "empty key")
	}
	return key, quoted, nil
}

// valueEnd checks that nothing but blanks or a comment follows a value on its line before
// a separator or the close of the enclosing block.
func (st *state) valueEnd(path string) error {
	sc := st.sc
	sc.skipSpace()
	if sc.atComment() {
		sc.skipComment()
	}
	if sc.atValueEnd() {
		return nil
	}
	return errorf(sc.pos(), path, ErrSyntax, "unexpected %s after the value (a value ends at a newline, ',' or ';'; quote text that has blanks)", st.describeHere())
}

// describeHere quotes the word at the offset for an error message.
func (st *state) describeHere() string {
	sc := st.sc
	end := sc.off
	for end < len(sc.data) && end-sc.off < 40 && !isSpace(sc.data[end]) && sc.data[end] != '\n' {
		end++
	}
	if end == sc.off {
		end++
	}
	return strconv.Quote(string(sc.data[sc.off:end]))
}

// value parses one value of any kind at the offset.
func (st *state) value(path string) (*Value, error) {
	sc := st.sc
	at := sc.pos()
	start := sc.off
	var text string
	var e *Error
	switch sc.peek() {
	case '{', '[':
		return st.container(path)
	case '"':
		text, e = sc.doubleQuoted(path)
	case '\'':
		text, e = sc.singleQuoted(path)
	case '(':
		text, e = sc.blockString(path)
	default:
		word, e := sc.word(bareValueStop)
		if e != nil {
			e.Key = path
			return nil, e
		}
		return st.bare(word, at, path)
	}
	if e != nil {
		return nil, e
	}
	return &Value{Kind: KindString, Pos: at, Path: path, Raw: string(sc.data[start:sc.off]), Str: text}, nil
}

// container parses a map or an array, bounding the nesting.
func (st *state) container(path string) (*Value, error) {
	sc := st.sc
	at := sc.pos()
	if st.depth >= maxDepth {
		return nil, errorf(at, path, ErrLimit, "maps and arrays nest deeper than %d levels", maxDepth)
	}
	st.depth++
	defer func() { st.depth-- }()
	isMap := sc.peek() == '{'
	sc.advance()
	if isMap {
		m := newMap(at, path)
		if err := st.body(m, '}', at); err != nil {
			return nil, err
		}
		return &Value{Kind: KindMap, Pos: at, Path: path, Map: m}, nil
	}
	elems, err := st.array(path, at)
	if err != nil {
		return nil, err
	}
	return &Value{Kind: KindArray, Pos: at, Path: path, Array: elems}, nil
}

// array parses elements after '[' up to its ']'.
func (st *state) array(path string, open Pos) ([]*Value, error) {
	sc := st.sc
	elems := []*Value{}
	for {
		sc.skipGap()
		if sc.eof() {
			return nil, errorf(open, path, ErrSyntax, "unterminated array: no ']' closes the '[' opened here")
		}
		switch sc.peek() {
		case ']':
			sc.advance()
			return elems, nil
		case '}':
			return nil, errorf(sc.pos(), path, ErrSyntax, "unexpected '}' inside an array")
		}
		elemPath := path + "[" + strconv.Itoa(len(elems)) + "]"
		v, err := st.value(elemPath)
		if err != nil {
			return nil, err
		}
		if err := st.valueEnd(elemPath); err != nil {
			return nil, err
		}
		elems = append(elems, v)
	}
}

// bare interprets an unquoted word: a variable reference, or a scalar. A bcrypt hash
// ("$2a$11$...") starts with '$' but is text, since nats-server configs hold them bare.
func (st *state) bare(word string, at Pos, path string) (*Value, error) {
	if strings.HasPrefix(word, "$") && !isBcrypt(word) {
		return st.resolve(word[1:], at, path)
	}
	v, err := scalar(word)
	if err != nil {
		return nil, errorf(at, path, ErrSyntax, "%v", err)
	}
	v.Pos, v.Path = at, path
	return v, nil
}

func isBcrypt(word string) bool {
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		if strings.HasPrefix(word, prefix) {
			return true
		}
	}
	return false
}

// resolve finds $name: the nearest definition made so far in this block or an enclosing
// one, else the environment. The definition is marked as used.
func (st *state) resolve(name string, at Pos, path string) (*Value, error) {
	if name == "" {
		return nil, errorf(at, path, ErrSyntax, "'$' must be followed by a variable name")
	}
	for i := len(st.scopes) - 1; i >= 0; i-- {
		def, ok := st.scopes[i].Get(name)
		if !ok {
			continue
		}
		def.UsedAsVariable = true
		use := *def
		use.Pos, use.Path, use.Var, use.VarPos, use.UsedAsVariable = at, path, name, def.Pos, false
		return &use, nil
	}
	text, ok := st.lookup(name)
	if !ok {
		return nil, errorf(at, path, ErrUndefined, "undefined variable $%s: no enclosing block defines %s and the environment has no %s", name, name, name)
	}
	return envValue(name, text, at, path)
}

// envValue types an environment variable's text as a bare scalar would be ("4222" is an
// int, "8MB" a size, "true" a bool); anything else, blanks included, is the text itself.
// A '$' in it is text: the environment is not expanded recursively.
func envValue(name, text string, at Pos, path string) (*Value, error) {
	trimmed := strings.TrimSpace(text)
	v, err := scalar(trimmed)
	if err != nil {
		return nil, errorf(at, path, ErrSyntax, "environment variable %s: %v", name, err)
	}
	if v.Kind == KindString {
		v.Str = text
	}
	v.Pos, v.Path, v.Raw, v.Var = at, path, text, name
	return v, nil
}

// include parses "include file" (after the word include): the file's keys join m.
func (st *state) include(m *Map, at Pos) error {
	sc := st.sc
	const key = "include"
	if sc.atValueEnd() || sc.atComment() {
		return errorf(at, key, ErrSyntax, "include needs a file name")
	}
	nameAt := sc.pos()
	var name string
	var e *Error
	switch sc.peek() {
	case '"':
		name, e = sc.doubleQuoted(key)
	case '\'':
		name, e = sc.singleQuoted(key)
	case '{', '[', '(':
		return errorf(nameAt, key, ErrSyntax, "include needs a file name, found %q", sc.peek())
	default:
		name, e = sc.word(bareValueStop)
	}
	if e != nil {
		e.Key = key
		return e
	}
	if err := st.valueEnd(key); err != nil {
		return err
	}
	if name == "" {
		return errorf(nameAt, key, ErrSyntax, "include needs a file name")
	}
	target := filepath.Clean(name)
	if !filepath.IsAbs(name) {
		target = filepath.Join(filepath.Dir(sc.file), name)
	}
	return st.includeFile(m, nameAt, target)
}

// includeFile reads target and parses it into m, refusing cycles and runaway includes.
func (st *state) includeFile(m *Map, at Pos, target string) error {
	const key = "include"
	targetKey := cycleKey(target)
	for _, f := range st.files {
		if f.key == targetKey {
			var chain []string
			for _, g := range st.files {
				chain = append(chain, g.name)
			}
			chain = append(chain, target)
			return errorf(at, key, ErrIncludeCycle, "include cycle: %s", strings.Join(chain, " -> "))
		}
	}
	if len(st.files) >= maxIncludeDepth {
		return errorf(at, key, ErrLimit, "includes nest deeper than %d files", maxIncludeDepth)
	}
	if st.count++; st.count > maxIncludes {
		return errorf(at, key, ErrLimit, "more than %d includes", maxIncludes)
	}
	data, err := st.read(target)
	if err != nil {
		return &Error{Pos: at, Key: key, Msg: fmt.Sprintf("cannot read %s: %v", target, err), Err: err}
	}
	st.files = append(st.files, openFile{target, targetKey})
	defer func() { st.files = st.files[:len(st.files)-1] }()
	return st.file(m, target, data)
}

// cycleKey names a file for cycle detection: absolute, so that "a.conf" and "/etc/a.conf"
// are seen to be one file when they are.
func cycleKey(name string) string {
	abs, err := filepath.Abs(name)
	if err != nil {
		return filepath.Clean(name) // no working directory: compare as written
	}
	return abs
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
