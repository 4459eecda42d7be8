package filestore

import "github.com/petrel-io/petrel/core/env"

// Replay: the store side of recovery. A file store's blocks are a log; replaying its records
// in order rebuilds exactly the state the mutations built, because every mutation that
// changes which messages exist is logged (a message, a deletion, or a marker).

// raiseLast applies a block header's record of the store's last sequence: the block may be
// the only one left, and its messages (if any) may all be gone.
func (s *store) raiseLast(last uint64, lastTime int64) {
	if last > s.last {
		s.last, s.lastTime = last, lastTime
	}
}

// replayMsg indexes a recovered message. A message at or below a live sequence can only
// follow a Truncate or Restore marker that was lost to damage or a crash: it is treated as
// the truncation that marker was, so the index stays ordered.
func (s *store) replayMsg(seq uint64, e entry, subject string) {
	if last, _, ok := s.msgs.last(); ok && last >= seq {
		for _, q := range s.msgs.keysBetween(seq, last) {
			s.removeMsg(q, unlogged)
		}
	}
	s.index(seq, e, subject)
}

// replayErased replays an erased message record as what it stands for: the message, at its
// place in the log, immediately deleted.
func (s *store) replayErased(seq uint64, time int64) {
	if seq == 0 {
		return
	}
	if last, _, ok := s.msgs.last(); ok && last >= seq {
		for _, q := range s.msgs.keysBetween(seq, last) {
			s.removeMsg(q, unlogged)
		}
	}
	s.last, s.lastTime = seq, time
}

// applyMarker replays a sequence-range marker (and is how Restore resets a store).
func (s *store) applyMarker(m marker) {
	var doomed []uint64
	if m.reset {
		doomed = s.msgs.keysBetween(0, ^uint64(0))
	} else {
		if m.floor > 0 {
			doomed = s.msgs.keysBetween(0, m.floor-1)
		}
		if m.last < ^uint64(0) {
			doomed = append(doomed, s.msgs.keysBetween(m.last+1, ^uint64(0))...)
		}
	}
	for _, q := range doomed {
		s.removeMsg(q, unlogged)
	}
	s.last, s.lastTime = m.last, m.lastTime
}

// afterRecovery applies the configured limits to what was recovered (they may be stricter
// than the ones it was written under), expires what is due, and arms the expiry timer.
// Removals it makes are logged and committed like any other.
func (s *store) afterRecovery() {
	if err := s.SetLimits(s.cfg.Limits, nil); err != nil {
		// The limits were validated with the config; only a broken store refuses them, and
		// its next call reports that.
		s.e.Log.Logf(env.LevelError, "filestore %s: apply limits after recovery: %v", s.cfg.Dir, err)
	}
	if env.Invariants {
		s.checkInvariants()
	}
}
