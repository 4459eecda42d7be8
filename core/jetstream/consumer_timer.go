package jetstream

import "time"

// One timer per consumer, armed for the earliest of: a waiting request's expiry, a waiting
// request's idle heartbeat, and the next redelivery deadline. It may fire early (see arm);
// tick acts only on what is due.

// arm (re)arms the consumer's timer for its next due time.
func (c *consumer) arm() {
	if c.phase != consumerActive {
		return
	}
	at, ok := c.nextDue()
	if !ok {
		if c.timer != nil {
			c.timer.Stop()
			c.timer = nil
		}
		return
	}
	if c.timer != nil {
		// A timer due no later than at stays: its tick does only what is due by then and
		// arms again for the rest. Re-arming for a later time at every ack (each one moves
		// the earliest redelivery deadline a little later) cost a timer per message.
		if c.timerAt <= at {
			return
		}
		c.timer.Stop()
	}
	c.timerAt = at
	c.timer = c.svc().env.Clock.AfterFunc(at-c.mono(), c.st.ex, c.tick)
}

// nextDue is the monotonic time of the next thing to do.
func (c *consumer) nextDue() (time.Duration, bool) {
	var at time.Duration
	ok := false
	take := func(t time.Duration) {
		if !ok || t < at {
			at, ok = t, true
		}
	}
	for _, r := range c.waiting {
		if r.expires > 0 {
			take(r.expires)
		}
		if r.heartbeat > 0 {
			take(r.lastSent + r.heartbeat)
		}
	}
	c.pushDue(take)
	c.pauseDue(take)
	c.pinDue(take)
	c.paceDue(take)
	if c.cfg.InactiveThreshold > 0 && len(c.waiting) == 0 && !c.push.bound {
		take(c.lastActive + c.cfg.InactiveThreshold)
	}
	if len(c.waiting) > 0 || c.cfg.DeliverSubject != "" {
		if deadline, due := c.fsm.NextDeadline(); due {
			// wall-clock deadline to monotonic: how far away it is now
			take(c.mono() + max(time.Duration(deadline-c.now()), 0))
		}
	}
	return at, ok
}

// tick expires requests, sends heartbeats and redelivers what is due.
func (c *consumer) tick() {
	c.timer = nil
	if c.phase != consumerActive {
		return
	}
	now := c.mono()
	kept := c.waiting[:0]
	for _, r := range c.waiting {
		switch {
		case r.expires > 0 && now >= r.expires:
			c.endRequest(r, 408, "Request Timeout")
			continue
		case r.heartbeat > 0 && now >= r.lastSent+r.heartbeat:
			c.status(r.reply, 100, "Idle Heartbeat")
			r.lastSent = now
		}
		kept = append(kept, r)
	}
	c.waiting = kept
	c.pinTick(now)
	c.deliver()
	c.pushTick(now)
	if c.inactive(now) {
		c.delete()
		return
	}
	c.arm()
}
