// Package prototest runs golden protocol transcripts: scripts of the bytes clients send and
// the lines a server must answer, run against Petrel's engine in the simulator and, over
// real TCP, against the petrel binary and nats-server, so the same file proves Petrel and
// nats-server agree (or records, in both directions, where they deliberately do not).
//
// A script (testdata/proto/*.txt) opens with a paragraph of '#' lines saying what it proves.
// Then, one per line:
//
//	option <key> <args...>  server options, before any step (see Options)
//	differs <why>           the script records a deliberate difference from nats-server
//	dial <c>                open connection <c>
//	<c>> <text>             send text followed by CRLF
//	<c>> "<go string>"      send exactly these bytes (no CRLF added)
//	<c>< <text>             expect the next line the server sends (CRLF removed); a quoted
//	                        Go string for lines with odd bytes; "INFO" matches any INFO line,
//	                        "INFO {json}" one holding those fields
//	<c><nats <text>         an expectation for nats-server only (<c><petrel: Petrel only)
//	<c>! closed             expect the server to have closed the connection (!nats, !petrel)
//	close <c>               the client closes <c>
//	sleep <duration>        let time pass (virtual time in the simulator)
//
// ${X*N} in a sent or expected line stands for N copies of X. At the end every connection
// not expected closed must be open with nothing unread.
package prototest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Targets: which expectations apply.
const (
	TargetPetrel = "petrel"
	TargetNats   = "nats"
)

// Script is one parsed transcript.
type Script struct {
	Name       string
	About      string   // the opening paragraph
	Options    []Option // server options
	Difference string   // why the script records a deliberate difference, if it does
	Steps      []Step
	source     []string // the file's lines, for rewriting
}

// Option is one "option" line.
type Option struct {
	Key  string
	Args []string
	Line int
}

// Kind is what a step does.
type Kind int

// Step kinds.
const (
	KindDial Kind = iota + 1
	KindSend
	KindExpect
	KindClosed
	KindClose
	KindSleep
)

// Step is one line of a script.
type Step struct {
	Kind   Kind
	Conn   string
	Data   []byte        // KindSend: the bytes
	Want   string        // KindExpect: the line
	Target string        // KindExpect, KindClosed: "" for every target, else TargetPetrel or TargetNats
	Dur    time.Duration // KindSleep
	Line   int           // 1-based line in the file
}

// appliesTo reports whether an expectation holds for target.
func (s Step) appliesTo(target string) bool { return s.Target == "" || s.Target == target }

var (
	stepRe   = regexp.MustCompile(`^([A-Za-z0-9_]+)([<>!])(nats|petrel)? (.*)$`)
	repeatRe = regexp.MustCompile(`\$\{([^}]*)\*([0-9]+)\}`)
)

// Parse reads a script.
func Parse(name, text string) (*Script, error) {
	s := &Script{Name: name, source: strings.Split(strings.TrimSuffix(text, "\n"), "\n")}
	var about []string
	for i, line := range s.source {
		n := i + 1
		switch {
		case strings.HasPrefix(line, "#"):
			if len(s.Steps) == 0 && len(s.Options) == 0 {
				about = append(about, strings.TrimSpace(strings.TrimPrefix(line, "#")))
			}
			continue
		case strings.TrimSpace(line) == "":
			continue
		}
		if err := s.parseLine(line, n); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	s.About = strings.TrimSpace(strings.Join(about, " "))
	if s.About == "" {
		return nil, fmt.Errorf("%s: a script opens with a paragraph saying what it proves", name)
	}
	return s, nil
}

func (s *Script) parseLine(line string, n int) error {
	word, rest, _ := strings.Cut(line, " ")
	switch word {
	case "option":
		if len(s.Steps) > 0 {
			return fmt.Errorf("options come before the steps")
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return fmt.Errorf("option without a key")
		}
		s.Options = append(s.Options, Option{Key: f[0], Args: f[1:], Line: n})
		return nil
	case "differs":
		s.Difference = strings.TrimSpace(rest)
		return nil
	case "dial", "close":
		kind := map[string]Kind{"dial": KindDial, "close": KindClose}[word]
		s.Steps = append(s.Steps, Step{Kind: kind, Conn: strings.TrimSpace(rest), Line: n})
		return nil
	case "sleep":
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		if err != nil {
			return err
		}
		s.Steps = append(s.Steps, Step{Kind: KindSleep, Dur: d, Line: n})
		return nil
	}
	return s.parseIO(line, n)
}

// parseIO reads a send, expect or closed line.
func (s *Script) parseIO(line string, n int) error {
	m := stepRe.FindStringSubmatch(line)
	if m == nil {
		return fmt.Errorf("cannot read %q", line)
	}
	conn, dir, target, text := m[1], m[2], m[3], m[4]
	switch dir {
	case "!":
		if text != "closed" {
			return fmt.Errorf("%s! takes only \"closed\"", conn)
		}
		s.Steps = append(s.Steps, Step{Kind: KindClosed, Conn: conn, Target: target, Line: n})
		return nil
	case ">":
		if target != "" {
			return fmt.Errorf("a send applies to every target")
		}
		data, quoted, err := decode(text)
		if err != nil {
			return err
		}
		if !quoted {
			data += "\r\n"
		}
		s.Steps = append(s.Steps, Step{Kind: KindSend, Conn: conn, Data: []byte(data), Line: n})
		return nil
	}
	want, _, err := decode(text)
	if err != nil {
		return err
	}
	s.Steps = append(s.Steps, Step{Kind: KindExpect, Conn: conn, Want: want, Target: target, Line: n})
	return nil
}

// decode unquotes a quoted Go string and expands ${X*N}.
func decode(text string) (string, bool, error) {
	quoted := strings.HasPrefix(text, `"`)
	if quoted {
		u, err := strconv.Unquote(text)
		if err != nil {
			return "", false, fmt.Errorf("bad quoted string %s: %w", text, err)
		}
		text = u
	}
	var err error
	text = repeatRe.ReplaceAllStringFunc(text, func(m string) string {
		p := repeatRe.FindStringSubmatch(m)
		count, convErr := strconv.Atoi(p[2])
		if convErr != nil || count > 1<<20 {
			err = fmt.Errorf("bad repeat %s", m)
			return ""
		}
		return strings.Repeat(p[1], count)
	})
	return text, quoted, err
}

// encode renders a line for a script: as is when it is plain printable text, else quoted.
func encode(line string) string {
	plain := line != "" && !strings.HasPrefix(line, `"`) && !strings.HasSuffix(line, " ") && !strings.HasPrefix(line, " ")
	for i := 0; plain && i < len(line); i++ {
		plain = line[i] >= 0x20 && line[i] < 0x7f
	}
	if plain && !strings.Contains(line, "${") {
		return line
	}
	return strconv.Quote(line)
}
