package jetstream

import (
	"encoding/json"
	"path"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
)

// account is one JetStream-enabled account. It lives on the service's executor.
type account struct {
	svc     *Service
	name    string
	limits  Limits
	dir     string
	streams map[string]*streamActor
	// offline lists streams whose definition could not be read, with why.
	offline map[string]string
	apiSub  bus.Subscription
	// apiTotal and apiErrors count requests for INFO's api section.
	apiTotal, apiErrors uint64
	// consumers counts the account's consumers across its streams' executors.
	consumers atomic.Int64
	// shared is limits for the streams' executors (limits itself is the service's).
	shared atomic.Pointer[Limits]
	// usage counts the bytes the account's streams hold (usage.go).
	usage usage
	// audits are the requests waiting for their answers' audit advisories (audit.go).
	audits audits
}

// setLimits replaces the account's limits (on the service's executor) and publishes them to
// the streams' executors.
func (a *account) setLimits(l Limits) {
	a.limits = l
	a.shared.Store(&l)
}

// reserveConsumer counts a new consumer unless the account is at its limit.
func (a *account) reserveConsumer() bool {
	for {
		n, limit := a.consumers.Load(), int64(a.shared.Load().MaxConsumers)
		if limit > 0 && n >= limit {
			return false
		}
		if a.consumers.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func newAccount(s *Service, name string, l Limits) *account {
	a := &account{svc: s, name: name, limits: l, dir: path.Join(s.root, name),
		streams: map[string]*streamActor{}, offline: map[string]string{}}
	a.setLimits(l)
	return a
}

func (a *account) start() {
	a.recover()
	sub, err := a.svc.bus.Subscribe(a.name, jsapi.Prefix+">", "", a.request)
	if err != nil {
		a.svc.env.Log.Logf(env.LevelError, "jetstream: account %s: subscribe to its API: %v", a.name, err)
		return
	}
	a.apiSub = sub
}

func (a *account) stop() {
	if a.apiSub != nil {
		a.apiSub.Unsubscribe()
	}
	for name, st := range a.streams {
		delete(a.streams, name)
		st.ex.Post(st.close)
	}
}

// handler answers one API request; tokens are the subject's tokens after "$JS.API.".
type handler func(a *account, m bus.Msg, tokens []string)

// apiHandlers maps a request's leading tokens to its handler and the number of tokens
// (after those) that it takes: -1 for "at least one".
var apiHandlers = []struct {
	verb []string
	args int
	h    handler
}{
	{[]string{"INFO"}, 0, (*account).info},
	{[]string{"STREAM", "CREATE"}, 1, (*account).streamCreate},
	{[]string{"STREAM", "UPDATE"}, 1, (*account).streamUpdate},
	{[]string{"STREAM", "DELETE"}, 1, (*account).streamDelete},
	{[]string{"STREAM", "INFO"}, 1, (*account).streamInfo},
	{[]string{"STREAM", "NAMES"}, 0, (*account).streamNames},
	{[]string{"STREAM", "LIST"}, 0, (*account).streamList},
	{[]string{"STREAM", "PURGE"}, 1, (*account).streamPurge},
	{[]string{"STREAM", "MSG", "GET"}, 1, (*account).msgGet},
	{[]string{"STREAM", "MSG", "DELETE"}, 1, (*account).msgDelete},
	{[]string{"STREAM", "SNAPSHOT"}, 1, (*account).streamSnapshot},
	{[]string{"STREAM", "RESTORE"}, 1, (*account).streamRestore},
	{[]string{"CONSUMER", "CREATE"}, -1, (*account).consumerCreate},
	{[]string{"CONSUMER", "DURABLE", "CREATE"}, 2, (*account).consumerDurableCreate},
	{[]string{"CONSUMER", "INFO"}, 2, (*account).consumerInfo},
	{[]string{"CONSUMER", "DELETE"}, 2, (*account).consumerDelete},
	{[]string{"CONSUMER", "NAMES"}, 1, (*account).consumerNames},
	{[]string{"CONSUMER", "LIST"}, 1, (*account).consumerList},
	{[]string{"CONSUMER", "MSG", "NEXT"}, 2, (*account).consumerNext},
	{[]string{"CONSUMER", "PAUSE"}, 2, (*account).consumerPause},
	{[]string{"CONSUMER", "UNPIN"}, 2, (*account).consumerUnpin},
}

// request dispatches an API request. Requests without a reply subject are dropped, as
// nats-server drops them; DIRECT.GET is answered by the streams' own subscriptions.
func (a *account) request(m bus.Msg) {
	tokens := strings.Split(strings.TrimPrefix(m.Subject, jsapi.Prefix), ".")
	if m.Reply == "" || tokens[0] == "DIRECT" {
		return
	}
	a.apiTotal++
	a.noteAudit(m)
	if e := checkLevel(m.Header); e != nil {
		a.reply(m.Reply, &jsapi.Response{Type: jsapi.SystemType, Error: e})
		return
	}
	for _, h := range apiHandlers {
		if rest, ok := cutVerb(tokens, h.verb); ok && (len(rest) == h.args || (h.args < 0 && len(rest) > 0)) {
			h.h(a, m, rest)
			return
		}
	}
	a.reply(m.Reply, &jsapi.Response{Type: jsapi.SystemType, Error: jsapi.E(jsapi.ErrBadRequest)})
}

func cutVerb(tokens, verb []string) ([]string, bool) {
	if len(tokens) < len(verb) {
		return nil, false
	}
	for i, v := range verb {
		if tokens[i] != v {
			return nil, false
		}
	}
	return tokens[len(verb):], true
}

// checkLevel refuses a request that needs a higher API level than this server's.
func checkLevel(hdr []byte) *jsapi.Error {
	v := proto.HeaderValue(hdr, jsapi.RequiredLevelHeader)
	if v == "" {
		return nil
	}
	if n, err := strconv.Atoi(v); err == nil && n <= jsapi.Level {
		return nil
	}
	return jsapi.E(jsapi.ErrRequiredAPILevel)
}

// reply sends an answer (any executor). v's Response.Error counts as an API error.
func (a *account) reply(subject string, v any) {
	data, err := json.Marshal(v)
	env.Assertf(err == nil, "jetstream: marshal %T: %v", v, err)
	a.send(subject, data)
}

// replyPubAck answers a publish (jsapi.AppendPubAck: no reflection per message).
func (a *account) replyPubAck(subject string, r *jsapi.PubAckResponse) {
	a.send(subject, jsapi.AppendPubAck(make([]byte, 0, 64), r))
}

// send publishes an answer and audits it.
func (a *account) send(subject string, data []byte) {
	a.svc.bus.Publish(a.name, subject, "", nil, data)
	a.audit(subject, data)
}

// replyError answers with just an error of type typ.
func (a *account) replyError(subject, typ string, e *jsapi.Error) {
	a.apiErrors++
	a.reply(subject, &jsapi.Response{Type: typ, Error: e})
}

// decodeInto reads a request's body into v, or answers the error (of type typ) and reports
// false.
func (a *account) decodeInto(m bus.Msg, typ string, v any) bool {
	if e := decode(m.Data, v); e != nil {
		a.replyError(m.Reply, typ, e)
		return false
	}
	return true
}

// decode unmarshals a request body; an empty body leaves v as it is.
func decode(data []byte, v any) *jsapi.Error {
	if len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return jsapi.NewError(jsapi.ErrInvalidJSON, err.Error())
	}
	return nil
}

// info answers $JS.API.INFO with the account's usage and limits.
func (a *account) info(m bus.Msg, _ []string) {
	a.tier(func(t jsapi.Tier) {
		info := &jsapi.AccountInfo{Tier: t, Domain: a.svc.cfg.Domain,
			API: jsapi.APIStats{Level: jsapi.Level, Total: a.apiTotal, Errors: a.apiErrors}}
		a.reply(m.Reply, &jsapi.AccountInfoResponse{Response: jsapi.Response{Type: jsapi.AccountInfoType}, AccountInfo: info})
	})
}
