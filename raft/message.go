package raft

import (
	"fmt"

	"github.com/petrel-io/petrel/core/env"
)

// MessageType names what a Message asks or answers.
type MessageType uint8

// Message types. The local ones (marked) are stepped by the RawNode on its own member and
// never cross the network; the decoder rejects them.
const (
	MsgHup            MessageType = 1  // local: start an election
	MsgBeat           MessageType = 2  // local: the leader should send heartbeats
	MsgProp           MessageType = 3  // local: propose entries
	MsgApp            MessageType = 4  // append entries after (Index, LogTerm); carries Commit
	MsgAppResp        MessageType = 5  // accepted up to Index, or Reject with RejectHint/LogTerm
	MsgVote           MessageType = 6  // vote for me in Term; my log ends at (Index, LogTerm)
	MsgVoteResp       MessageType = 7  //
	MsgPreVote        MessageType = 8  // would you vote for me in Term? (no state changes)
	MsgPreVoteResp    MessageType = 9  //
	MsgHeartbeat      MessageType = 10 // leader is alive; commit up to Commit; Context echoes
	MsgHeartbeatResp  MessageType = 11 //
	MsgSnap           MessageType = 12 // one chunk of a snapshot (Snap)
	MsgSnapResp       MessageType = 13 // chunk received up to Snap.Offset (Reject: resend from there)
	MsgTimeoutNow     MessageType = 14 // leadership transfer: campaign now, skipping pre-vote
	MsgReadIndex      MessageType = 15 // a follower asks the leader for a read index (Context)
	MsgReadIndexResp  MessageType = 16 // the read index for Context is Index
	MsgTransferLeader MessageType = 17 // local or forwarded: transfer leadership to From
	MsgCheckQuorum    MessageType = 18 // local: the leader checks it heard from a quorum
	MsgUnreachable    MessageType = 19 // local: the transport could not reach From
	msgTypeEnd        MessageType = 20
)

var msgNames = [...]string{"", "MsgHup", "MsgBeat", "MsgProp", "MsgApp", "MsgAppResp", "MsgVote",
	"MsgVoteResp", "MsgPreVote", "MsgPreVoteResp", "MsgHeartbeat", "MsgHeartbeatResp", "MsgSnap",
	"MsgSnapResp", "MsgTimeoutNow", "MsgReadIndex", "MsgReadIndexResp", "MsgTransferLeader",
	"MsgCheckQuorum", "MsgUnreachable"}

func (t MessageType) String() string {
	if t > 0 && t < msgTypeEnd {
		return msgNames[t]
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// isLocal reports whether t is stepped only by the member itself.
func (t MessageType) isLocal() bool {
	switch t {
	case MsgHup, MsgBeat, MsgProp, MsgCheckQuorum, MsgUnreachable:
		return true
	}
	return false
}

// isResponse reports whether t answers a request of the leader or a candidate.
func (t MessageType) isResponse() bool {
	switch t {
	case MsgAppResp, MsgVoteResp, MsgPreVoteResp, MsgHeartbeatResp, MsgSnapResp, MsgUnreachable:
		return true
	}
	return false
}

func voteRespType(t MessageType) MessageType {
	if t == MsgPreVote {
		return MsgPreVoteResp
	}
	return MsgVoteResp
}

// Message is what members send each other. Which fields matter depends on Type (see the
// constants); unused fields are zero.
type Message struct {
	Type    MessageType
	To      ID
	From    ID
	Term    env.Term
	LogTerm env.Term  // MsgApp: term of entry Index; votes: term of the last entry
	Index   env.Index // MsgApp: the entry before Entries; votes: last index; responses: see type
	Commit  env.Index
	Reject  bool
	// RejectHint is, on a rejected MsgAppResp, the highest index the follower might share
	// with the leader (its term is in LogTerm), so the leader skips ahead while probing.
	RejectHint env.Index
	Entries    []Entry
	// Context is opaque to raft: ReadIndex request ids, and the transfer flag on votes.
	Context []byte
	// Snap is set on MsgSnap (a chunk) and MsgSnapResp (the offset received).
	Snap *SnapshotChunk
}

// SnapshotChunk is part of a snapshot in flight: Data is the snapshot's bytes from Offset,
// of Total in all. A response carries Offset only: every byte before it has arrived.
type SnapshotChunk struct {
	Meta   SnapshotMeta
	Offset uint64
	Total  uint64
	Data   []byte
}

func (m Message) String() string {
	s := fmt.Sprintf("%d->%d %v Term:%d", m.From, m.To, m.Type, m.Term)
	switch m.Type {
	case MsgApp:
		s += fmt.Sprintf(" Log:%d/%d Commit:%d", m.LogTerm, m.Index, m.Commit)
		if len(m.Entries) > 0 {
			s += " Entries:["
			for i := range m.Entries {
				if i > 0 {
					s += ", "
				}
				s += entryString(&m.Entries[i])
			}
			s += "]"
		}
	case MsgAppResp:
		if m.Reject {
			s += fmt.Sprintf(" Rejected (Hint: %d, LogTerm %d)", m.RejectHint, m.LogTerm)
		}
		s += fmt.Sprintf(" Index:%d", m.Index)
	case MsgVote, MsgPreVote:
		s += fmt.Sprintf(" Log:%d/%d", m.LogTerm, m.Index)
	case MsgVoteResp, MsgPreVoteResp:
		if m.Reject {
			s += " Rejected"
		}
	case MsgHeartbeat, MsgHeartbeatResp, MsgReadIndex, MsgReadIndexResp:
		if m.Type == MsgHeartbeat {
			s += fmt.Sprintf(" Commit:%d", m.Commit)
		}
		if m.Type == MsgReadIndexResp {
			s += fmt.Sprintf(" Index:%d", m.Index)
		}
	case MsgSnap:
		if c := m.Snap; c != nil {
			s += fmt.Sprintf(" Snapshot:%d/%d [%d+%d of %d]", c.Meta.Term, c.Meta.Index, c.Offset, len(c.Data), c.Total)
		}
	case MsgSnapResp:
		if c := m.Snap; c != nil {
			s += fmt.Sprintf(" Snapshot:%d/%d Offset:%d", c.Meta.Term, c.Meta.Index, c.Offset)
		}
		if m.Reject {
			s += " Rejected"
		}
	}
	if len(m.Context) > 0 && m.Type != MsgVote && m.Type != MsgPreVote {
		s += fmt.Sprintf(" Context:%q", m.Context)
	} else if len(m.Context) > 0 {
		s += " Transfer"
	}
	return s
}

func entryString(e *Entry) string {
	if e.Type == EntryConfChange {
		cc, err := decodeConfChange(e.Data)
		if err != nil {
			return fmt.Sprintf("%d/%d %v <bad: %v>", e.Term, e.Index, e.Type, err)
		}
		return fmt.Sprintf("%d/%d %v %v %d", e.Term, e.Index, e.Type, cc.Type, cc.Node)
	}
	return fmt.Sprintf("%d/%d %v %q", e.Term, e.Index, e.Type, e.Data)
}
