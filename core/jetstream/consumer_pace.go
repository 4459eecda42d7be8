package jetstream

import (
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
)

// Pacing: replay_policy original delivers messages as far apart as they were stored (from
// the first one the consumer delivers), and rate_limit_bps (push consumers) caps the bits
// per second delivered. A message that must wait holds delivery until its time, when the
// consumer's timer resumes it.

// pace is a consumer's pacing state (its executor's).
type pace struct {
	replayStart time.Duration // when the first replayed message went out (0: not yet)
	replayBase  int64         // that message's stored time
	rateNext    time.Duration // when the rate limit allows the next message
	waitUntil   time.Duration // what delivery waits for (0: nothing)
}

// gate reports whether msg may go out now (the turn's monotonic time); if not, delivery
// waits until waitUntil.
func (c *consumer) gate(msg *filestore.Msg, now time.Duration) bool {
	p := &c.pace
	p.waitUntil = 0
	if c.cfg.ReplayPolicy == jsapi.ReplayOriginal {
		if p.replayStart == 0 {
			p.replayStart, p.replayBase = now, msg.Time
		}
		if due := p.replayStart + time.Duration(msg.Time-p.replayBase); now < due {
			p.waitUntil = due
			return false
		}
	}
	if c.cfg.RateLimit > 0 && c.cfg.DeliverSubject != "" && now < p.rateNext {
		p.waitUntil = p.rateNext
		return false
	}
	return true
}

// paced accounts a delivered message against the rate limit.
func (c *consumer) paced(size int) {
	if c.cfg.RateLimit == 0 || c.cfg.DeliverSubject == "" {
		return
	}
	p := &c.pace
	p.rateNext = max(p.rateNext, c.mono()) + time.Duration(uint64(size)*8*uint64(time.Second)/c.cfg.RateLimit)
}

// paceDue is when delivery resumes, for the timer.
func (c *consumer) paceDue(take func(time.Duration)) {
	if c.pace.waitUntil > 0 {
		take(c.pace.waitUntil)
	}
}
