package workload

import (
	"fmt"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/petrel-io/petrel/core/env"
)

// The KV history and its sequential specification, for porcupine.
//
// A key is a register with a revision (the stream sequence of its last message), possibly a
// delete marker. What makes JetStream's KV more than a register under crashes: a write is
// applied as soon as the stream stored it, before it is durable, so a crash may take back a
// write nobody was told about (a read is answered only once what it saw is durable, so a
// crash never takes back what a read showed). The model therefore keeps,
// per key, the versions since the last one known durable: an acknowledged write is durable
// (the ack waits for the fsync, which covers everything stored before it too), and a crash
// (recorded at each server boot) may keep any prefix of the versions after it. A write with
// no certain answer (timeout, lost connection, store failure) may or may not have happened.

// jsKVIn is an operation: 'g'et, 'p'ut, 'c'reate, 'u'pdate (expecting rev), 'd'elete,
// pu'r'ge, or a server crash 'x' (which belongs to every key).
type jsKVIn struct {
	kind byte
	key  string
	val  string
	rev  uint64
}

// jsKVOut is an answer. Writes: ok with the new revision, or refused (wrong last
// sequence), or unknown. Gets: found with the value, revision and whether it is a marker.
type jsKVOut struct {
	unknown, ok bool
	found, del  bool
	val         string
	rev         uint64
}

// jsKVVer is one version of a key. rev 0 on an existing version: written with no known
// answer, its revision is at least minRev.
type jsKVVer struct {
	exists, del bool
	val         string
	rev, minRev uint64
}

// jsKVState is a key's versions, the first durable, encoded as a string so porcupine can
// compare and hash states.
type jsKVState []jsKVVer

func (s jsKVState) encode() string {
	var b strings.Builder
	for _, v := range s {
		fmt.Fprintf(&b, "%v,%v,%s,%d,%d;", v.exists, v.del, v.val, v.rev, v.minRev)
	}
	return b.String()
}

func decodeKVState(x string) jsKVState {
	var s jsKVState
	for _, part := range strings.Split(strings.TrimSuffix(x, ";"), ";") {
		var v jsKVVer
		f := strings.Split(part, ",")
		v.exists, v.del, v.val = f[0] == "true", f[1] == "true", f[2]
		fmt.Sscan(f[3], &v.rev)
		fmt.Sscan(f[4], &v.minRev)
		s = append(s, v)
	}
	return s
}

// floorRev is the least revision a write after v can have.
func (v jsKVVer) floorRev() uint64 {
	if v.exists && v.rev == 0 {
		return v.minRev
	}
	return v.rev + 1
}

// revIs reports whether v's revision may be rev. A version of unknown revision (rev 0) may
// have any revision from minRev up, never 0: the model once also matched it with 0 (rev ==
// v.rev), so an update expecting 0 (no message on the key) that the server refused, rightly,
// after a put with a lost answer had stored one, failed the check (seed 69).
func (v jsKVVer) revIs(rev uint64) bool {
	if v.exists && v.rev == 0 {
		return rev >= v.minRev
	}
	return v.rev == rev
}

func jsKVStep(state, input, output any) []any {
	s, in, out := decodeKVState(state.(string)), input.(jsKVIn), output.(jsKVOut)
	cur := s[len(s)-1]
	switch in.kind {
	case 'x':
		res := make([]any, 0, len(s))
		for i := range s {
			res = append(res, s[:i+1].encode())
		}
		return res
	case 'g':
		return jsKVGet(s, out)
	}
	pre := true
	switch in.kind {
	case 'c':
		pre = !cur.exists
	case 'u': // expected last subject sequence: 0 when the key has no message
		pre = !cur.exists && in.rev == 0 || cur.exists && cur.revIs(in.rev)
	}
	next := jsKVVer{exists: true, del: in.kind == 'd' || in.kind == 'r', val: in.val, minRev: cur.floorRev()}
	switch {
	case out.ok && pre && out.rev >= next.minRev:
		next.rev = out.rev
		return []any{jsKVState{next}.encode()}
	case out.ok:
		return nil
	case !out.unknown && !pre:
		return []any{s.encode()}
	case !out.unknown:
		return nil
	case pre:
		return []any{s.encode(), append(s[:len(s):len(s)], next).encode()}
	}
	return []any{s.encode()}
}

// jsKVGet: a get sees the latest version; one whose revision was unknown learns it. And the
// version it saw is durable from then on, with every one before it: the server answers a
// DIRECT.GET only once everything stored before its read is durable (a read that showed a
// write a crash then took back was a bug, seeds 629, 1995, 2007), so no crash may go back
// past it.
func jsKVGet(s jsKVState, out jsKVOut) []any {
	cur := s[len(s)-1]
	switch {
	case !out.found && !cur.exists:
		return []any{jsKVState{cur}.encode()}
	case !out.found || !cur.exists || cur.val != out.val || cur.del != out.del || !cur.revIs(out.rev):
		return nil
	}
	cur.rev = out.rev
	return []any{jsKVState{cur}.encode()}
}

var jsKVModel = porcupine.NondeterministicModel{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var crashes []porcupine.Operation
		for _, op := range history {
			in := op.Input.(jsKVIn)
			if in.kind == 'x' {
				crashes = append(crashes, op)
				continue
			}
			byKey[in.key] = append(byKey[in.key], op)
		}
		var out [][]porcupine.Operation
		for _, k := range env.SortedKeys(byKey) {
			out = append(out, append(byKey[k], crashes...))
		}
		return out
	},
	Init: func() []any { return []any{jsKVState{{}}.encode()} },
	Step: jsKVStep,
	DescribeOperation: func(input, output any) string {
		in, out := input.(jsKVIn), output.(jsKVOut)
		return fmt.Sprintf("%c %s %q rev %d -> %+v", in.kind, in.key, in.val, in.rev, out)
	},
}

// jsKVHistory is the KV clients' record.
type jsKVHistory struct {
	ops      []porcupine.Operation
	unknowns int
	crashes  int
}

func newJSKVHistory() *jsKVHistory { return &jsKVHistory{} }

func (h *jsKVHistory) add(client int, in jsKVIn, call, ret time.Duration, out jsKVOut) {
	if out.unknown {
		if in.kind == 'g' {
			return // a read with no answer constrains nothing
		}
		h.unknowns++
		ret = unknownReturn
	}
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: int64(call), Output: out, Return: int64(ret)})
}

// crash records a server boot after a crash.
func (h *jsKVHistory) crash(at time.Duration) {
	h.crashes++
	h.ops = append(h.ops, porcupine.Operation{ClientId: -1, Input: jsKVIn{kind: 'x'}, Call: int64(at), Output: jsKVOut{}, Return: int64(at)})
}

// check runs porcupine, unless a bit flipped on the server's disk: a flip may take an
// acknowledged write with it (the store reports it), which no register can explain.
func (h *jsKVHistory) check(bitFlips int) error {
	if bitFlips > 0 {
		return nil
	}
	if !porcupine.CheckOperations(jsKVModel.ToModel(), h.ops) {
		return fmt.Errorf("jetstream: the KV history of %d operations (%d unknown, %d crashes) is not linearizable", len(h.ops), h.unknowns, h.crashes)
	}
	return nil
}
