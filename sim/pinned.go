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
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, why, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) != 2 {
			return nil, fmt.Errorf("pinned seeds line %d: want \"workload seed\", got %q", line, sc.Text())
		}
		seed, err := strconv.ParseUint(fields[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("pinned seeds line %d: bad seed: %w", line, err)
		}
		out = append(out, Pinned{Workload: fields[0], Seed: seed, Why: strings.TrimSpace(why)})
	}
	return out, sc.Err()
}
