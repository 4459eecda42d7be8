// Package conf parses nats-server's configuration file format into a tree in which every
// key and value knows the file, line and column it was written at, so that the server can
// report "petrel.conf:12:16: max_payload: expected a size (like 1048576, 8MB or 1G), got
// "lots"". It reads files (the os package, or an injected reader) and the environment (or
// an injected lookup) and keeps no global state; it knows nothing of what the options mean.
//
// # Use
//
//	m, err := conf.ParseFile("petrel.conf")            // or conf.Parse(name, data)
//	p := conf.Parser{ReadFile: fsRead, LookupEnv: env} // injected world, for tests
//	if v, ok := m.GetFold("max_payload"); ok {
//		n, err := v.AsSize() // err is a *conf.Error at v's position
//	}
//
// A Map keeps its keys in file order (Entries, Keys) with exact (Get) and case-insensitive
// (GetFold) lookup. A Value has a Kind (string, int, float, bool, map, array), a Pos, the
// dotted Path that leads to it, its Raw source text, and the As* helpers: AsString,
// AsInt64, AsSize, AsFloat64, AsBool, AsDuration, AsMap, AsArray, AsStringList, and
// Errorf for the caller's own checks. Durations have no kind: they stay strings (or
// integers meaning seconds) until AsDuration reads them.
//
// # Syntax
//
//	| element          | written as                               | parses to                              |
//	|------------------|------------------------------------------|----------------------------------------|
//	| key and value    | key = v, key: v, key v                   | an entry; keys are case-sensitive      |
//	| value end        | newline, ',' or ';' (repeats allowed)    | also between array elements            |
//	| comment          | # ... or // ... to the end of the line   | only where a token may start:          |
//	|                  |                                          | "nats://h" and "a#b" are text          |
//	| bare key         | any run of characters but blanks and     | "$SYS", "foo.*", "a-b" are keys        |
//	|                  | = : { } [ ] , ; not starting with a      |                                        |
//	|                  | quote, ( or )                            |                                        |
//	| quoted key       | "k" (escapes as below) or 'k'            | any text but empty                     |
//	| map              | key { ... }, key = { ... }, inline {a:1} | Map; entries separated as at top level |
//	| array            | [a, b, c], one per line, [{...}, {...}]  | Array; any kinds, nested to any depth  |
//	| top-level braces | the whole file in { ... }                | the same as without them               |
//	| bare string      | a word up to a blank , ; } ]             | string; "a b" after a key is an error  |
//	| "string"         | escapes \t \n \r \" \\ \uXXXX            | string; may not span lines             |
//	| 'string'         | no escapes                               | string; may not span lines             |
//	| block string     | ( on the key's line, text lines, then    | string: the lines between, raw,        |
//	|                  | ) alone on its own line                  | without the last newline               |
//	| integer          | 42, -7, +3                               | int (int64)                            |
//	| size             | integer + k m g t p e (x1000^n) or       | int; 8MB = 8388608, 1k = 1000;         |
//	|                  | kb/ki/kib mb/mi/mib ... eb/ei/eib        | suffixes in any case                   |
//	|                  | (x1024^n)                                |                                        |
//	| float            | 1.5, -0.25, 1e3, 2.5E-3                  | float                                  |
//	| boolean          | true false yes no on off, any case       | bool (enabled/disabled stay strings;   |
//	|                  |                                          | AsBool accepts them)                   |
//	| duration         | "2m", 1h30m, 500ms (Go syntax), or 30    | string (or int); AsDuration reads it;  |
//	|                  | (seconds)                                | bare 10m is a size, AsDuration uses    |
//	|                  |                                          | its raw text                           |
//	| variable         | NAME = v at any block level, then $NAME  | a copy of v (Var, VarPos say so); the  |
//	|                  |                                          | definition stays a key, marked         |
//	|                  |                                          | UsedAsVariable                         |
//	| bcrypt hash      | $2a$..., $2b$..., $2y$... bare           | string, not a variable                 |
//	| include          | include file.conf, include "file.conf"   | the file's keys join the current block |
//
// Anything else after a value on its line (other than a comment) is an error, so an
// unquoted value with blanks ("name: my server") must be quoted.
//
// # Contract
//
//   - Variables: $NAME is the nearest definition of NAME made before it in the current
//     block or an enclosing one (an included file sees the including block's definitions
//     and adds its own); else the environment variable NAME, typed as a bare word would be
//     ("4222" is an int) but never expanded further; else an ErrUndefined error at the
//     reference. Quoted text is never expanded. A referenced map or array is shared, not
//     copied: trees are read-only.
//   - Includes: a relative name is taken from the directory of the file that includes it.
//     "include" followed by '=' or ':' is an ordinary key. Including a file that is
//     already being included is an ErrIncludeCycle error; a missing file is an error whose
//     Err is the reader's (errors.Is(err, fs.ErrNotExist)). Positions inside an included
//     file name that file.
//   - Duplicates: a key defined twice in one block keeps the later value (nats-server's
//     rule), and the entry moves to the later place in the order. Keys differing only in
//     case are distinct; GetFold returns the one defined last.
//   - Errors: every error from Parse, and from ParseFile except failing to read the named
//     file, is an *Error with file:line:col (line and column from 1, columns counting
//     characters), the key path concerned, and a sentinel (ErrSyntax, ErrUndefined,
//     ErrIncludeCycle, ErrLimit) or the include reader's error for errors.Is. The As*
//     helpers return *Error classified ErrType.
//   - Limits (limits.go): 16 MiB per file, 100 levels of nesting, 32 nested includes,
//     1000 includes per parse; past them the parse fails with ErrLimit.
//
// Dump renders a tree as text, one value per line with its position; the golden tests in
// testdata compare it, and `go test ./server/conf -rewrite` rewrites the .golden files.
package conf
