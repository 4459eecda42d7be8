package core

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/sublist"
)

// The proto.Handler methods run on the client's executor, one op at a time.

// gateBeforeConnect judges each op's first byte until a CONNECT authenticates, on a server
// that requires authentication: anything but a CONNECT is an Authorization Violation, as
// nats-server decides it, before the rest of the op is read (so a bad op or an oversized
// payload gets no other error first).
func (c *client) gateBeforeConnect(first byte) error {
	if first == 'C' || first == 'c' {
		return nil
	}
	return errAuthViolation
}

// Connect reads a CONNECT over the options the connection already has, as nats-server
// does: a second CONNECT keeps what it leaves out, credentials included, and is checked
// again. Credentials live in c.creds, never in c.info, which monitoring reads.
func (c *client) Connect(raw []byte) error {
	c.mu.Lock()
	ci := c.info
	c.mu.Unlock()
	ci.User, ci.Pass, ci.Token, ci.Nkey, ci.Sig = c.creds.User, c.creds.Pass, c.creds.Token, c.creds.Nkey, c.creds.Sig
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
	if c.ws != nil {
		c.applyCookies(&ci)
	}
	creds := auth.Credentials{User: ci.User, Pass: ci.Pass, Token: ci.Token, Nkey: ci.Nkey, Sig: ci.Sig, JWT: ci.JWT,
		Now: c.srv.env.Clock.Now()}
	authn := c.authenticator(c.srv.cfg())
	user, err := authn.Check(creds, c.nonce)
	if err == nil && !c.kindAllowed(user) {
		err = errors.New("connection type not allowed for this user")
	}
	if err != nil {
		detail := ""
		if err != auth.ErrAuthorization {
			detail = ": " + err.Error()
		}
		c.srv.log.Logf(env.LevelWarn, "%s:%d - cid:%d - authentication error%s", c.host, c.port, c.cid, detail)
		return errAuthViolation
	}
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	c.parser.SetGate(nil)
	first := !c.connected
	c.creds, c.provenBy = creds, authn
	if err := c.applyConnect(ci, user); err != nil {
		c.srv.log.Logf(env.LevelWarn, "%s:%d - cid:%d - %v", c.host, c.port, c.cid, err)
		return err
	}
	if first {
		c.startRTT()
		c.connectEvent()
	}
	c.sendOK()
	return nil
}

// setUser installs the authenticated user (nil: no auth configured) and its permissions;
// on the client's executor, at CONNECT (or before it, as the no_auth_user) and when a
// reload changes authorization.
func (c *client) setUser(user *auth.User) error {
	var perms *auth.Permissions
	c.mu.Lock()
	if err := c.joinAccount(c.srv.accountOf(user)); err != nil {
		c.mu.Unlock()
		return err
	}
	c.user = user
	if user != nil {
		perms = user.Permissions
	}
	c.mu.Unlock()
	c.parser.SetLimits(c.parserLimits(c.srv.cfg())) // the account's or user's may be smaller
	c.perms.Store(perms)
	c.pubAllow = nil
	var replies *replyPerms
	if perms != nil && perms.Response != nil {
		replies = newReplyPerms(perms.Response)
	}
	c.replies.Store(replies)
	return nil
}

// applyConnect installs an accepted CONNECT's options and user. A CONNECT that switches
// users (a second one, or a first one after working as the no_auth_user) loses the
// subscriptions the new user may not have, each with an -ERR (nats-server stops delivering
// to every subscription made before such a CONNECT; Petrel keeps those still allowed).
func (c *client) applyConnect(ci connectInfo, user *auth.User) error {
	previous := c.user // a first CONNECT's is nobody, or the no_auth_user
	c.connected = true
	c.echo, c.verbose, c.pedantic, c.noResp = ci.Echo, ci.Verbose, ci.Pedantic, ci.NoResponders
	c.headers.Store(ci.Headers)
	ci.Pass, ci.Token, ci.Sig = "", "", "" // monitoring shows no secrets
	c.mu.Lock()
	c.info = ci
	c.mu.Unlock()
	if err := c.setUser(user); err != nil {
		return err
	}
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if user != nil {
		c.expireAt(user.Expires)
	}
	if perms := c.perms.Load(); user != previous && perms != nil {
		c.dropForbiddenSubs(perms)
	}
	return nil
}

// Info from a client is ignored when it is an INFO document and closes the connection
// without an -ERR otherwise, as nats-server treats it.
func (c *client) Info(raw []byte) error {
	var info serverInfo
	if json.Unmarshal(raw, &info) != nil {
		return errCloseSilently
	}
	return nil
}

func (c *client) Msg(_, _, _ []byte, _ int, _ []byte) error { return errUnknownFromClient }

var errUnknownFromClient = fmt.Errorf("%w: server-only operation from a client", proto.ErrUnknownOp)

func (c *client) OK() error { return nil }

// Err: a client that sends -ERR is closed without an answer, as nats-server does.
func (c *client) Err([]byte) error { return errCloseSilently }

func (c *client) Ping() error {
	// What came before the PING is settled before the PONG says so: counted in monitoring
	// and handed to the subscribers' connections.
	c.flushStats()
	c.flushTouched()
	c.write(proto.Pong)
	if c.connected && !c.firstPong {
		c.firstPong = true
		c.srv.catchUpConnectURLs(c) // the cluster changed while the client was connecting
	}
	return nil
}

