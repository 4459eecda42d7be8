package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// The block markers of a mutant file: git's conflict markers, so that the patch reads like one.
const (
	markOriginal = "<<<<<<< original"
	markSplit    = "======="
	markMutant   = ">>>>>>> mutant"
)

// Mutant is one planted bug: a description, where the sweep must catch it, and the edits.
type Mutant struct {
	Name   string   // the file name without .mutant: "raft-vote-no-sync"
	Desc   string   // the first comment line
	Sweeps []Sweep  // the workloads (and seed budgets) that must catch it; tried in order
	Units  []string // package patterns whose unit tests are run ("./raft/")
	Edits  []Edit   // applied in order
}

// Sweep is a workload and the seed budget within which its sweep must catch the mutant.
type Sweep struct {
	Workload string
	Seeds    int
}

// Edit replaces the one occurrence of Original in File with Replacement.
type Edit struct {
	File        string // slash-separated, relative to the repository root
	Original    string
	Replacement string
}

// ErrStale says a mutant no longer applies: its original text is gone or ambiguous.
var ErrStale = errors.New("stale")

// parseState names where the parser is in a mutant file.
type parseState int

const (
	stateHeader   parseState = iota // key: value lines, comments, blank lines
	stateOriginal                   // inside <<<<<<< original
	stateMutant                     // inside =======
)

// ParseMutant reads one mutant file. Lines inside a block are kept verbatim (a block's text is
// its lines joined by newlines, without the last newline); outside blocks only comments,
// blank lines and the keys file, sweep and unit are allowed.
func ParseMutant(name string, r io.Reader) (*Mutant, error) {
	m := &Mutant{Name: name}
	var file string
	var orig, repl []string
	state := stateHeader
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		var err error
		switch state {
		case stateHeader:
			state, file, err = m.headerLine(line, file)
		case stateOriginal:
			if line == markSplit {
				state = stateMutant
			} else {
				orig = append(orig, line)
			}
		case stateMutant:
			if line == markMutant {
				m.Edits = append(m.Edits, Edit{File: file, Original: strings.Join(orig, "\n"), Replacement: strings.Join(repl, "\n")})
				orig, repl, state = nil, nil, stateHeader
			} else {
				repl = append(repl, line)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("mutant %s: line %d: %w", name, lineNo, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mutant %s: %w", name, err)
	}
	if state != stateHeader {
		return nil, fmt.Errorf("mutant %s: unterminated block (want %q)", name, markMutant)
	}
	return m, m.validate()
}

// headerLine handles one line outside a block and returns the next state and current file.
func (m *Mutant) headerLine(line, file string) (parseState, string, error) {
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "":
		return stateHeader, file, nil
	case strings.HasPrefix(trimmed, "#"):
		if m.Desc == "" {
			m.Desc = strings.TrimSpace(strings.TrimPrefix(trimmed, "#"))
		}
		return stateHeader, file, nil
	case line == markOriginal:
		if file == "" {
			return stateHeader, file, errors.New("block before any file: line")
		}
		return stateOriginal, file, nil
	}
	key, value, ok := strings.Cut(trimmed, ":")
	if !ok {
		return stateHeader, file, fmt.Errorf("want key: value, a comment or %q, have %q", markOriginal, line)
	}
	value, _, _ = strings.Cut(value, "#") // a trailing comment ("sweep: raft 500  # why")
	value = strings.TrimSpace(value)
	switch key {
	case "file":
		clean := filepath.ToSlash(filepath.Clean(value))
		if value == "" || filepath.IsAbs(value) || strings.HasPrefix(clean, "../") {
			return stateHeader, file, fmt.Errorf("file %q: want a path inside the repository", value)
		}
		return stateHeader, clean, nil
	case "sweep":
		sw, err := parseSweep(value)
		m.Sweeps = append(m.Sweeps, sw)
		return stateHeader, file, err
	case "unit":
		m.Units = append(m.Units, strings.Fields(value)...)
		return stateHeader, file, nil
	}
	return stateHeader, file, fmt.Errorf("unknown key %q", key)
}

func parseSweep(value string) (Sweep, error) {
	fields := strings.Fields(value)
	if len(fields) != 2 {
		return Sweep{}, fmt.Errorf("sweep %q: want <workload> <seeds>", value)
	}
	n, err := strconv.Atoi(fields[1])
	if err != nil || n <= 0 {
		return Sweep{}, fmt.Errorf("sweep %q: seeds must be a positive number", value)
	}
	return Sweep{Workload: fields[0], Seeds: n}, nil
}

func (m *Mutant) validate() error {
	switch {
	case m.Desc == "":
		return fmt.Errorf("mutant %s: no comment line saying what the bug breaks", m.Name)
	case len(m.Sweeps) == 0:
		return fmt.Errorf("mutant %s: no sweep: line", m.Name)
	case len(m.Edits) == 0:
		return fmt.Errorf("mutant %s: no %q block", m.Name, markOriginal)
	}
	for i, e := range m.Edits {
		if e.Original == "" {
			return fmt.Errorf("mutant %s: block %d: empty original text", m.Name, i+1)
		}
		if e.Original == e.Replacement {
			return fmt.Errorf("mutant %s: block %d: replacement equals the original", m.Name, i+1)
		}
	}
	return nil
}

// Apply applies the mutant's edits in order to the files read and written through rw. The
// original text of each edit must occur exactly once in its file (after the edits before it),
// else the mutant is stale. It returns the files' contents before the first edit, to restore.
func (m *Mutant) Apply(rw FileRW) (saved map[string][]byte, err error) {
	saved = map[string][]byte{}
	current := map[string]string{}
	for i, e := range m.Edits {
		text, ok := current[e.File]
		if !ok {
			data, err := rw.ReadFile(e.File)
			if err != nil {
				return saved, fmt.Errorf("block %d: %w: %v", i+1, ErrStale, err)
			}
			saved[e.File] = data
			text = string(data)
		}
		if n := strings.Count(text, e.Original); n != 1 {
			return saved, fmt.Errorf("block %d: %w: original text occurs %d times in %s (want exactly once)", i+1, ErrStale, n, e.File)
		}
		current[e.File] = strings.Replace(text, e.Original, e.Replacement, 1)
	}
	for file, text := range current {
		if err := rw.WriteFile(file, []byte(text)); err != nil {
			return saved, fmt.Errorf("mutant %s: write %s: %w", m.Name, file, err)
		}
	}
	return saved, nil
}

// FileRW reads and writes files by repository-relative path (a scratch copy, or a map in tests).
type FileRW interface {
	ReadFile(path string) ([]byte, error)
	WriteFile(path string, data []byte) error
}
