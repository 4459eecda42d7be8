package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Limits of one mutant's runs: a sweep that prints nothing for hangAfter is hung (a planted
// infinite loop); the whole sweep and the unit tests each get a wall-clock budget.
type Limits struct {
	HangAfter    time.Duration
	SweepTimeout time.Duration
	UnitTimeout  time.Duration
}

// Verdict names how a run of the unit tests or the sweep ended for a mutant.
type Verdict int

const (
	VerdictSkipped Verdict = iota // not run (-sweep-only, or no unit: line)
	VerdictCaught                 // a test or seed failed: the bug was seen
	VerdictMissed                 // everything passed: the bug escaped
	VerdictBroken                 // the mutant does not compile
	VerdictError                  // the run itself went wrong (bad workload name, tool failure)
)

func (v Verdict) String() string {
	return [...]string{"-", "caught", "MISSED", "BROKEN", "ERROR"}[v]
}

// SweepOutcome is what a sweep of one workload saw.
type SweepOutcome struct {
	Verdict  Verdict
	Workload string
	Seed     uint64 // the first failing seed (when caught)
	Pinned   bool   // the failing seed was a pinned regression seed, replayed before the sweep
	How      string // "fail", "hang", "crash", "coverage"
	SeedsRun int    // fresh seeds completed or failed (pinned ones not counted)
	Detail   string // the failure line, or why the run went wrong
	Took     time.Duration
}

var (
	reFailPinned = regexp.MustCompile(`^FAIL pinned (\S+) seed (\d+)`)
	reFail       = regexp.MustCompile(`^FAIL (\S+) seed (\d+):`)
	reProgress   = regexp.MustCompile(`^(\S+) seed (\d+): hash`)
	// A required coverage point that never fired: a dead fault or an unreached path.
	reFailCoverage = regexp.MustCompile(`^FAIL coverage: .* (\S+) never hit (\S+)`)
)

// buildSim compiles the scratch copy's petrel-sim into bin/<name>; a compile error means the
// mutant is broken.
func buildSim(ctx context.Context, dir, name string) (bin string, out []byte, err error) {
	bin = filepath.Join(dir, "bin", name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-tags", "invariants", "-o", bin, "./cmd/petrel-sim")
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	return bin, out, err
}

// runUnit runs the unit tests of the mutant's packages in the scratch copy.
func runUnit(dir string, pkgs []string, limit time.Duration) (Verdict, string, time.Duration) {
	start := time.Now()
	args := append([]string{"test", "-trimpath", "-count=1", "-tags", "invariants", "-timeout", limit.String()}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := runGroup(cmd, limit+time.Minute)
	took := time.Since(start)
	switch {
	case err == nil:
		return VerdictMissed, "", took
	case strings.Contains(out.String(), "[build failed]") || strings.Contains(out.String(), "[setup failed]"):
		return VerdictBroken, lastLines(out.String(), 8), took
	}
	return VerdictCaught, firstFailure(out.String()), took
}

// runSweep runs the scratch build of petrel-sim over one workload's seeds and stops it at the
// first failing seed (pinned regression seeds are replayed first, as in make sim).
func runSweep(dir, bin string, sw Sweep, lim Limits, fresh bool) SweepOutcome {
	start := time.Now()
	res := SweepOutcome{Workload: sw.Workload}
	args := []string{"-workload", sw.Workload, "-seeds", strconv.Itoa(sw.Seeds), "-from", "1", "-v"}
	if fresh {
		args = append(args, "-pinned", filepath.Join(dir, "no-pinned-seeds")) // a missing file: none replayed
	}
	// As make sim does: a required coverage point that never fires fails the sweep, which is
	// how a planted dead fault is caught.
	if cov := filepath.Join("testdata", "sim", "coverage.txt"); fileExists(filepath.Join(dir, cov)) {
		args = append(args, "-coverage", cov)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return SweepOutcome{Verdict: VerdictError, Workload: sw.Workload, Detail: err.Error()}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return SweepOutcome{Verdict: VerdictError, Workload: sw.Workload, Detail: err.Error()}
	}
	dog := newWatchdog(cmd.Process.Pid, lim)
	last := scanSweep(stdout, &res, dog)
	waitErr := cmd.Wait()
	dog.stop()
	res.Took = time.Since(start)
	switch {
	case res.Verdict == VerdictCaught:
	case dog.fired() != "":
		res.Verdict, res.How, res.Seed = VerdictCaught, dog.fired(), last+1
		res.Detail = fmt.Sprintf("no output for %v: killed", lim.HangAfter)
		if res.How == "timeout" {
			res.Detail = fmt.Sprintf("over its %v budget: killed", lim.SweepTimeout)
		}
	case waitErr == nil:
		res.Verdict = VerdictMissed
	case exitCode(waitErr) == 2:
		res.Verdict, res.Detail = VerdictError, lastLines(stderr.String(), 4)
	default:
		// A crash of the whole process (a panic the runner did not catch) fails make sim too.
		res.Verdict, res.How, res.Seed = VerdictCaught, "crash", last+1
		res.SeedsRun++
		res.Detail = lastLines(stderr.String(), 4)
	}
	return res
}

// passesWithout reruns the seed a sweep failed on with the unmutated build: a seed that fails
// without the mutant too is not a catch (raft seed 755 once failed on its own and passed two
// planted bugs off as caught).
func passesWithout(dir, base string, o SweepOutcome) (bool, string) {
	cmd := exec.Command(base, "-workload", o.Workload, "-seed", strconv.FormatUint(o.Seed, 10))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return err == nil, lastLines(string(out), 4)
}

// scanSweep reads petrel-sim's output until the first failure (then kills the sweep) and
// returns the last seed that completed.
func scanSweep(r io.Reader, res *SweepOutcome, dog *watchdog) (last uint64) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		dog.feed()
		line := sc.Text()
		if res.Verdict == VerdictCaught {
			if strings.HasPrefix(strings.TrimSpace(line), "replay:") && !strings.Contains(res.Detail, "replay:") {
				res.Detail += "\n" + line
			}
			continue // drain until the kill lands
		}
		if m := reFailPinned.FindStringSubmatch(line); m != nil {
			seed, _ := strconv.ParseUint(m[2], 10, 64)
			*res = SweepOutcome{Verdict: VerdictCaught, Workload: m[1], Seed: seed, Pinned: true, How: "fail", Detail: line}
			dog.kill()
			continue
		}
		if m := reFail.FindStringSubmatch(line); m != nil {
			seed, _ := strconv.ParseUint(m[2], 10, 64)
			*res = SweepOutcome{Verdict: VerdictCaught, Workload: m[1], Seed: seed, How: "fail", SeedsRun: int(seed), Detail: line}
			dog.kill()
			continue
		}
		if m := reFailCoverage.FindStringSubmatch(line); m != nil {
			*res = SweepOutcome{Verdict: VerdictCaught, Workload: m[1], How: "coverage", SeedsRun: res.SeedsRun, Seed: last, Detail: line}
			continue
		}
		if m := reProgress.FindStringSubmatch(line); m != nil {
			last, _ = strconv.ParseUint(m[2], 10, 64)
			res.SeedsRun = int(last)
		}
	}
	return last
}

