package sim

import (
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core/env"
)

// Program starts a node's software on a fresh Env. It is called at first boot and after
// every restart; everything it builds hangs off the Env and is dropped at a crash.
type Program func(e *env.Env)

// NodeConfig describes a node.
type NodeConfig struct {
	// Crashable nodes may be crashed by the fault injector.
	Crashable bool
	// DiskBytes is the disk's capacity (0: 1 GiB).
	DiskBytes int64
	// Group is the node's role for partial partitions: GroupServer nodes are peers of each
	// other, GroupClient nodes talk to them. Empty means GroupServer for a Crashable node and
	// GroupClient otherwise.
	Group string
}

// Node groups.
const (
	GroupServer = "server"
	GroupClient = "client"
)

// Group is the node's role (see NodeConfig.Group).
func (n *Node) Group() string {
	switch {
	case n.Config.Group != "":
		return n.Config.Group
	case n.Config.Crashable:
		return GroupServer
	default:
		return GroupClient
	}
}

// NodesIn returns the indexes of the nodes of a group, in order.
func (w *World) NodesIn(group string) []int {
	var out []int
	for _, n := range w.nodes {
		if n.Group() == group {
			out = append(out, n.Index)
		}
	}
	return out
}

// Node is a simulated machine: a disk, a clock and a program that runs in incarnations
// (processes) separated by crashes.
type Node struct {
	w      *World
	Index  int
	Name   string
	Config NodeConfig
	Disk   *Disk

	program Program
	rand    *env.PRNG // the node's Env.Rand, continuing across restarts
	skew    time.Duration
	drift   float64 // local seconds per virtual second, minus one
	jumps   time.Duration
	proc    *proc // nil while down
	boots   int
}

// proc is one incarnation of a node's program. Every Env object it hands out holds it and
// goes inert once alive is false.
type proc struct {
	node      *Node
	alive     bool
	bootAt    time.Duration
	executors int
	conns     []*connEnd
	listeners []*listener
}

// AddNode adds a node running program and boots it at the current time.
func (w *World) AddNode(name string, cfg NodeConfig, program Program) *Node {
	if cfg.DiskBytes == 0 {
		cfg.DiskBytes = 1 << 30
	}
	n := &Node{w: w, Index: len(w.nodes), Name: name, Config: cfg, program: program, rand: w.rng.Fork()}
	n.Disk = newDisk(n, cfg.DiskBytes)
	n.Disk.timing = newDiskTiming(w, n.Index, &w.Profile)
	n.skew, n.drift = w.Profile.drawClock(w.rng)
	w.nodes = append(w.nodes, n)
	w.net.addNode(n)
	n.boot()
	return n
}

// Up reports whether the node is running.
func (n *Node) Up() bool { return n.proc != nil }

// Boots counts how many times the node has started.
func (n *Node) Boots() int { return n.boots }

func (n *Node) boot() {
	env.Assertf(n.proc == nil, "sim: boot of %s while it is up", n.Name)
	n.boots++
	p := &proc{node: n, alive: true, bootAt: n.w.sched.now}
	n.proc = p
	e := &env.Env{
		Name:  n.Name,
		Clock: &clock{p: p},
		Rand:  n.rand,
		FS:    n.Disk.fs(),
		Net:   &netAPI{p: p},
		Exec:  &executors{p: p},
		Log:   &logger{p: p},
		Host:  simHost{},
		Probe: &n.w.coverage,
	}
	e.Validate()
	n.w.trace.note(n.w.sched.now, kindRestart, int32(n.Index), fmt.Sprintf("boot %d", n.boots))
	n.program(e)
}

// Crash stops the node at once: its process state is gone and its connections break. With
// machine set it is a power loss: the disk loses what was not synced (per the disk model)
// and peers see silence (half-open connections). Otherwise it is a process crash: the
// kernel resets the connections and the page cache keeps unsynced data.
func (n *Node) Crash(machine bool) { n.crash(machine) }

func (n *Node) crash(machine bool) {
	p := n.proc
	if p == nil {
		return
	}
	p.alive = false
	n.proc = nil
	n.w.trace.note(n.w.sched.now, kindCrash, int32(n.Index), fmt.Sprintf("crash machine=%v", machine))
	n.w.net.procDied(p, machine)
	if machine {
		n.Disk.powerLoss()
	} else {
		n.Disk.processCrash()
	}
	n.Disk.restartFlip(machine)
}

// Restart boots a crashed node now; it does nothing if the node is up.
func (n *Node) Restart() {
	if n.proc == nil {
		n.boot()
	}
}

func (n *Node) scheduleRestart(delay time.Duration) {
	n.w.sched.schedule(n.w.sched.now+delay, kindRestart, n.Index, 0, n.Restart)
}

// localMono converts a virtual interval into the node's local elapsed time.
func (n *Node) localMono(virtual time.Duration) time.Duration {
	return time.Duration(float64(virtual) * (1 + n.drift))
}

// virtualFor converts a local interval into the virtual time it takes, rounding up so a
// timer never fires early by the node's own clock.
func (n *Node) virtualFor(local time.Duration) time.Duration {
	v := float64(local) / (1 + n.drift)
	d := time.Duration(v)
	if float64(d) < v {
		d++
	}
	return d
}