func (c *client) Pong() error {
	if c.pingsOut > 0 {
		c.setRTT(c.srv.env.Clock.Mono() - c.pingSent)
	}
	c.pingsOut = 0
	return nil
}

// Pub routes a PUB or HPUB in nats-server's order: a pedantic client's invalid subject gets
// -ERR 'Invalid Publish Subject' (and is still routed if routable, as nats-server does); a
// permission refusal gets its -ERR and ends there; then the verbose +OK, then deliveries.
func (c *client) Pub(subj, reply []byte, hdr int, msg []byte) error {
	if hdr >= 0 && !c.headers.Load() {
		return errCloseSilently // nats-server closes an HPUB from a client without headers, silently
	}
	if hdr == 0 {
		hdr = -1 // an empty header block is delivered as a plain message
	}
	c.batch.inMsgs++
	c.batch.inBytes += int64(len(msg))
	c.batch.matches++
	acc, asked := c.acc, subj // permissions and errors name the subject the client asked for
	routes := acc.Routes()
	if routes.HasMappings() {
		if dst, ok := routes.Map(subj, c.rng); ok {
			c.srv.env.Probe.Hit("core.account.mapped")
			subj = []byte(dst)
		}
	}
	r, hit := acc.Subs.Cached(subj)
	var str string // subj as a string, converted once on a miss (each conversion allocates)
	if !hit {
		str = string(subj)
	}
	valid := hit || subject.ValidPublish(str)
	if hit {
		c.batch.hits++
	}
	if !valid && c.pedantic {
		c.srv.env.Probe.Hit("core.pedantic.invalid-subject")
		c.sendErr("Invalid Publish Subject")
	}
	if perms := c.perms.Load(); perms != nil && !c.canPublish(perms, asked) {
		c.sendErr(`Permissions Violation for Publish to "` + string(asked) + `"`)
		return nil
	}
	c.sendOK()
	switch {
	case hit:
	case valid && usedOnce(subj):
		acc.Subs.MatchUncachedInto(str, &c.onceMatch)
		r = &c.onceMatch
	case valid:
		r = acc.Subs.Match(str)
	case subject.Routable(str):
		// Wildcards as plain text; never cached, where a hit stands for a valid subject.
		r = acc.Subs.MatchUncached(str)
	default:
		return nil // an empty token or a forbidden byte: it reaches nobody
	}
	var delivered int
	if rt := c.srv.clusterRoutes(); rt != nil && valid {
		delivered = c.publishRouted(rt, acc, r, subj, reply, hdr, msg, true)
	} else {
		delivered = c.publish(r, subj, reply, hdr, msg)
	}
	if !routes.Empty() {
		delivered += c.crossAccounts(acc, routes, subj, reply, hdr, msg, 0, hopAll)
		c.streamGroups = nil
	}
	if delivered == 0 && len(reply) > 0 && c.noResp {
		c.sendNoResponders(subj, reply)
	}
	return nil
}

// usedOnce reports a subject that is published once and never again: a JetStream ack, whose
// tokens carry its delivery's sequences, or a request's inbox, answered once (nats.go's
// default prefix). Caching its match would only evict entries that are used again (a
// consumer's acks, and an async publisher's PubAcks, filled and evicted the cache at every
// message).
func usedOnce(subj []byte) bool {
	return hasPrefix(subj, jsapi.AckPrefix) || hasPrefix(subj, inboxPrefix)
}

func hasPrefix(subj []byte, prefix string) bool {
	return len(subj) > len(prefix) && string(subj[:len(prefix)]) == prefix
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
	// The limit comes first: at it, nats-server refuses even a SUB repeating a known sid.
	if max := c.maxSubscriptions(c.srv.cfg()); max > 0 && len(c.subs) >= max {
		c.mu.Unlock()
		c.sendErr("maximum subscriptions exceeded")
		return nil
	}
	if _, dup := c.subs[string(sid)]; dup {
		c.mu.Unlock()
		c.sendOK()
		return nil
	}
	sub := &subscription{client: c, sid: string(sid), acc: c.acc}
	sub.entry = sublist.Sub{Subject: s, Queue: q, Owner: sub}
	c.subs[sub.sid] = sub
	c.mu.Unlock()
	sub.acc.Subs.Insert(&sub.entry)
	c.srv.subAdded(sub)
	c.sendOK()
	return nil
}

// validQueue: no queue, or a name core/subject accepts (nats-server does not look inside queue names).
func validQueue(q string) bool { return q == "" || subject.ValidQueue(q) }

func (c *client) Unsub(sid []byte, max int) error {
	c.mu.Lock()
	sub := c.subs[string(sid)]
	c.mu.Unlock()
	if sub != nil {
		switch {
		case max > 0 && sub.delivered.Load() < int64(max):
			sub.max.Store(int64(max))
		case max > 0:
			c.srv.env.Probe.Hit("core.unsub.max-already-reached")
			c.removeSub(sub)
		default:
			c.removeSub(sub)
		}
	}
	c.sendOK()
	return nil
}

// removeSub drops a subscription from the index and the client; safe from any executor.
func (c *client) removeSub(sub *subscription) {
	c.mu.Lock()
	acc := sub.acc
	if c.subs[sub.sid] == sub {
		delete(c.subs, sub.sid)
	}
	c.mu.Unlock()
	if acc.Subs.Remove(&sub.entry) {
		c.srv.subRemoved(sub)
	}
}
