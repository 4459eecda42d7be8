package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one mutant's row of the report.
type Result struct {
	Mutant     *Mutant
	Stale      error  // the mutant did not apply
	Broken     string // compile errors of the mutated tree
	Unit       Verdict
	UnitDetail string
	UnitTook   time.Duration
	Sweep      SweepOutcome
}

// Escaped says the mutant fails the suite: stale, broken, or missed by its sweep.
func (r Result) Escaped() bool {
	return r.Stale != nil || r.Broken != "" || r.Sweep.Verdict != VerdictCaught
}

func runAll(mutants []*Mutant, cfg config) int {
	start := time.Now()
	scratch, err := NewScratch(cfg.root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "petrel-mutate: %v\n", err)
		return 2
	}
	if cfg.keep {
		fmt.Printf("scratch copy: %s\n", scratch.Dir)
	} else {
		defer scratch.Remove()
	}
	// The unmutated build, to confirm that a seed which catches a mutant passes without it.
	base, out, err := buildSim(context.Background(), scratch.Dir, "petrel-mutate-base")
	if err != nil {
		fmt.Fprintf(os.Stderr, "petrel-mutate: the unmutated tree does not build:\n%s\n", out)
		return 2
	}
	cfg.base = base
	var results []Result
	for _, m := range mutants {
		fmt.Printf("mutant %s: %s\n", m.Name, m.Desc)
		r, err := runOne(scratch, m, cfg)
		if err != nil {
			fmt.Fprintf(os.Stderr, "petrel-mutate: %v\n", err)
			return 2
		}
		printProgress(os.Stdout, r)
		results = append(results, r)
	}
	printTable(os.Stdout, results)
	escaped := 0
	for _, r := range results {
		if r.Escaped() {
			escaped++
		}
	}
	fmt.Printf("%d mutants, %d caught by the sweep, %d escaped/stale/broken, %.0fs in all\n",
		len(results), len(results)-escaped, escaped, time.Since(start).Seconds())
	if escaped > 0 {
		return 1
	}
	return 0
}

// runOne applies a mutant to the scratch copy, runs its checks, and restores the copy. Only a
// failure to restore the copy is an error (the copy would no longer be the repository).
func runOne(s *Scratch, m *Mutant, cfg config) (r Result, err error) {
	r.Mutant = m
	saved, err := m.Apply(s)
	defer func() {
		if rerr := s.Restore(saved); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err != nil {
		if !errors.Is(err, ErrStale) {
			return r, err
		}
		r.Stale, err = err, nil
		return r, nil
	}
	bin, out, berr := buildSim(context.Background(), s.Dir, "petrel-mutate-sim")
	if berr != nil {
		r.Broken = lastLines(string(out), 6)
		return r, nil
	}
	if !cfg.sweepOnly && len(m.Units) > 0 {
		r.Unit, r.UnitDetail, r.UnitTook = runUnit(s.Dir, m.Units, cfg.limits.UnitTimeout)
		if r.Unit == VerdictBroken {
			r.Broken = r.UnitDetail
			return r, nil
		}
	}
	for _, sw := range m.Sweeps {
		r.Sweep = runSweep(s.Dir, bin, sw, cfg.limits, cfg.fresh)
		if r.Sweep.Verdict == VerdictCaught && r.Sweep.How == "fail" && !r.Sweep.Pinned {
			if ok, detail := passesWithout(s.Dir, cfg.base, r.Sweep); !ok {
				r.Sweep.Verdict = VerdictError
				r.Sweep.Detail = fmt.Sprintf("seed %d fails without the mutant too:\n%s", r.Sweep.Seed, detail)
			}
		}
		if r.Sweep.Verdict == VerdictCaught {
			break
		}
	}
	return r, err
}

func printProgress(w io.Writer, r Result) {
	switch {
	case r.Stale != nil:
		fmt.Fprintf(w, "  STALE: %v\n", r.Stale)
	case r.Broken != "":
		fmt.Fprintf(w, "  BROKEN (does not compile):\n%s\n", indent(r.Broken))
	default:
		if r.Unit != VerdictSkipped {
			fmt.Fprintf(w, "  unit %s in %.0fs %s\n", unitCell(r.Unit), r.UnitTook.Seconds(), r.UnitDetail)
		}
		fmt.Fprintf(w, "  sweep %s %s\n", r.Sweep.Verdict, sweepCell(r.Sweep))
		if r.Sweep.Detail != "" {
			fmt.Fprintf(w, "%s\n", indent(r.Sweep.Detail))
		}
	}
}

// printTable writes the summary: mutant, unit caught?, sweep caught?, first seed, seeds, time.
func printTable(w io.Writer, results []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MUTANT\tUNIT\tSWEEP\tFIRST SEED\tSEEDS RUN\tSECONDS")
	for _, r := range results {
		switch {
		case r.Stale != nil:
			fmt.Fprintf(tw, "%s\t-\tSTALE\t-\t-\t-\n", r.Mutant.Name)
		case r.Broken != "":
			fmt.Fprintf(tw, "%s\t-\tBROKEN\t-\t-\t-\n", r.Mutant.Name)
		default:
			s := r.Sweep
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%.0f\n", r.Mutant.Name, unitCell(r.Unit), s.Verdict, seedCell(s), s.SeedsRun, s.Took.Seconds())
		}
	}
	tw.Flush()
}

// unitCell: unit tests missing a mutant is worth knowing but not a failure (the sweep is the
// promise), so it is not shouted.
func unitCell(v Verdict) string {
	if v == VerdictMissed {
		return "missed"
	}
	return v.String()
}

func seedCell(s SweepOutcome) string {
	if s.Verdict != VerdictCaught {
		return "-"
	}
	cell := fmt.Sprintf("%s %d", s.Workload, s.Seed)
	if s.Pinned {
		cell = "pinned " + cell
	}
	if s.How != "fail" {
		cell += " (" + s.How + ")"
	}
	return cell
}

func sweepCell(s SweepOutcome) string {
	if s.Verdict == VerdictCaught {
		return fmt.Sprintf("at %s after %d seeds, %.0fs", seedCell(s), s.SeedsRun, s.Took.Seconds())
	}
	return fmt.Sprintf("%s: %d seeds, %.0fs", s.Workload, s.SeedsRun, s.Took.Seconds())
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
