package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// mapRW is an in-memory FileRW.
type mapRW map[string]string

func (m mapRW) ReadFile(path string) ([]byte, error) {
	s, ok := m[path]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return []byte(s), nil
}

func (m mapRW) WriteFile(path string, data []byte) error {
	m[path] = string(data)
	return nil
}

const twoBlocks = `# a vote that is not synced: two leaders in one term (durability ordering)
# second comment line is ignored
file: raft/wal.go
sweep: raft 200
unit: ./raft/ ./sim/
<<<<<<< original
	if err := w.sync(); err != nil {
		return err
	}
=======
>>>>>>> mutant

file: raft/node.go
<<<<<<< original
x := 1
=======
x := 2
# not a comment: inside a block
>>>>>>> mutant
sweep: counter 500   # a trailing comment is allowed
`

func TestParseMutantReadsKeysAndBlocks(t *testing.T) {
	m, err := ParseMutant("raft-x", strings.NewReader(twoBlocks))
	if err != nil {
		t.Fatal(err)
	}
	want := &Mutant{
		Name:   "raft-x",
		Desc:   "a vote that is not synced: two leaders in one term (durability ordering)",
		Sweeps: []Sweep{{"raft", 200}, {"counter", 500}},
		Units:  []string{"./raft/", "./sim/"},
		Edits: []Edit{
			{File: "raft/wal.go", Original: "\tif err := w.sync(); err != nil {\n\t\treturn err\n\t}", Replacement: ""},
			{File: "raft/node.go", Original: "x := 1", Replacement: "x := 2\n# not a comment: inside a block"},
		},
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("parsed\n%#v\nwant\n%#v", m, want)
	}
}

