package jetstream

import (
	"fmt"
	"slices"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
)

// Priority groups (ADR-42) choose which waiting pull request a message goes to:
//   - pinned_client: one client at a time (the pin, sent as Nats-Pin-Id); requests with
//     another pin are told 423; the pin goes when its holder has not pulled for
//     priority_timeout, or on CONSUMER.UNPIN;
//   - overflow: a request with min_pending/min_ack_pending waits until the consumer has that
//     many pending or ack pending;
//   - prioritized: lower priority numbers first.
// Requests of a consumer without a policy are served in arrival order.

// pin is a pinned_client consumer's current pin.
type pin struct {
	id      string
	group   string
	since   time.Time
	lastUse time.Duration // when its holder last pulled (stream node's monotonic clock)
}

// pinIDLen is the pin's length (a nuid's).
const pinIDLen = 22

// checkPull refuses a pull request the consumer's limits or priority policy do not allow;
// it returns the status to answer with (0 when the request may wait).
func (c *consumer) checkPull(req jsapi.NextRequest) (int, string) {
	cfg := c.cfg
	switch {
	case cfg.MaxRequestBatch > 0 && req.Batch > cfg.MaxRequestBatch:
		return 409, fmt.Sprintf("Exceeded MaxRequestBatch of %d", cfg.MaxRequestBatch)
	case cfg.MaxRequestExpires > 0 && req.Expires > cfg.MaxRequestExpires:
		return 409, fmt.Sprintf("Exceeded MaxRequestExpires of %v", cfg.MaxRequestExpires)
	case cfg.MaxRequestMaxBytes > 0 && req.MaxBytes > cfg.MaxRequestMaxBytes:
		return 409, fmt.Sprintf("Exceeded MaxRequestMaxBytes of %v", cfg.MaxRequestMaxBytes)
	}
	g := req.PriorityGroup
	policy := cfg.PriorityPolicy
	switch {
	case (g.MinPending != 0 || g.MinAckPending != 0) && policy != jsapi.PriorityOverflow:
		return 400, "Bad Request - Not a Overflow Priority consumer"
	case g.ID != "" && policy != jsapi.PriorityPinnedClient:
		return 400, "Bad Request - Not a Pinned Client Priority consumer"
	case g.Priority < 0 || g.Priority > 9:
		return 400, "Bad Request - Priority must be between 0 and 9"
	case policy == "" || policy == jsapi.PriorityNone:
		return 0, ""
	case g.Group == "":
		return 400, "Bad Request - Priority Group missing"
	case !slices.Contains(cfg.PriorityGroups, g.Group):
		return 400, "Bad Request - Invalid Priority Group"
	case c.pin.id != "" && g.ID != "" && g.ID != c.pin.id:
		return 423, "Nats-Pin-Id mismatch"
	}
	if c.pin.id != "" && g.ID == c.pin.id {
		c.pin.lastUse = c.mono()
	}
	return 0, ""
}

// nextRequest is the waiting request the next message goes to, or nil.
func (c *consumer) nextRequest() *pullRequest {
	switch c.cfg.PriorityPolicy {
	case jsapi.PriorityPinnedClient:
		return c.pinnedRequest()
	case jsapi.PriorityOverflow:
		for _, r := range c.waiting {
			if c.overflowReady(r.group) {
				return r
			}
		}
		return nil
	case jsapi.PriorityPrioritized:
		var best *pullRequest
		for _, r := range c.waiting {
			if best == nil || r.group.Priority < best.group.Priority {
				best = r
			}
		}
		return best
	}
	if len(c.waiting) == 0 {
		return nil
	}
	return c.waiting[0]
}

// overflowReady: a request without minimums, or one whose minimum the consumer reached.
func (c *consumer) overflowReady(g jsapi.PriorityGroup) bool {
	if g.MinPending <= 0 && g.MinAckPending <= 0 {
		return true
	}
	pending := c.pending(env.Seq(c.fsm.Delivered().Stream))
	return (g.MinPending > 0 && uint64(g.MinPending) <= pending) ||
		(g.MinAckPending > 0 && g.MinAckPending <= int64(c.fsm.NumAckPending()))
}

