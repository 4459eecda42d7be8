package account

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/petrel-io/petrel/core/sublist"
)

// Account is one subject space. Its index and reply table live as long as the server does;
// its configuration and routes are replaced as a whole when the set is rebuilt (reload).
type Account struct {
	name    string
	Subs    *sublist.List
	cfg     atomic.Pointer[Config]
	routes  atomic.Pointer[Routes]
	replies replyTable
	conns   atomic.Int64 // client connections in the account, against Limits.MaxConnections
}

// AddConn counts a client connection in, unless the account's connection limit is reached
// (force counts it anyway: a client that was in the account before the limit applied).
func (a *Account) AddConn(force bool) bool {
	for {
		n, limit := a.conns.Load(), int64(a.Config().Limits.MaxConnections)
		if !force && limit > 0 && n >= limit {
			return false
		}
		if a.conns.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// RemoveConn counts a client connection out.
func (a *Account) RemoveConn() {
	n := a.conns.Add(-1)
	if n < 0 {
		panic(fmt.Sprintf("account %s: %d connections", a.name, n))
	}
}

// Conns is how many client connections the account has.
func (a *Account) Conns() int { return int(a.conns.Load()) }

func newAccount(name string) *Account {
	a := &Account{name: name, Subs: sublist.New()}
	a.cfg.Store(&Config{Name: name})
	a.routes.Store(&Routes{})
	return a
}

// Name is the account's name.
func (a *Account) Name() string { return a.name }

// Config is the account's configuration in force.
func (a *Account) Config() *Config { return a.cfg.Load() }

// Routes is where messages published in the account go besides its own subscribers.
func (a *Account) Routes() *Routes { return a.routes.Load() }

// Routes are an account's ways out, fixed for one generation of the set.
type Routes struct {
	// Streams are the account's stream exports other accounts import: a message published
	// here on a matching subject also reaches the importer, under the import's subject.
	Streams []StreamRoute
	// Services are the account's service imports: a request published here on the import's
	// local subject reaches the exporter's responders.
	Services []ServiceRoute
	// Answers: the account exports a service, so a publish here may be a response to a
	// reply subject a service import mapped (see Answer).
	Answers bool
	// mappers rewrite the subjects clients publish to, before anything else (Map).
	mappers []mapper
	// imports are the account's stream imports, seen from here (ShadowInterest). They take
	// no part in a publish here, so Empty does not count them.
	imports []streamImport
}

// Empty reports whether a publish in the account can reach no other account.
func (r *Routes) Empty() bool { return len(r.Streams) == 0 && len(r.Services) == 0 && !r.Answers }

// StreamRoute carries one stream import from the exporter to an importer.
type StreamRoute struct {
	To *Account
	t  *transform // exporter's subject -> importer's
}

// Entry is subj's rewrite by the route (cached; "" when the route does not take subj).
func (r StreamRoute) Entry(subj []byte) *Mapped { return r.t.lookup(subj) }

// Through returns e's subject as the importer sees it, if the route takes it and the
// importer may have interest in it: a subject that matched nothing there is skipped until
// the importer's index changes (the publish path of an export nobody listens to stays
// cheap).
func (r StreamRoute) Through(e *Mapped) (string, bool) {
	if e.dst == "" || e.quiet.Load() == r.To.Subs.Gen()+1 {
		return "", false
	}
	return e.dst, true
}

// Quiet notes that e's subject matched nothing in the importer's index at generation gen
// (read before the match).
func (e *Mapped) Quiet(gen uint64) { e.quiet.Store(gen + 1) }

// ServiceRoute carries one service import from the importer to the exporter.
type ServiceRoute struct {
	From      *Account
	Response  ResponseType
	Threshold time.Duration
	Latency   *Latency   // the export's latency tracking, if any
	t         *transform // importer's subject -> exporter's
}

// Map returns subj as the exporter sees it, if subj is a request to the service.
func (r ServiceRoute) Map(subj []byte) (string, bool) { return r.t.mapBytes(subj) }