func TestParseMutantRejectsMalformedFiles(t *testing.T) {
	const block = "<<<<<<< original\na\n=======\nb\n>>>>>>> mutant\n"
	cases := []struct{ name, text, want string }{
		{"no comment", "file: a.go\nsweep: raft 1\n" + block, "no comment"},
		{"no sweep", "# c\nfile: a.go\n" + block, "no sweep"},
		{"no block", "# c\nfile: a.go\nsweep: raft 1\n", "no \"<<<<<<< original\" block"},
		{"block before file", "# c\nsweep: raft 1\n" + block, "before any file"},
		{"unterminated", "# c\nfile: a.go\nsweep: raft 1\n<<<<<<< original\na\n=======\n", "unterminated"},
		{"unknown key", "# c\nfiles: a.go\n", "unknown key"},
		{"bad seeds", "# c\nsweep: raft many\n", "positive number"},
		{"sweep without seeds", "# c\nsweep: raft\n", "want <workload> <seeds>"},
		{"path outside", "# c\nfile: ../x.go\n", "inside the repository"},
		{"stray text", "# c\nhello\n", "want key: value"},
		{"empty original", "# c\nfile: a.go\nsweep: raft 1\n<<<<<<< original\n=======\nb\n>>>>>>> mutant\n", "empty original"},
		{"no change", "# c\nfile: a.go\nsweep: raft 1\n<<<<<<< original\na\n=======\na\n>>>>>>> mutant\n", "equals the original"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMutant("m", strings.NewReader(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestApplyReplacesTheOneOccurrenceInOrder(t *testing.T) {
	rw := mapRW{"a.go": "one\ntwo\nthree\n", "b.go": "keep\n"}
	m := &Mutant{Name: "m", Edits: []Edit{
		{File: "a.go", Original: "two", Replacement: "2"},
		{File: "a.go", Original: "2\nthree", Replacement: "three"}, // sees the first edit
	}}
	saved, err := m.Apply(rw)
	if err != nil {
		t.Fatal(err)
	}
	if rw["a.go"] != "one\nthree\n" || rw["b.go"] != "keep\n" {
		t.Fatalf("after apply: %q", rw)
	}
	if string(saved["a.go"]) != "one\ntwo\nthree\n" || len(saved) != 1 {
		t.Fatalf("saved %q, want the original a.go only", saved)
	}
}

func TestApplyReportsStaleMutantsAndWritesNothing(t *testing.T) {
	cases := []struct {
		name  string
		edits []Edit
		want  string
	}{
		{"missing text", []Edit{{File: "a.go", Original: "four", Replacement: "4"}}, "occurs 0 times"},
		{"ambiguous text", []Edit{{File: "a.go", Original: "o", Replacement: "0"}}, "occurs 2 times"},
		{"missing file", []Edit{{File: "c.go", Original: "x", Replacement: "y"}}, "block 1"},
		{"second block stale", []Edit{{File: "a.go", Original: "one", Replacement: "1"}, {File: "a.go", Original: "one", Replacement: "1"}}, "block 2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rw := mapRW{"a.go": "one\ntwo\n"}
			_, err := (&Mutant{Name: "m", Edits: tc.edits}).Apply(rw)
			if !errors.Is(err, ErrStale) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want stale with %q", err, tc.want)
			}
			if rw["a.go"] != "one\ntwo\n" {
				t.Fatalf("a stale mutant changed the file: %q", rw["a.go"])
			}
		})
	}
}

func TestScratchRestoresWhatAMutantChanged(t *testing.T) {
	s := &Scratch{Dir: t.TempDir()}
	if err := os.WriteFile(filepath.Join(s.Dir, "a.go"), []byte("package a // one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Mutant{Name: "m", Edits: []Edit{{File: "a.go", Original: "one", Replacement: "two"}}}
	saved, err := m.Apply(s)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ReadFile("a.go"); string(got) != "package a // two\n" {
		t.Fatalf("mutated: %q", got)
	}
	if err := s.Restore(saved); err != nil {
		t.Fatal(err)
	}
	got, _ := s.ReadFile("a.go")
	info, _ := os.Stat(filepath.Join(s.Dir, "a.go"))
	if string(got) != "package a // one\n" || info.Mode().Perm() != 0o600 {
		t.Fatalf("restored %q mode %v", got, info.Mode())
	}
}

func TestRotationWalksThroughAllMutants(t *testing.T) {
	var ms []*Mutant
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		ms = append(ms, &Mutant{Name: n})
	}
	seen := map[string]int{}
	for key := 0; key < 5; key++ {
		got := rotate(ms, 2, key)
		if len(got) != 2 || got[0] == got[1] {
			t.Fatalf("key %d: %v", key, got)
		}
		for _, m := range got {
			seen[m.Name]++
		}
	}
	if len(seen) != 5 {
		t.Fatalf("five keys of two covered %v, want all five", seen)
	}
	if got := rotate(ms, 9, 3); len(got) != 5 {
		t.Fatalf("rotate more than there are: %d, want all", len(got))
	}
}

func TestScanSweepStopsAtTheFirstFailure(t *testing.T) {
	out := strings.Join([]string{
		"pinned   0 regression seeds replayed, 0 failing",
		"nats seed 1: hash 0000000000000001 10 events []",
		"nats seed 2: hash 0000000000000002 10 events []",
		"FAIL nats seed 3: checker: sub 4 got 3 messages past its max of 2",
		"  replay: go run ./cmd/petrel-sim -workload nats -seed 3",
		"nats seed 3: hash 0000000000000003 10 events []",
		"FAIL nats seed 4: later",
	}, "\n")
	var res SweepOutcome
	d := &watchdog{pid: 0, killed: true, fed: make(chan struct{}, 1)}
	scanSweep(strings.NewReader(out), &res, d)
	if res.Verdict != VerdictCaught || res.Seed != 3 || res.SeedsRun != 3 || res.Pinned {
		t.Fatalf("outcome %+v", res)
	}
	if !strings.Contains(res.Detail, "replay: go run") || strings.Contains(res.Detail, "later") {
		t.Fatalf("detail %q", res.Detail)
	}
	res = SweepOutcome{}
	scanSweep(strings.NewReader("FAIL pinned echo seed 8 (why): boom\nFAIL echo seed 1: x\n"), &res, d)
	if !res.Pinned || res.Seed != 8 || res.Workload != "echo" {
		t.Fatalf("pinned outcome %+v", res)
	}
}

// TestEveryMutantStillApplies keeps the planted bugs in step with the code: a change that
// rewrites the lines a mutant patches makes it stale, and the sweep would silently stop
// measuring it (two went stale this way before this test). Fix the mutant's original text.
func TestEveryMutantStillApplies(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, dir := range []string{"testdata/mutants", "testdata/mutants/open"} {
		if files, _ := filepath.Glob(filepath.Join(root, dir, "*.mutant")); len(files) == 0 {
			continue // the open gaps may be none
		}
		ms, err := loadMutants(filepath.Join(root, dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			rw := mapRW{}
			for _, e := range m.Edits {
				data, err := os.ReadFile(filepath.Join(root, e.File))
				if err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
				rw[e.File] = string(data)
			}
			if _, err := m.Apply(rw); err != nil {
				t.Errorf("%s/%s.mutant: %v", dir, m.Name, err)
			}
		}
	}
}
