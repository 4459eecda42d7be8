package jetstream

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/jsapi"
)

// The API audit advisory: nats-server publishes one on $JS.EVENT.ADVISORY.API for each JSON
// answer of the JetStream API, with the request and the answer. Answers are sent from many
// executors through account.reply, which knows only the reply subject; so a request noted
// while someone listens is kept, by its reply subject, until its answer goes. Nothing is
// kept (or built) when nobody listens.

const (
	auditSubject = "$JS.EVENT.ADVISORY.API"
	auditType    = "api_audit"
	// auditPendingMax bounds the requests kept for their answers (a request never answered
	// would otherwise stay): past it, new ones are not audited.
	auditPendingMax = 4096
)

type apiAudit struct {
	typedEvent
	Server   string       `json:"server"`
	Client   *auditClient `json:"client"`
	Subject  string       `json:"subject"`
	Request  string       `json:"request,omitempty"`
	Response string       `json:"response"`
	Domain   string       `json:"domain,omitempty"`
}

// auditClient is the part of nats-server's ClientInfo that Petrel knows of a requester.
type auditClient struct {
	Host    string `json:"host,omitempty"`
	ID      uint64 `json:"id,omitempty"`
	Account string `json:"acc,omitempty"`
	User    string `json:"user,omitempty"`
	Name    string `json:"name,omitempty"`
	Kind    string `json:"kind,omitempty"`
}

// auditRequest is a request waiting for its answer.
type auditRequest struct {
	subject, request string
	client           *auditClient
}

// audits holds an account's requests waiting for their answers, by reply subject (a list:
// a client may reuse a reply subject).
type audits struct {
	mu      sync.Mutex
	pending map[string][]auditRequest
	// n counts pending's requests; read without the lock, it spares every other answer
	// (each PubAck) the lock while nothing waits.
	n atomic.Int64
}

// noteAudit keeps m for the audit of its answer, if someone listens. MSG.NEXT is answered
// by messages, not JSON, and is not audited (as in nats-server).
func (a *account) noteAudit(m bus.Msg) {
	if strings.HasPrefix(m.Subject, jsapi.Prefix+"CONSUMER.MSG.NEXT.") || !a.svc.bus.HasInterest(a.name, auditSubject) {
		return
	}
	r := auditRequest{subject: m.Subject, request: string(m.Data)}
	if c := m.From; c != nil {
		r.client = &auditClient{Host: c.Host, ID: c.CID, Account: c.Account, User: c.User, Name: c.Name, Kind: "Client"}
	}
	au := &a.audits
	au.mu.Lock()
	defer au.mu.Unlock()
	if au.n.Load() >= auditPendingMax {
		return
	}
	if au.pending == nil {
		au.pending = map[string][]auditRequest{}
	}
	au.pending[m.Reply] = append(au.pending[m.Reply], r)
	au.n.Add(1)
}

// audit publishes the advisory for the answer data sent to reply, if its request was noted.
func (a *account) audit(reply string, data []byte) {
	au := &a.audits
	if au.n.Load() == 0 {
		return
	}
	au.mu.Lock()
	q := au.pending[reply]
	if len(q) == 0 {
		au.mu.Unlock()
		return
	}
	r := q[0]
	if len(q) == 1 {
		delete(au.pending, reply)
	} else {
		au.pending[reply] = q[1:]
	}
	au.n.Add(-1)
	au.mu.Unlock()
	a.advise(auditSubject, auditType, func(ev typedEvent) any {
		return apiAudit{typedEvent: ev, Server: a.svc.cfg.ServerName, Client: r.client, Subject: r.subject,
			Request: r.request, Response: string(data), Domain: a.svc.cfg.Domain}
	})
}
