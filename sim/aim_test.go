package sim

import (
	"errors"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// TestAimedCrashUnwindsAtTheIOCall: with one kind on at probability 1, the node dies at its
// first such call, the rest of the function does not run, deferred code that touches the
// dead file system gets an error instead of an assertion, and the node restarts.
func TestAimedCrashUnwindsAtTheIOCall(t *testing.T) {
	for kind := crashKind(0); kind < aimKinds; kind++ {
		if kind == aimAfterSend || kind == aimInRecovery {
			continue // need a peer or a restart: covered by the sweep's coverage check
		}
		prof := Quiet()
		prof.AimedCrashes = 1
		prof.AimProb[kind] = 1
		prof.RestartDelayMin, prof.RestartDelayMax = 2*time.Second, 3*time.Second
		w := NewWorld(1, Options{Profile: &prof})
		var deferredErr error
		ranPast := false
		n := w.AddNode("n1", NodeConfig{Crashable: true}, func(e *env.Env) {
			ex := e.Exec.New("w")
			var tick func()
			tick = func() {
				f, err := e.FS.Create("f")
				if err != nil {
					return
				}
				defer func() { _, deferredErr = e.FS.Stat("f") }()
				_, _ = f.Write([]byte("data"))
				_ = f.Sync()
				ranPast = true
			}
			e.Clock.AfterFunc(time.Millisecond, ex, tick)
		})
		w.StartFaults(time.Second)
		w.RunUntil(500 * time.Millisecond)
		if got := w.Coverage()["sim.crash."+kind.String()]; got != 1 {
			t.Fatalf("%v: fired %d times, want 1 (budget 1)", kind, got)
		}
		if ranPast || !errors.Is(deferredErr, errDeadProcess) {
			t.Fatalf("%v: function went on after the crash (%v) or deferred FS call said %v", kind, ranPast, deferredErr)
		}
		if w.RunUntil(10 * time.Second); n.Boots() != 2 {
			t.Fatalf("%v: %d boots, want a restart", kind, n.Boots())
		}
	}
}

// TestInSyncCrashLetsOtherExecutorsRun: an in-sync crash on a sync that takes time leaves the
// syncing function stuck (it never returns) and cuts the power later, before the sync would
// have completed; an acknowledgement posted beside the sync runs in between.
func TestInSyncCrashLetsOtherExecutorsRun(t *testing.T) {
	prof := Quiet()
	prof.SyncLatency = [2]time.Duration{time.Millisecond, 2 * time.Millisecond}
	prof.AimedCrashes = 1
	prof.AimProb[aimInSync] = 1
	prof.RestartDelayMin, prof.RestartDelayMax = 2*time.Second, 3*time.Second
	w := NewWorld(1, Options{Profile: &prof})
	var syncAt, ackAt time.Duration
	returned, ackAlive := false, false
	var n *Node
	n = w.AddNode("n1", NodeConfig{Crashable: true}, func(e *env.Env) {
		owner, syncer := e.Exec.New("owner"), e.Exec.New("syncer")
		e.Clock.AfterFunc(time.Millisecond, owner, func() {
			f, err := e.FS.Create("f")
			mustOK(t, err)
			_, err = f.Write([]byte("promised"))
			mustOK(t, err)
			syncer.Post(func() {
				syncAt = w.Now()
				_ = f.Sync()
				returned = true
			})
			owner.Post(func() { ackAt, ackAlive = w.Now(), n.Up() })
		})
	})
	w.StartFaults(time.Second)
	w.RunUntil(500 * time.Millisecond)
	if w.Coverage()["sim.crash.in-sync"] != 1 || n.Up() {
		t.Fatalf("no in-sync crash (coverage %v, up %v)", w.Coverage(), n.Up())
	}
	if returned {
		t.Fatal("the syncing function returned from a sync its machine died in")
	}
	if !ackAlive || ackAt < syncAt {
		t.Fatalf("the ack beside the sync did not run on the live node (ran at %v, sync at %v, alive %v)", ackAt, syncAt, ackAlive)
	}
}
