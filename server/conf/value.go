package conf

import "strings"

// Kind is the type of a Value. Durations have no kind of their own: they are strings (or
// integers meaning seconds) that AsDuration interprets.
type Kind uint8

// The kinds of values.
const (
	KindString Kind = iota + 1
	KindInt
	KindFloat
	KindBool
	KindMap
	KindArray
)

var kindNames = [...]string{
	KindString: "string",
	KindInt:    "int",
	KindFloat:  "float",
	KindBool:   "bool",
	KindMap:    "map",
	KindArray:  "array",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "invalid"
}

// Value is one parsed value and where it was written. Exactly the field of its Kind is set.
//
// Values reached through a variable share structure with the definition (an array or a map
// is not copied), so callers must treat a parsed tree as read-only.
type Value struct {
	Kind Kind
	// Pos is where the value starts, at its use: for $NAME, where "$NAME" is written.
	Pos Pos
	// Path is the dotted key path that leads to the value ("tls.cert_file",
	// "authorization.users[0]"); errors name it. Inside a map or array shared through a
	// variable, paths and positions are those of the definition.
	Path string
	// Raw is the source text of a scalar as written ("8MB", "yes", `"2m"` with its quotes);
	// for a value from the environment, the variable's text. Empty for maps and arrays.
	Raw string

	Str   string
	Int   int64
	Float float64
	Bool  bool
	Map   *Map
	Array []*Value

	// Var names the variable this value came from ($Var), or is "" for a literal.
	Var string
	// VarPos is where that variable's value was defined; the zero Pos when it came from
	// the environment.
	VarPos Pos
	// UsedAsVariable reports that this value's key was referenced as $KEY somewhere, so
	// a caller warning about unknown keys should skip it.
	UsedAsVariable bool
}

// Entry is one key of a Map with its value.
type Entry struct {
	Key    string // as written, case preserved, quotes and escapes removed
	KeyPos Pos
	Value  *Value
}

// Map is a block of keys in file order. A key defined twice in one block keeps only its
// later value, and the entry moves to the later definition's place in the order.
//
// Invariant: for every live entry (Value != nil) entries[i], index[entries[i].Key] == i;
// index has exactly the live keys; dead counts the entries replaced by a later
// definition, which stay in place until compaction (so a redefinition costs O(1), not a
// shift of every later entry).
type Map struct {
	pos     Pos
	path    string
	entries []Entry
	index   map[string]int
	dead    int
}

func newMap(pos Pos, path string) *Map {
	return &Map{pos: pos, path: path, index: make(map[string]int)}
}

// Pos is where the map starts: its '{', or line 1 column 1 of the file for the top level.
func (m *Map) Pos() Pos { return m.pos }

// Path is the map's dotted key path, "" for the top level.
func (m *Map) Path() string { return m.path }

// Len is the number of keys.
func (m *Map) Len() int { return len(m.entries) - m.dead }

// Entries returns the keys in file order (a new slice: the caller may keep or change it).
func (m *Map) Entries() []Entry {
	out := make([]Entry, 0, m.Len())
	for _, e := range m.entries {
		if e.Value != nil {
			out = append(out, e)
		}
	}
	return out
}

// Keys returns the keys in file order.
func (m *Map) Keys() []string {
	keys := make([]string, 0, m.Len())
	for _, e := range m.entries {
		if e.Value != nil {
			keys = append(keys, e.Key)
		}
	}
	return keys
}

// Get returns the value of key, matched exactly.
func (m *Map) Get(key string) (*Value, bool) {
	i, ok := m.index[key]
	if !ok {
		return nil, false
	}
	return m.entries[i].Value, true
}

// GetFold returns the value of key matched without regard to case, as nats-server matches
// option names. If several keys match ("Port" and "port"), the one defined last wins, as a
// duplicate would.
func (m *Map) GetFold(key string) (*Value, bool) {
	for i := len(m.entries) - 1; i >= 0; i-- {
		if e := m.entries[i]; e.Value != nil && strings.EqualFold(e.Key, key) {
			return e.Value, true
		}
	}
	return nil, false
}

// set defines key, replacing an earlier definition in this block. A replaced definition
// that was referenced as a variable passes the mark on, since the key's name was used.
func (m *Map) set(key string, keyPos Pos, v *Value) {
	if i, ok := m.index[key]; ok {
		v.UsedAsVariable = v.UsedAsVariable || m.entries[i].Value.UsedAsVariable
		m.entries[i].Value = nil
		m.dead++
	}
	m.index[key] = len(m.entries)
	m.entries = append(m.entries, Entry{Key: key, KeyPos: keyPos, Value: v})
	if m.dead > len(m.entries)/2 {
		m.compact()
	}
}

// compact drops replaced entries; amortized over the replacements that made them.
func (m *Map) compact() {
	live := m.entries[:0]
	for _, e := range m.entries {
		if e.Value != nil {
			m.index[e.Key] = len(live)
			live = append(live, e)
		}
	}
	clear(m.entries[len(live):]) // drop references to replaced values
	m.entries = live
	m.dead = 0
}
