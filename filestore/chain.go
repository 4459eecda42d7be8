package filestore

import (
	"encoding/binary"
	"fmt"
)

// The commit chain. A deletion in a commit record may have been caused by a message logged
// before it in the same batch (a limit evicting the subject's oldest message, say). A power
// loss can keep some of a batch's unsynced sectors and lose others, so recovery could find
// the deletion but not its cause: an acknowledged message gone for a message that never
// survived. Each commit record therefore carries a link: its index in the store's sequence
// of commits and how many message records were logged since the previous commit. Recovery
// applies a commit's deletions only while every link matched, that is while the log it read
// is whole up to that commit. After a break it keeps reading messages (they cost nothing
// acknowledged) but ignores deletions, until a commit that starts a new chain: the first one
// written after each open, when everything before it had been made durable by recovery. A
// start is not checked against the index before it (a gap before the open is permanent) but
// still counts the messages since the last commit, those recovery read after it included:
// its own batch may have lost one.
//
// A single flipped bit never breaks the chain: a damaged message record is still framed and
// counted, and commit records are written twice.

// commitLink is what a commit record says about its place in the log.
type commitLink struct {
	index   uint64 // 1, 2, ... over the store's life
	start   bool   // the first commit written since an open: no predecessor to check
	records uint64 // message records logged since the previous commit
}

// commitChain follows the links, writing (next) and recovering (follow).
type commitChain struct {
	last    uint64 // the index of the last commit written or read
	known   bool   // reading: last is the previous commit's index
	since   uint64 // message records logged or read since it
	broken  bool   // reading: a link did not match; deletions are ignored until a start
	opened  bool   // writing: a commit was written since open (the next is no start)
	highest uint64 // reading: the highest index read
	ignored int    // reading: commits whose deletions were not applied
}

// logged counts a message record written or read.
func (c *commitChain) logged() { c.since++ }

// next returns the link for the next commit record written.
func (c *commitChain) next() commitLink {
	l := commitLink{index: c.last + 1, start: !c.opened, records: c.since}
	c.last, c.since, c.opened = l.index, 0, true
	return l
}

// follow reads a commit's link and reports whether its deletions may be applied. The second
// copy of a commit matches as a repeat.
func (c *commitChain) follow(l commitLink) bool {
	switch {
	case c.known && l.index == c.last && c.since == 0:
		return !c.broken // the second copy
	case l.start:
		c.broken = c.known && l.records != c.since
	case c.known && (l.index != c.last+1 || l.records != c.since):
		c.broken = true
	}
	c.last, c.known, c.since = l.index, true, 0
	c.highest = max(c.highest, l.index)
	if c.broken {
		c.ignored++
	}
	return !c.broken
}

// reopened readies the chain for writing after recovery read it: indexes go on from the
// highest one read, the messages read after the last commit stay counted, and the next
// commit starts a new chain.
func (c *commitChain) reopened() {
	*c = commitChain{last: c.highest, since: c.since}
}

func encodeCommitBody(l commitLink, seqs []uint64) (body []byte, rest []uint64) {
	head := l.index << 1
	if l.start {
		head |= 1
	}
	body = binary.AppendUvarint(nil, head)
	body = binary.AppendUvarint(body, l.records)
	ranges, rest := encodeDeleteBody(seqs)
	return append(body, ranges...), rest
}

// decodeCommitBody splits a commit body into its link and its deletion ranges.
func decodeCommitBody(body []byte) (commitLink, []byte, error) {
	head, n := binary.Uvarint(body)
	if n <= 0 || head>>1 == 0 {
		return commitLink{}, nil, fmt.Errorf("bad commit index")
	}
	records, m := binary.Uvarint(body[n:])
	if m <= 0 {
		return commitLink{}, nil, fmt.Errorf("bad record count")
	}
	return commitLink{index: head >> 1, start: head&1 == 1, records: records}, body[n+m:], nil
}
