package core

import (
	"bytes"
	"cmp"
	"errors"
	"slices"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/sublist"
)

// accountOf is the account a user belongs to in the settings in force: its own, else the
// global account (also for clients of a server without authentication).
func (s *Server) accountOf(user *auth.User) *account.Account {
	set := s.cfg().accounts
	name := account.Global
	if user != nil {
		name = cmp.Or(user.Account, account.Global)
	}
	acc := set.Get(name)
	env.Assertf(acc != nil, "core: user's account %q is not configured", name)
	return acc
}

// errAccountConnections refuses a client whose account is at its connection limit.
var errAccountConnections = errors.New("maximum account active connections exceeded")

// joinAccount moves the client, with its subscriptions, to acc, if acc's connection limit
// admits it. Called on the client's executor with c.mu held; a client changes account only
// when a second CONNECT or a reload puts its user in another one.
func (c *client) joinAccount(acc *account.Account) error {
	if c.acc == acc {
		return nil
	}
	if !acc.AddConn(false) {
		return errAccountConnections
	}
	c.acc.RemoveConn()
	for _, sid := range env.SortedKeys(c.subs) {
		sub := c.subs[sid]
		if sub.acc.Subs.Remove(&sub.entry) {
			c.srv.subRemoved(sub)
		}
		sub.acc = acc
		acc.Subs.Insert(&sub.entry)
		c.srv.subAdded(sub)
	}
	c.acc = acc
	return nil
}

// parserLimits are the server's, with the account's or the user's smaller payload limit.
func (c *client) parserLimits(cfg *config) proto.Limits {
	l := cfg.parserLimits()
	var user auth.User // no user: no limits of its own
	if c.user != nil {
		user = *c.user
	}
	l.MaxPayload = smallestLimit(l.MaxPayload, c.acc.Config().Limits.MaxPayload, user.MaxPayload)
	return l
}

// maxSubscriptions is the client's subscription limit: the smallest of the server's, its
// account's and its user's (0: none).
func (c *client) maxSubscriptions(cfg *config) int {
	var user auth.User
	if c.user != nil {
		user = *c.user
	}
	return smallestLimit(cfg.MaxSubscriptions, c.acc.Config().Limits.MaxSubscriptions, user.MaxSubscriptions)
}

// smallestLimit is the smallest of limits where 0 means none (0 if all are none).
func smallestLimit(limits ...int) int {
	limit := 0
	for _, n := range limits {
		if n > 0 && (limit == 0 || n < limit) {
			limit = n
		}
	}
	return limit
}

// refuseAccount closes a client its account cannot take, with nats-server's -ERR.
func (c *client) refuseAccount(err error) {
	c.srv.env.Probe.Hit("core.account.max-connections")
	c.sendErr(err.Error())
	c.close(reasonMaxAccountConn)
}

// maxImportHops bounds a message's travel through chained imports; load refuses cycles, so
// a chain longer than this is a broken invariant.
const maxImportHops = 64

// crossAccounts delivers a message published in acc (on subj) to the other accounts its
// routes reach: importers of acc's stream exports, exporters of the services acc imports
// (with a reply subject of their own mapped back to the requester's), and, for a response
// to such a mapped reply subject, the requester. A hop follows only the next account's
// routes of the kind that brought the message (kinds: all for the publish itself): a stream
// re-exported, a request to a service that imports it from a third account, a response on
// its way back. It returns how many subscriptions took the message.
func (c *client) crossAccounts(acc *account.Account, routes *account.Routes, subj, reply []byte, hdr int, msg []byte, hops int, kinds hopKind) int {
	if hops > maxImportHops { // checked before Assertf: its arguments would cost every publish
		env.Assertf(false, "core: a message from account %q crossed %d imports", acc.Name(), hops)
	}
	delivered := 0
	if kinds&hopStreams != 0 && len(routes.Streams) > 0 {
		for i, e := range c.streamEntries(routes, subj, hops) {
			r := routes.Streams[i]
			if dst, ok := r.Through(e); ok {
				gen := r.To.Subs.Gen()
				match := r.To.Subs.Match(dst)
				if match.Empty() && len(r.To.Routes().Streams) == 0 {
					e.Quiet(gen) // nobody there: skipped until the importer's index changes
					continue
				}
				delivered += c.deliverIn(r.To, match, dst, reply, hdr, msg, hops, hopStreams)
			}
		}
	}
	if kinds&hopServices != 0 {
		for _, r := range routes.Services {
			if dst, ok := r.Map(subj); ok {
				c.srv.env.Probe.Hit("core.account.service-import")
				var mapped []byte
				if len(reply) > 0 {
					mapped = []byte(r.From.MapReply(acc, string(reply), r, c.srv.env.Clock.Mono(), c.rng))
					c.ensureReplyInterest(r.From)
				}
				delivered += c.deliverIn(r.From, r.From.Subs.Match(dst), dst, mapped, hdr, msg, hops, hopServices)
			}
		}
	}
	if kinds&hopAnswers != 0 && routes.Answers && account.IsReply(subj) { // before reading the clock
		if to, dst, sample, ok := acc.Answer(subj, c.srv.env.Clock.Mono()); ok {
			c.srv.env.Probe.Hit("core.account.service-response")
			if sample != nil {
				c.srv.latencySample(acc, sample)
			}
			delivered += c.deliverIn(to, to.Subs.MatchUncached(dst), dst, reply, hdr, msg, hops, hopAnswers)
		}
	}
	return delivered
}