// watchdog kills the sweep's process group when it goes quiet too long or runs over budget.
type watchdog struct {
	mu     sync.Mutex
	pid    int
	why    string
	fed    chan struct{}
	done   chan struct{}
	killed bool
}

func newWatchdog(pid int, lim Limits) *watchdog {
	d := &watchdog{pid: pid, fed: make(chan struct{}, 1), done: make(chan struct{})}
	go d.watch(lim)
	return d
}

func (d *watchdog) watch(lim Limits) {
	overall := time.NewTimer(lim.SweepTimeout)
	defer overall.Stop()
	quiet := time.NewTimer(lim.HangAfter)
	defer quiet.Stop()
	for {
		select {
		case <-d.done:
			return
		case <-d.fed:
			if !quiet.Stop() {
				<-quiet.C
			}
			quiet.Reset(lim.HangAfter)
		case <-quiet.C:
			d.killFor("hang")
			return
		case <-overall.C:
			d.killFor("timeout")
			return
		}
	}
}

func (d *watchdog) feed() {
	select {
	case d.fed <- struct{}{}:
	default:
	}
}

func (d *watchdog) killFor(why string) {
	d.mu.Lock()
	d.why = why
	d.mu.Unlock()
	d.kill()
}

// kill ends the sweep's process group (it started it with Setpgid), once.
func (d *watchdog) kill() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.killed && d.pid > 0 {
		d.killed = true
		_ = syscall.Kill(-d.pid, syscall.SIGKILL) // best effort: Wait reports how it ended
	}
}

func (d *watchdog) fired() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.why
}

func (d *watchdog) stop() { close(d.done) }

// runGroup runs cmd in its own process group and kills the group if it runs over limit.
func runGroup(cmd *exec.Cmd, limit time.Duration) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	timer := time.AfterFunc(limit, func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // over budget: Wait returns the kill
	})
	defer timer.Stop()
	return cmd.Wait()
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// firstFailure picks the first "--- FAIL" or "FAIL" line of go test's output.
func firstFailure(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--- FAIL") || strings.HasPrefix(line, "panic:") {
			return strings.TrimSpace(line)
		}
	}
	return lastLines(out, 3)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
