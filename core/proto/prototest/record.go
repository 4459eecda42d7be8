package prototest

import (
	"fmt"
	"strings"
)

// closedItem stands for "the server closed the connection" among recorded lines.
const closedItem = "\x00closed"

// Record runs the script against target, taking at each block of expectations (consecutive
// expectations on one connection) whatever the server sends until it falls quiet, and
// returns the script's text with the blocks that disagreed rewritten: for every target when
// the block had no target-specific lines, else for target alone (merged back into common
// lines when both targets then agree). Comments and sends are kept as they are.
func Record(s *Script, target Target) (string, error) {
	r := &runner{s: s, target: target, conns: map[string]Conn{}, closed: map[string]bool{}}
	defer r.closeAll()
	replace := map[int][]string{} // source line → its replacement (empty: dropped)
	steps := coalesce(s.Steps)
	for i := 0; i < len(steps); i++ {
		st := steps[i]
		if st.Kind != KindExpect && st.Kind != KindClosed {
			if err := r.step(st); err != nil {
				return "", r.fail(st, err)
			}
			continue
		}
		j := i
		for j < len(steps) && steps[j].Conn == st.Conn && (steps[j].Kind == KindExpect || steps[j].Kind == KindClosed) {
			j++
		}
		c, err := r.conn(st.Conn)
		if err != nil {
			return "", r.fail(st, err)
		}
		got := drain(c)
		if len(got) > 0 && got[len(got)-1] == closedItem {
			r.closed[st.Conn] = true
		}
		rewriteBlock(steps[i:j], got, target.Name(), s.source, replace)
		i = j - 1
	}
	var out []string
	for n, line := range s.source {
		if rep, ok := replace[n+1]; ok {
			out = append(out, rep...)
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n") + "\n", nil
}

// drain reads lines until the connection is quiet or closed.
func drain(c Conn) []string {
	var got []string
	for {
		line, ok, closed := c.Next(quiet)
		switch {
		case ok:
			got = append(got, line)
		case closed:
			return append(got, closedItem)
		default:
			return got
		}
	}
}

// rewriteBlock decides the lines of one block of expectations given what target sent.
func rewriteBlock(block []Step, got []string, target string, source []string, replace map[int][]string) {
	var mine, other []Step
	for _, st := range block {
		switch {
		case st.appliesTo(target):
			mine = append(mine, st)
		default:
			other = append(other, st)
		}
	}
	if itemsMatch(mine, got) {
		return
	}
	tag := ""
	if len(other) > 0 && !itemsMatch(other, got) {
		tag = target
	}
	var lines []string
	if tag != "" {
		for _, st := range other {
			lines = append(lines, source[st.Line-1])
		}
	}
	conn := block[0].Conn
	for k, item := range got {
		lines = append(lines, renderItem(conn, tag, item, mine, k, source))
	}
	for k, st := range block {
		if k == 0 {
			replace[st.Line] = lines
		} else {
			replace[st.Line] = nil
		}
	}
}

// itemsMatch reports whether the expectations describe exactly the items received.
func itemsMatch(steps []Step, got []string) bool {
	if len(steps) != len(got) {
		return false
	}
	for k, st := range steps {
		if (st.Kind == KindClosed) != (got[k] == closedItem) {
			return false
		}
		if st.Kind == KindExpect && !LineMatches(st.Want, got[k]) {
			return false
		}
	}
	return true
}

// renderItem writes one received item as a script line, keeping the source text of the
// expectation at the same position when it already matches (so INFO patterns and ${X*N}
// survive a rewrite).
func renderItem(conn, tag, item string, mine []Step, k int, source []string) string {
	if k < len(mine) && mine[k].Target == "" && tag == "" {
		st := mine[k]
		if (st.Kind == KindClosed && item == closedItem) || (st.Kind == KindExpect && item != closedItem && LineMatches(st.Want, item)) {
			return source[st.Line-1]
		}
	}
	if item == closedItem {
		return fmt.Sprintf("%s!%s closed", conn, tag)
	}
	if strings.HasPrefix(item, "INFO {") {
		item = "INFO"
	}
	return fmt.Sprintf("%s<%s %s", conn, tag, encode(item))
}
