package workload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/raft"
)

// kvFSM is the raft workload's replicated state machine: a string map with put and
// compare-and-set. It folds every applied command into a running hash, so the checker can
// compare members' states at each index (and a snapshot's against the log's).
type kvFSM struct {
	data map[string]string
	hash uint64
}

func newKVFSM() *kvFSM { return &kvFSM{data: map[string]string{}} }

// Commands: "P key value" and "C key old new" ("_" is the absent value).
func (f *kvFSM) Apply(index env.Index, cmd []byte) any {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], f.hash)
	binary.LittleEndian.PutUint64(b[8:], uint64(index))
	h.Write(b[:])
	h.Write(cmd)
	f.hash = h.Sum64()
	fields := strings.Fields(string(cmd))
	switch {
	case len(fields) == 3 && fields[0] == "P":
		f.data[fields[1]] = fields[2]
		return "OK"
	case len(fields) == 4 && fields[0] == "C":
		cur, ok := f.data[fields[1]]
		if !ok {
			cur = absent
		}
		if cur != fields[2] {
			return "FAIL " + cur
		}
		f.data[fields[1]] = fields[3]
		return "OK"
	}
	env.Assertf(false, "kv: unknown command %q at %d", cmd, index)
	return nil
}

const absent = "_"

func (f *kvFSM) get(key string) string {
	if v, ok := f.data[key]; ok {
		return v
	}
	return absent
}

func (f *kvFSM) Snapshot() ([]byte, error) {
	keys := make([]string, 0, len(f.data))
	for k := range f.data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d\n", f.hash)
	for _, k := range keys {
		fmt.Fprintf(&sb, "%s %s\n", k, f.data[k])
	}
	return []byte(sb.String()), nil
}

func (f *kvFSM) Restore(data []byte) error {
	f.data, f.hash = map[string]string{}, 0
	if len(data) == 0 {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if _, err := fmt.Sscan(lines[0], &f.hash); err != nil {
		return fmt.Errorf("kv restore: hash line %q: %w", lines[0], err)
	}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, " ")
		if !ok {
			return fmt.Errorf("kv restore: bad line %q", l)
		}
		f.data[k] = v
	}
	return nil
}

// kvServer answers clients on one member: "PUT id key value", "GET id key" and
// "CAS id key old new", one per line. Replies: "OK id", "VAL id value", "FAIL id current"
// (a CAS that did not match), "REDIRECT id name" (not the leader; "?" if unknown),
// "ERR id why" (definitely not applied), "UNKNOWN id" (may or may not be applied).
type kvServer struct {
	e     *env.Env
	wl    *Raft
	id    raft.ID
	node  *raft.Node
	fsm   *kvFSM
	names map[raft.ID]string
}

const raftClientPort = 7100

func (s *kvServer) listen() error {
	_, err := s.e.Net.Listen(portAddr(raftClientPort), s.e.Exec.New("kv-accept"), func(c env.Conn) {
		c.Start(s.e.Exec.New("kv-conn"), &kvConn{s: s, c: c})
	})
	return err
}

type kvConn struct {
	s    *kvServer
	c    env.Conn
	line lineBuffer
}

func (kc *kvConn) reply(format string, args ...any) {
	// A failed write means the connection is going away; the client times out and retries.
	_ = kc.c.Write([]byte(fmt.Sprintf(format, args...) + "\n"))
}

func (kc *kvConn) OnData(p []byte) {
	kc.line.feed(p, func(line string) {
		f := strings.Fields(line)
		if len(f) < 3 {
			kc.reply("ERR ? malformed")
			return
		}
		id := f[1]
		switch {
		case f[0] == "PUT" && len(f) == 4:
			kc.propose(id, "P "+f[2]+" "+f[3])
		case f[0] == "CAS" && len(f) == 5:
			kc.propose(id, "C "+f[2]+" "+f[3]+" "+f[4])
		case f[0] == "GET" && len(f) == 3:
			kc.get(id, f[2])
		default:
			kc.reply("ERR %s malformed", id)
		}
	})
}

func (kc *kvConn) OnClose(error) { _ = kc.c.Close() }

func (kc *kvConn) propose(id, cmd string) {
	kc.s.node.Propose([]byte(cmd), func(res any, err error) {
		switch {
		case err == nil && res == "OK":
			kc.reply("OK %s", id)
		case err == nil:
			kc.reply("FAIL %s %s", id, strings.TrimPrefix(res.(string), "FAIL "))
		default:
			kc.replyErr(id, err)
		}
	})
}

func (kc *kvConn) get(id, key string) {
	if kc.s.wl.cutFromPeers(kc.s.id) {
		kc.s.wl.w.Hit("raft.read.cut-from-peers") // a read at a member its peers cannot hear
	}
	kc.s.node.ReadIndex(func(err error) {
		if err != nil {
			kc.replyErr(id, err)
			return
		}
		kc.reply("VAL %s %s", id, kc.s.fsm.get(key)) // on the raft executor: the FSM is ours
	})
}

func (kc *kvConn) replyErr(id string, err error) {
	var nl raft.NotLeaderError
	switch {
	case errors.As(err, &nl):
		name := kc.s.names[nl.Leader]
		if name == "" {
			name = "?"
		}
		kc.reply("REDIRECT %s %s", id, name)
	case errors.Is(err, raft.ErrOutcomeUnknown):
		kc.reply("UNKNOWN %s", id)
	default:
		kc.reply("ERR %s %s", id, strings.ReplaceAll(err.Error(), " ", "_"))
	}
}

func portAddr(port int) string { return fmt.Sprintf(":%d", port) }
