package sim

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Pinned is a seed that once failed, kept so every sweep replays it first.
type Pinned struct {
	Workload string
	Seed     uint64
	Why      string
}

// ParsePinned reads a regression list: one "workload seed  # why" per line; blank lines and
// lines starting with # are skipped.
func ParsePinned(r io.Reader) ([]Pinned, error) {
	var out []Pinned
	err := scanPairs(r, "pinned seeds", "workload seed", func(line int, a, b, why string) error {
		seed, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			return fmt.Errorf("pinned seeds line %d: bad seed: %w", line, err)
		}
		out = append(out, Pinned{Workload: a, Seed: seed, Why: why})
		return nil
	})
	return out, err
}

// scanPairs reads the simulator's list files: two fields per line, text after # a comment,
// blank lines skipped. It calls fn with each line's number, fields and comment.
func scanPairs(r io.Reader, what, want string, fn func(line int, a, b, comment string) error) error {
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, comment, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return fmt.Errorf("%s line %d: want \"%s\", got %q", what, line, want, sc.Text())
		}
		if err := fn(line, fields[0], fields[1], strings.TrimSpace(comment)); err != nil {
			return err
		}
	}
	return sc.Err()
}
