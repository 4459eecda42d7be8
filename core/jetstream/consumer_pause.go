package jetstream

import (
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/jsapi"
)

// Pausing (ADR-44 level 1): a consumer with pause_until in the future delivers nothing until
// then; its pull requests wait and its heartbeats go on. CONSUMER.PAUSE sets or clears it
// (a zero or past time resumes), durably for a durable consumer, and advises it.

type pauseAdvisory struct {
	typedEvent
	Stream     string    `json:"stream"`
	Consumer   string    `json:"consumer"`
	Paused     bool      `json:"paused"`
	PauseUntil time.Time `json:"pause_until,omitempty"`
	Domain     string    `json:"domain,omitempty"`
}

// paused reports whether the consumer is paused now.
func (c *consumer) paused() bool {
	return c.cfg.PauseUntil != nil && c.svc().now().Before(*c.cfg.PauseUntil)
}

// pauseDue is when a paused consumer resumes, for the timer.
func (c *consumer) pauseDue(take func(time.Duration)) {
	if c.paused() {
		take(c.mono() + c.cfg.PauseUntil.Sub(c.svc().now()))
	}
}

// consumerPause answers CONSUMER.PAUSE.
func (a *account) consumerPause(m bus.Msg, args []string) {
	var req jsapi.PauseRequest
	if !a.decodeInto(m, jsapi.ConsumerPauseType, &req) {
		return
	}
	a.consumerOf(m, args, jsapi.ConsumerPauseType, func(c *consumer) {
		cfg := c.cfg
		cfg.PauseUntil = nil
		if until := req.PauseUntil.UTC(); !until.IsZero() {
			cfg.PauseUntil = &until
		}
		jsapi.SetStaticConsumerMetadata(&cfg)
		if err := c.update(cfg); err != nil {
			a.replyError(m.Reply, jsapi.ConsumerPauseType, jsapi.NewError(jsapi.ErrConsumerCreate, err.Error()))
			return
		}
		resp := &jsapi.PauseResponse{Response: jsapi.Response{Type: jsapi.ConsumerPauseType}, PauseUntil: req.PauseUntil.UTC()}
		if resp.Paused = c.paused(); resp.Paused {
			resp.PauseRemaining = cfg.PauseUntil.Sub(c.svc().now())
		}
		a.reply(m.Reply, resp)
		a.advise(advisoryPrefix+"CONSUMER.PAUSE."+c.st.name+"."+c.name, "consumer_pause", func(ev typedEvent) any {
			return pauseAdvisory{typedEvent: ev, Stream: c.st.name, Consumer: c.name, Paused: resp.Paused,
				PauseUntil: resp.PauseUntil, Domain: a.svc.cfg.Domain}
		})
	})
}