// pinnedRequest serves the pin's holder; without a pin the first request without one takes
// it, and requests holding a stale pin are told so and dropped.
func (c *consumer) pinnedRequest() *pullRequest {
	for _, r := range slices.Clone(c.waiting) {
		switch {
		case c.pin.id == "" && r.group.ID == "":
			c.pin = pin{id: env.Token(c.svc().env.Rand, pinIDLen), group: r.group.Group, since: c.svc().now().UTC(), lastUse: c.mono()}
			r.group.ID = c.pin.id
			c.pinAdvisory("PINNED", "consumer_group_pinned", "")
			return r
		case c.pin.id != "" && r.group.ID == c.pin.id:
			return r
		case r.group.ID != "":
			c.drop(r)
			c.endRequest(r, 423, "Nats-Wrong-Pin-Id")
		}
	}
	return nil
}

// pinDue is when the pin times out, for the timer.
func (c *consumer) pinDue(take func(time.Duration)) {
	if c.pin.id != "" && c.cfg.PinnedTTL > 0 {
		take(c.pin.lastUse + c.cfg.PinnedTTL)
	}
}

// pinTick drops a pin whose holder stopped pulling.
func (c *consumer) pinTick(now time.Duration) {
	if c.pin.id != "" && c.cfg.PinnedTTL > 0 && now >= c.pin.lastUse+c.cfg.PinnedTTL {
		c.unpin("timeout")
	}
}

func (c *consumer) unpin(reason string) {
	if c.pin.id == "" {
		return
	}
	c.pinAdvisory("UNPINNED", "consumer_group_unpinned", reason)
	c.pin = pin{}
	c.deliver()
}

type pinAdvisory struct {
	typedEvent
	Account  string `json:"account"`
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	Group    string `json:"group"`
	PinnedID string `json:"pinned_id,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Domain   string `json:"domain,omitempty"`
}

func (c *consumer) pinAdvisory(what, kind, reason string) {
	a := c.st.acc
	a.advise(advisoryPrefix+"CONSUMER."+what+"."+c.st.name+"."+c.name, kind, func(ev typedEvent) any {
		return pinAdvisory{typedEvent: ev, Account: a.name, Stream: c.st.name, Consumer: c.name, Group: c.pin.group,
			PinnedID: c.pin.id, Reason: reason, Domain: a.svc.cfg.Domain}
	})
}

// priorityGroups is CONSUMER.INFO's priority_groups.
func (c *consumer) priorityGroups() []jsapi.PriorityGroupState {
	if len(c.cfg.PriorityGroups) == 0 {
		return nil
	}
	out := make([]jsapi.PriorityGroupState, 0, len(c.cfg.PriorityGroups))
	for _, g := range c.cfg.PriorityGroups {
		st := jsapi.PriorityGroupState{Group: g}
		if c.pin.id != "" && c.pin.group == g {
			st.PinnedClientID, st.PinnedTS = c.pin.id, c.pin.since
		}
		out = append(out, st)
	}
	return out
}

// consumerUnpin answers CONSUMER.UNPIN.
func (a *account) consumerUnpin(m bus.Msg, args []string) {
	var req jsapi.UnpinRequest
	if !a.decodeInto(m, jsapi.ConsumerUnpinType, &req) {
		return
	}
	if req.Group == "" {
		a.replyError(m.Reply, jsapi.ConsumerUnpinType, jsapi.NewError(jsapi.ErrInvalidJSON, "consumer group not specified"))
		return
	}
	a.consumerOf(m, args, jsapi.ConsumerUnpinType, func(c *consumer) {
		if !slices.Contains(c.cfg.PriorityGroups, req.Group) {
			a.replyError(m.Reply, jsapi.ConsumerUnpinType, jsapi.E(jsapi.ErrConsumerInvalidPriorityGroup))
			return
		}
		if c.pin.group == req.Group {
			c.unpin("admin")
		}
		a.reply(m.Reply, &jsapi.Response{Type: jsapi.ConsumerUnpinType})
	})
}
