package jetstream

import (
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
)

// Pacing: replay_policy original delivers messages as far apart as they were stored (from
// the first one the consumer delivers), and rate_limit_bps (push consumers) caps the bits
// per second delivered, as nats-server's token bucket does: full at the start, holding the
// stream's max_msg_size (else the server's max_payload) in bytes, so a burst that size goes
// at once. A message that must wait holds delivery until its time, when the consumer's timer
// resumes it.

// pace is a consumer's pacing state (its executor's).
type pace struct {
	replayStart time.Duration // when the first replayed message went out (0: not yet)
	replayBase  int64         // that message's stored time
	rateNext    time.Duration // when the bucket is full again (its debt repaid)
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
	if c.rateLimited() {
		// The message may go once the bucket, after taking it, holds no debt.
		if due := max(p.rateNext, now) + c.rateCost(msgSize(msg)) - c.rateCost(c.rateBurst()); now < due {
			p.waitUntil = due
			return false
		}
	}
	return true
}

func (c *consumer) rateLimited() bool { return c.cfg.RateLimit > 0 && c.cfg.DeliverSubject != "" }

// rateCost is how long the rate limit takes to deliver size bytes.
func (c *consumer) rateCost(size int) time.Duration {
	return time.Duration(uint64(size) * 8 * uint64(time.Second) / c.cfg.RateLimit)
}

// rateBurst is the bucket's size in bytes.
func (c *consumer) rateBurst() int {
	if n := c.st.fsm.Config().MaxMsgSize; n > 0 {
		return int(n)
	}
	return int(c.svc().cfg.MaxPayload)
}

func msgSize(msg *filestore.Msg) int { return len(msg.Subject) + len(msg.Header) + len(msg.Data) }

// paced accounts a delivered message against the rate limit.
func (c *consumer) paced(msg *filestore.Msg) {
	if !c.rateLimited() {
		return
	}
	p := &c.pace
	p.rateNext = max(p.rateNext, c.mono()) + c.rateCost(msgSize(msg))
}

// paceDue is when delivery resumes, for the timer.
func (c *consumer) paceDue(take func(time.Duration)) {
	if c.pace.waitUntil > 0 {
		take(c.pace.waitUntil)
	}
}
