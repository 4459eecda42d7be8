package core

import (
	"encoding/json"
	"fmt"

	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/sublist"
)

// The proto.Handler methods run on the client's executor, one op at a time.

// mustConnectFirst rejects ops before CONNECT when the server requires authentication.
func (c *client) mustConnectFirst() error {
	if !c.connected && c.srv.auth.Required() {
		return errAuthViolation
	}
	return nil
}

func (c *client) Connect(raw []byte) error {
	ci := defaultConnectInfo()
	if err := json.Unmarshal(raw, &ci); err != nil {
		return errCloseSilently
	}
	switch {
	case ci.Protocol < 0 || ci.Protocol > ProtoVersion:
		c.sendErr("invalid client protocol")
		return errCloseSilently
	case ci.NoResponders && !ci.Headers:
		c.sendErr("no responders requires headers support")
		return errCloseSilently
	}
	user, err := c.srv.auth.Check(auth.Credentials{User: ci.User, Pass: ci.Pass, Token: ci.Token, Nkey: ci.Nkey, Sig: ci.Sig}, c.nonce)
	if err != nil {
		c.srv.log.Logf(env.LevelWarn, "%s:%d - cid:%d - authentication error", c.host, c.port, c.cid)
		return errAuthViolation
	}
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	c.connected = true
	c.echo, c.verbose, c.noResp = ci.Echo, ci.Verbose, ci.NoResponders
	c.headers.Store(ci.Headers)
	ci.Pass, ci.Token, ci.Sig = "", "", "" // keep no secrets
	c.mu.Lock()
	c.info = ci
	var perms *auth.Permissions
	if user != nil {
		c.user, perms = user, user.Permissions
	}
	c.mu.Unlock()
	c.perms.Store(perms)
	c.pubAllow = nil
	if perms != nil && perms.Response != nil {
		c.replies.Store(newReplyPerms(perms.Response))
	}
	c.sendOK()
	return nil
}

func (c *client) Info([]byte) error { return errUnknownFromClient }

func (c *client) Msg(_, _, _ []byte, _ int, _ []byte) error { return errUnknownFromClient }

var errUnknownFromClient = fmt.Errorf("%w: server-only operation from a client", proto.ErrUnknownOp)

func (c *client) OK() error { return nil }

func (c *client) Err([]byte) error { return nil }

func (c *client) Ping() error {
	if err := c.mustConnectFirst(); err != nil {
		return err
	}
	// What came before the PING is settled before the PONG says so: counted in monitoring
	// and handed to the subscribers' connections.
	c.flushStats()
	c.flushTouched()
	c.write(proto.Pong)
	return nil
}

func (c *client) Pong() error {
	if c.pingsOut > 0 {
		c.rttNanos.Store(int64(c.srv.env.Clock.Mono() - c.pingSent))
	}
	c.pingsOut = 0
	return nil
}

func (c *client) Pub(subj, reply []byte, hdr int, msg []byte) error {
	if err := c.mustConnectFirst(); err != nil {
		return err
	}
	c.batch.inMsgs++
	c.batch.inBytes += int64(len(msg))
	c.batch.matches++
	r, hit := c.srv.subs.Cached(subj)
	if hit {
		c.batch.hits++
	} else if !subject.ValidPublish(string(subj)) {
		c.sendErr("Invalid Publish Subject")
		return nil
	}
	if perms := c.perms.Load(); perms != nil && !c.canPublish(perms, subj) {
		c.sendErr(`Permissions Violation for Publish to "` + string(subj) + `"`)
		return nil
	}
	if !hit {
		r = c.srv.subs.Match(string(subj))
	}
	c.publish(r, subj, reply, hdr, msg)
	c.sendOK()
	return nil
}

// canPublish checks publish permissions, caching decisions, then the reply subjects this
// client may answer.
func (c *client) canPublish(perms *auth.Permissions, subj []byte) bool {
	allowed, cached := c.pubAllow[string(subj)]
	if !cached {
		allowed = perms.CanPublish(string(subj))
		if c.pubAllow == nil || len(c.pubAllow) >= pubCacheMax {
			c.pubAllow = map[string]bool{}
		}
		c.pubAllow[string(subj)] = allowed
	}
	if allowed {
		return true
	}
	r := c.replies.Load()
	return r != nil && r.use(string(subj), c.srv.env.Clock.Mono())
}

// pubCacheMax bounds the per-client publish permission cache; a client publishing to more
// distinct subjects than this just re-checks.
const pubCacheMax = 256

func (c *client) Sub(subj, queue, sid []byte) error {
	if err := c.mustConnectFirst(); err != nil {
		return err
	}
	s, q := string(subj), string(queue)
	if !subject.ValidSubscribe(s) || !validQueue(q) {
		c.sendErr("Invalid Subject")
		return nil
	}
	if perms := c.perms.Load(); perms != nil && !perms.CanSubscribe(s, q) {
		if q != "" {
			c.sendErr(`Permissions Violation for Subscription to "` + s + `" using queue "` + q + `"`)
		} else {
			c.sendErr(`Permissions Violation for Subscription to "` + s + `"`)
		}
		return nil
	}
	c.mu.Lock()
	if _, dup := c.subs[string(sid)]; dup {
		c.mu.Unlock()
		c.sendOK()
		return nil
	}
	if max := c.srv.opts.MaxSubscriptions; max > 0 && len(c.subs) >= max {
		c.mu.Unlock()
		c.sendErr("maximum subscriptions exceeded")
		return nil
	}
	sub := &subscription{client: c, sid: string(sid)}
	sub.entry = sublist.Sub{Subject: s, Queue: q, Owner: sub}
	c.subs[sub.sid] = sub
	c.mu.Unlock()
	c.srv.subs.Insert(&sub.entry)
	c.sendOK()
	return nil
}

// validQueue: no queue, or a name core/subject accepts (nats-server does not look inside queue names).
func validQueue(q string) bool { return q == "" || subject.ValidQueue(q) }

func (c *client) Unsub(sid []byte, max int) error {
	if err := c.mustConnectFirst(); err != nil {
		return err
	}
	c.mu.Lock()
	sub := c.subs[string(sid)]
	c.mu.Unlock()
	if sub != nil {
		if max > 0 && sub.delivered.Load() < int64(max) {
			sub.max.Store(int64(max))
		} else {
			c.removeSub(sub)
		}
	}
	c.sendOK()
	return nil
}

// removeSub drops a subscription from the index and the client; safe from any executor.
func (c *client) removeSub(sub *subscription) {
	c.srv.subs.Remove(&sub.entry)
	c.mu.Lock()
	if c.subs[sub.sid] == sub {
		delete(c.subs, sub.sid)
	}
	c.mu.Unlock()
}
