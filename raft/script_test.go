package raft

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small runner for golden scripts in the style of etcd's datadriven tests. A script is a
// sequence of blocks:
//
//	# comments (the file opens with a paragraph on what it proves)
//	command arg key=value ...
//	----
//	expected output (no blank lines)
//
// A blank line ends a block. `go test ./raft -run TestScripts -rewrite` regenerates the
// expected output in place.

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of raft/testdata scripts")

type scriptCmd struct {
	line int
	name string
	args []string          // positional
	keys map[string]string // key=value
	raw  string
}

func (c *scriptCmd) String() string { return fmt.Sprintf("line %d: %s", c.line, c.raw) }

func parseCmd(line int, raw string) *scriptCmd {
	fields := strings.Fields(raw)
	c := &scriptCmd{line: line, name: fields[0], keys: map[string]string{}, raw: raw}
	for _, f := range fields[1:] {
		if k, v, ok := strings.Cut(f, "="); ok {
			c.keys[k] = v
		} else {
			c.args = append(c.args, f)
		}
	}
	return c
}

// runScript runs every command of the file through run and compares (or rewrites) output.
func runScript(t *testing.T, path string, run func(c *scriptCmd) string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var out strings.Builder
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			out.WriteString(l + "\n")
			continue
		}
		cmd := parseCmd(i+1, l)
		out.WriteString(l + "\n")
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("%s:%d: command without ---- separator", path, i+1)
		}
		i++
		var want []string
		for i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
			i++
			want = append(want, lines[i])
		}
		got := normalize(run(cmd))
		out.WriteString("----\n" + got + "\n")
		if !*rewrite && got != strings.Join(want, "\n") {
			t.Fatalf("%s:%d: %s\n--- want:\n%s\n--- got:\n%s", filepath.Base(path), cmd.line, cmd.raw,
				strings.Join(want, "\n"), got)
		}
	}
	if *rewrite {
		if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// normalize trims the output and keeps it free of blank lines (they end a block).
func normalize(s string) string {
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if strings.TrimSpace(l) != "" {
			keep = append(keep, strings.TrimRight(l, " "))
		}
	}
	if len(keep) == 0 {
		return "ok"
	}
	return strings.Join(keep, "\n")
}

// TestScripts runs every raft/testdata/*.txt script on a fresh harness.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scripts in testdata")
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, _ := os.ReadFile(f)
			if !strings.HasPrefix(string(data), "#") {
				t.Fatalf("%s must open with a paragraph saying what it proves", f)
			}
			h := newHarness(t)
			runScript(t, f, h.run)
		})
	}
}