// crossMemo is a publisher's memory of its last publish's stream routes (on its
// executor): publishing one subject again skips the routes' shared caches.
type crossMemo struct {
	subj    []byte
	routes  *account.Routes
	entries []*account.Mapped
}

// streamEntries is subj's entry in each of routes' stream routes; remembered for the
// publisher's own account (hops 0).
func (c *client) streamEntries(routes *account.Routes, subj []byte, hops int) []*account.Mapped {
	m := &c.cross
	if hops == 0 && m.routes == routes && bytes.Equal(m.subj, subj) {
		return m.entries
	}
	var entries []*account.Mapped
	if hops == 0 {
		entries = m.entries[:0] // reused: a hop onward never reads the memo
	}
	for _, r := range routes.Streams {
		entries = append(entries, r.Entry(subj))
	}
	if hops == 0 {
		m.subj, m.routes, m.entries = append(m.subj[:0], subj...), routes, entries
	}
	return entries
}

// hopKind selects the routes a hop follows.
type hopKind uint8

const (
	hopStreams hopKind = 1 << iota
	hopServices
	hopAnswers
	hopAll = hopStreams | hopServices | hopAnswers
)

// deliverIn delivers into acc to r (acc's match of subj), then follows acc's routes of the
// given kind. Nothing is converted or allocated when acc has no interest and no route onward.
// In a cluster a request or response that crossed into acc is routed in acc (its
// responders or requester may be on any server); a stream hop stays on this server, whose
// exporter's message reached every server with an importer's interest (shadow interest),
// and serves, at its first hop, the queue groups c.streamGroups names.
func (c *client) deliverIn(acc *account.Account, r *sublist.Result, subj string, reply []byte, hdr int, msg []byte, hops int, kind hopKind) int {
	delivered := 0
	routed := false
	if kind != hopStreams {
		delivered, routed = c.routedHop(acc, r, subj, reply, hdr, msg)
	}
	if !routed && !r.Empty() {
		here := groupsHere{all: true}
		if kind == hopStreams {
			c.srv.env.Probe.Hit("core.account.stream-import")
			if hops == 0 && c.streamGroups != nil {
				here = *c.streamGroups
			}
		}
		delivered = c.publishGroups(r, here, []byte(subj), reply, hdr, msg)
	}
	if routes := acc.Routes(); !routes.Empty() {
		delivered += c.crossAccounts(acc, routes, []byte(subj), reply, hdr, msg, hops+1, kind)
	}
	return delivered
}

// subscriptionCount is the number of subscriptions in every account.
func (s *Server) subscriptionCount() int {
	set, n := s.cfg().accounts, 0
	for _, name := range set.Names() {
		n += set.Get(name).Subs.Count()
	}
	return n
}

// kindAllowed reports whether user may connect the way c did (allowed_connection_types).
func (c *client) kindAllowed(user *auth.User) bool {
	if user == nil || len(user.ConnectionTypes) == 0 {
		return true
	}
	kind := "STANDARD"
	if c.ws != nil {
		kind = "WEBSOCKET"
	}
	return slices.Contains(user.ConnectionTypes, kind)
}
