// Command petrel-mutate plants the bugs kept in testdata/mutants/*.mutant, one at a time, in a
// scratch copy of the repository, and reports which the unit tests and the simulator's sweep
// catch (with the first failing seed).
//
//	petrel-mutate                      every mutant: unit tests, then the sweep
//	petrel-mutate -only a,b            the named mutants
//	petrel-mutate -rotate 2 -sweep-only  two mutants chosen by rotation (CI), sweep only
//
// The exit status is 1 if any mutant escapes its sweep, is stale (its original text no longer
// occurs exactly once) or broken (does not compile); 2 on a usage or tool error.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

type config struct {
	root      string
	dir       string // the mutants' folder, relative to root
	only      string
	rotate    int
	key       int
	sweepOnly bool
	keep      bool
	fresh     bool
	limits    Limits
	base      string // the unmutated petrel-sim, built once per run
}

func run(args []string) int {
	fs := flag.NewFlagSet("petrel-mutate", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.root, "repo", "", "repository root (default: the git top level of the working directory)")
	fs.StringVar(&cfg.dir, "dir", filepath.Join("testdata", "mutants"), "folder of the mutants, relative to the repository root")
	fs.StringVar(&cfg.only, "only", "", "comma-separated mutant names to run (default: all)")
	fs.IntVar(&cfg.rotate, "rotate", 0, "run only this many mutants, chosen by rotation over -key")
	fs.IntVar(&cfg.key, "key", -1, "rotation key (default: $PETREL_MUTATE_KEY, else the day of the year)")
	fs.BoolVar(&cfg.sweepOnly, "sweep-only", false, "skip the unit tests")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the scratch copy (its path is printed)")
	fs.BoolVar(&cfg.fresh, "fresh", false, "skip the pinned regression seeds: measure the fresh seeds alone")
	fs.DurationVar(&cfg.limits.HangAfter, "hang", 3*time.Minute, "a sweep silent this long is hung (killed, counted as caught)")
	fs.DurationVar(&cfg.limits.SweepTimeout, "sweep-timeout", 30*time.Minute, "wall-clock budget of one sweep")
	fs.DurationVar(&cfg.limits.UnitTimeout, "unit-timeout", 10*time.Minute, "wall-clock budget of one mutant's unit tests")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := cfg.resolve(); err != nil {
		fmt.Fprintf(os.Stderr, "petrel-mutate: %v\n", err)
		return 2
	}
	mutants, err := loadMutants(filepath.Join(cfg.root, cfg.dir))
	if err != nil {
		fmt.Fprintf(os.Stderr, "petrel-mutate: %v\n", err)
		return 2
	}
	mutants, err = choose(mutants, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "petrel-mutate: %v\n", err)
		return 2
	}
	return runAll(mutants, cfg)
}

func (c *config) resolve() error {
	if c.root == "" {
		out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
		if err != nil {
			return fmt.Errorf("find the repository root (or pass -repo): %w", err)
		}
		c.root = strings.TrimSpace(string(out))
	}
	if c.key < 0 {
		c.key = time.Now().YearDay()
		if v := os.Getenv("PETREL_MUTATE_KEY"); v != "" {
			k, err := strconv.Atoi(v)
			if err != nil || k < 0 {
				return fmt.Errorf("PETREL_MUTATE_KEY=%q: want a non-negative number", v)
			}
			c.key = k
		}
	}
	return nil
}

// loadMutants parses every *.mutant file of dir, sorted by name.
func loadMutants(dir string) ([]*Mutant, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.mutant"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var mutants []*Mutant
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		m, err := ParseMutant(strings.TrimSuffix(filepath.Base(p), ".mutant"), f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		mutants = append(mutants, m)
	}
	if len(mutants) == 0 {
		return nil, fmt.Errorf("no mutants in %s", dir)
	}
	return mutants, nil
}

// choose applies -only and -rotate. The rotation takes K mutants starting at key*K (mod the
// count), so successive keys (days, CI run numbers) walk through all of them.
func choose(all []*Mutant, cfg config) ([]*Mutant, error) {
	chosen := all
	if cfg.only != "" {
		byName := map[string]*Mutant{}
		for _, m := range all {
			byName[m.Name] = m
		}
		chosen = nil
		for _, name := range strings.Split(cfg.only, ",") {
			m, ok := byName[strings.TrimSpace(name)]
			if !ok {
				return nil, fmt.Errorf("-only: no mutant named %q", name)
			}
			chosen = append(chosen, m)
		}
	}
	return rotate(chosen, cfg.rotate, cfg.key), nil
}

func rotate(ms []*Mutant, k, key int) []*Mutant {
	if k <= 0 || k >= len(ms) {
		return ms
	}
	out := make([]*Mutant, 0, k)
	start := (key * k) % len(ms)
	for i := 0; i < k; i++ {
		out = append(out, ms[(start+i)%len(ms)])
	}
	return out
}
