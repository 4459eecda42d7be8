package core

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/sublist"
	"github.com/petrel-io/petrel/core/websocket"
)

// Close reasons, as /connz reports them.
const (
	reasonClientClosed   = "Client Closed"
	reasonServerShutdown = "Server Shutdown"
	reasonAuthTimeout    = "Authentication Timeout"
	reasonAuthFailure    = "Authentication Failure"
	reasonSlowPending    = "Slow Consumer (Pending Bytes)"
	reasonSlowDeadline   = "Slow Consumer (Write Deadline)"
	reasonStale          = "Stale Connection"
	reasonParseError     = "Parse Error"
	reasonMaxPayload     = "Maximum Payload Exceeded"
	reasonProtocol       = "Protocol Violation"
	reasonReadError      = "Read Error"
	reasonTLS            = "TLS Handshake Error"
	reasonLameDuck       = "Server Shutdown (Lame Duck)"
	reasonMaxConnections = "Maximum Connections Exceeded"
	reasonMaxAccountConn = "Maximum Account Connections Exceeded"
	reasonAuthExpired    = "Authentication Expired"
)

// client is one client connection, an actor on its own executor. Fields marked (ex) are
// touched only on that executor; publishers on other executors touch only the atomics, mu's
// fields and the connection.
type client struct {
	srv    *Server
	cid    uint64
	conn   env.Conn
	ws     *websocket.Conn // conn, when the client came through the WebSocket listener
	ex     env.Executor
	parser *proto.Parser
	rng    *env.PRNG // (ex) queue-member choices for this client's publishes
	host   string
	port   int
	start  time.Time

	// (ex) protocol state.
	connected bool
	// firstPong: the PONG that ends a client's connect sequence went out, so an async INFO
	// can no longer be mistaken for it; urlsSent is the connect_urls the client last got.
	firstPong bool
	urlsSent  []string
	pingsOut  int
	lastIn    time.Duration // Mono of the last inbound bytes
	pingTimer env.Timer
	authTimer env.Timer
	expiry    env.Timer // the user JWT's expiry (operator mode)
	scratch   []byte
	onceMatch sublist.Result // the match of a subject published once (usedOnce), reused
	routing   routing        // publishRouted's reusable state, on the client's executor
	nonce     []byte
	echo      bool
	verbose   bool
	pedantic  bool
	noResp    bool
	pubAllow  map[string]bool // cached publish permission decisions

	// The credentials of the CONNECT (merged over a second CONNECT, which is checked
	// again) and the authenticator that accepted them, kept (as nats-server keeps them) to
	// check the client again when a reload changes authorization. Never shown in
	// monitoring or logs.
	creds    auth.Credentials
	provenBy *auth.Authenticator

	// Read by publishers and monitoring, written on ex under mu.
	mu   sync.Mutex
	info connectInfo
	user *auth.User
	subs map[string]*subscription
	// acc is the client's account: written on ex under mu (setUser), so ex reads it freely.
	acc *account.Account

	perms   atomic.Pointer[auth.Permissions] // nil: everything allowed
	replies atomic.Pointer[replyPerms]       // reply subjects it may answer (allow_responses)

	finished bool         // (ex) close has run
	closed   atomic.Bool  // no more deliveries or ops: set by close or a slow-consumer cut
	headers  atomic.Bool  // the client takes HMSG
	lastAct  atomic.Int64 // Mono of the last activity either way, for /connz
	rttNanos atomic.Int64
	pingSent time.Duration // (ex) Mono when the last PING went out, for RTT
	trace    atomic.Bool   // log protocol lines (-V); set on ex, read by publishers

	// (ex) for the RTT: rttNanos is 0 until CONNECT gives a first estimate.
	beganAt time.Duration // Mono when the connection began, for the first estimate
	pinged  bool          // a PING went out: pingSent is set

	inMsgs, inBytes, outMsgs, outBytes atomic.Int64
	stalls                             atomic.Int64 // times a publisher waited for this client to drain (flow control)

	flow  flow      // (ex) as a publisher: paused while subscribers drain
	cross crossMemo // (ex) as a publisher: its last subject's stream routes (accounts.go)
	gate  gate      // as a subscriber: publishers waiting for it to drain
	// streamGroups (ex), during one message's stream hops in a cluster: the queue groups its
	// first hop serves on this server (nil: all, as without a cluster).
	streamGroups *groupsHere

	// (ex) counts gathered during one read and added to the shared counters (the
	// server's, this client's inbound ones, the index's) after it, so publishers do not
	// contend on them per message.
	batch statsBatch

	// (ex) clients this read queued messages for, flushed once when the read is done.
	touched    []*client
	touchedSet map[*client]struct{}
}

type statsBatch struct{ inMsgs, inBytes, outMsgs, outBytes, matches, hits int64 }

// flushStats adds the batch to the server's counters.
func (c *client) flushStats() {
	b, st := &c.batch, &c.srv.stats
	if b.inMsgs != 0 {
		st.inMsgs.Add(b.inMsgs)
		st.inBytes.Add(b.inBytes)
		c.inMsgs.Add(b.inMsgs)
		c.inBytes.Add(b.inBytes)
	}
	if b.matches != 0 {
		c.acc.Subs.CountMatches(uint64(b.matches), uint64(b.hits))
	}
	if b.outMsgs != 0 {
		st.outMsgs.Add(b.outMsgs)
		st.outBytes.Add(b.outBytes)
	}
	*b = statsBatch{}
}

// connectInfo is the CONNECT document; missing fields keep nats-server's defaults.
type connectInfo struct {
	Verbose      bool   `json:"verbose"`
	Pedantic     bool   `json:"pedantic"`
	TLSRequired  bool   `json:"tls_required"`
	User         string `json:"user,omitempty"`
	Pass         string `json:"pass,omitempty"`
	Token        string `json:"auth_token,omitempty"`
	Nkey         string `json:"nkey,omitempty"`
	Sig          string `json:"sig,omitempty"`
	JWT          string `json:"jwt,omitempty"`
	Name         string `json:"name"`
	Lang         string `json:"lang"`
	Version      string `json:"version"`
	Protocol     int    `json:"protocol"`
	Echo         bool   `json:"echo"`
	Headers      bool   `json:"headers"`
	NoResponders bool   `json:"no_responders"`
}

func defaultConnectInfo() connectInfo {
	return connectInfo{Verbose: true, Pedantic: true, Echo: true}
}

// newClient makes the client of a connection, on ex (nil: an executor of its own).
func newClient(s *Server, conn env.Conn, cid uint64, ex env.Executor) *client {
	if ex == nil {
		ex = s.env.Exec.New("client " + strconv.FormatUint(cid, 10))
	}
	c := &client{
		srv: s, cid: cid, conn: conn, ex: ex,
		rng: env.NewPRNG(s.env.Rand.Uint64()), start: s.env.Clock.Now(),
		subs: map[string]*subscription{}, info: defaultConnectInfo(), acc: s.accountOf(nil),
	}
	// Until a CONNECT says otherwise the client has nats-server's defaults: a client that
	// never sends one is verbose and pedantic.
	c.echo, c.verbose, c.pedantic = c.info.Echo, c.info.Verbose, c.info.Pedantic
	c.host, c.port = env.SplitAddr(conn.RemoteAddr())
	c.parser = proto.NewParser(c, s.cfg().parserLimits())
	c.setTrace(s.log.Enabled(env.LevelTrace))
	return c
}

// beforeConnect sets what a client is before it sends CONNECT, as nats-server has it: on a
// server that requires authentication, the no_auth_user if one is configured (its
// permissions apply at once; the auth timer still runs), else nobody, and every op but
// CONNECT is an Authorization Violation.
func (c *client) beforeConnect(cfg *config) {
	a := c.authenticator(cfg)
	if !a.Required() {
		return
	}
	user, err := a.Check(auth.Credentials{}, nil)
	if err != nil || user == nil {
		c.parser.SetGate(c.gateBeforeConnect)
		return
	}
	if err := c.setUser(user); err != nil {
		c.parser.SetGate(c.gateBeforeConnect) // its account is full: it must say who it is
	}
}

// begin runs first on the client's executor: INFO, TLS, timers, then events.
func (c *client) begin() {
	s, cfg := c.srv, c.srv.cfg()
	c.lastIn = s.env.Clock.Mono()
	c.beganAt = c.lastIn
	c.lastAct.Store(int64(c.lastIn))
	c.conn.SetWriteDeadline(cfg.WriteDeadline)
	c.beforeConnect(cfg)
	info := s.infoFor(cfg)
	info.ClientID, info.ClientIP = c.cid, c.host
	if c.ws != nil {
		s.webSocketInfo(cfg, &info)
	}
	if c.authenticator(cfg).NeedsNonce() {
		c.nonce = s.newNonce()
		info.Nonce = string(c.nonce)
	}
	c.urlsSent = info.ConnectURLs
	line := s.infoLine(info)
	if cfg.TLS != nil && c.ws == nil { // WebSocket clients did TLS below the upgrade
		c.beginTLS(cfg, line)
		return
	}
	if err := c.conn.Write(line); err != nil {
		c.close(reasonReadError)
		return
	}
	c.startEvents()
}

// startEvents starts reading and arms the auth and ping timers.
func (c *client) startEvents() {
	s, cfg := c.srv, c.srv.cfg()
	c.conn.Start(c.ex, c)
	if a := c.authenticator(cfg); a.Required() {
		c.authTimer = s.env.Clock.AfterFunc(a.Timeout(), c.ex, c.authTimeout)
	}
	c.pingTimer = s.env.Clock.AfterFunc(c.pingInterval(cfg), c.ex, c.pingTick)
	s.log.Logf(env.LevelDebug, "%s:%d - cid:%d - Client connection created", c.host, c.port, c.cid)
}

func (c *client) authTimeout() {
	if !c.connected {
		c.sendErr("Authentication Timeout")
		c.close(reasonAuthTimeout)
	}
}

// RTT measurement, as nats-server does it: CONNECT gives a first estimate (the time since
// the connection began, which spans the INFO's trip and the CONNECT's), and the first
// PING goes rttFirstPing after it, plus up to a fifth of that at random so that clients
// connected together are not pinged together, or after ping_interval when that is
// shorter. A PING's PONG measures the RTT, refreshed at least every rttRefresh.
const (
	rttFirstPing        = 2 * time.Second
	rttFirstPingJitters = 5 // the jitter is below rttFirstPing / rttFirstPingJitters
	rttRefresh          = time.Hour
)

// startRTT runs when the client's CONNECT is accepted: it estimates the RTT and brings
// the first PING forward.
func (c *client) startRTT() {
	s := c.srv
	c.setRTT(s.env.Clock.Mono() - c.beganAt)
	delay := min(s.cfg().PingInterval, rttFirstPing)
	delay += time.Duration(c.rng.Intn(int(delay/rttFirstPingJitters) + 1))
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	c.pingTimer = s.env.Clock.AfterFunc(delay, c.ex, c.pingTick)
}

// setRTT records a measurement; it is never zero once set (zero means unknown).
func (c *client) setRTT(d time.Duration) { c.rttNanos.Store(max(int64(d), 1)) }

// pingTick sends a PING, unless the client was heard from within the interval and its RTT
// was measured by a PING within rttRefresh (so the first PING always goes); after
// MaxPingsOut unanswered PINGs the next tick closes the connection as stale.
func (c *client) pingTick() {
	s, cfg := c.srv, c.srv.cfg()
	now := s.env.Clock.Mono()
	needRTT := !c.pinged || now-c.pingSent > rttRefresh
	switch {
	case now-c.lastIn < c.pingInterval(cfg) && c.pingsOut == 0 && !needRTT:
	case c.pingsOut+1 > cfg.MaxPingsOut:
		s.stats.staleConns.Add(1)
		c.sendErr("Stale Connection")
		c.close(reasonStale)
		return
	default:
		c.pingsOut++
		c.pingSent, c.pinged = now, true
		c.write(proto.Ping)
	}
	c.pingTimer = s.env.Clock.AfterFunc(c.pingInterval(cfg), c.ex, c.pingTick)
}

// OnData implements env.ConnHandler.
func (c *client) OnData(p []byte) {
	if c.closed.Load() {
		return
	}
	c.lastIn = c.srv.env.Clock.Mono()
	c.lastAct.Store(int64(c.lastIn))
	err := c.parser.Parse(p)
	c.flushTouched()
	c.flushStats()
	if err != nil {
		c.protocolError(err)
		return
	}
	c.stallIfBehind()
}

// protocolError answers a parse or protocol error and closes.
func (c *client) protocolError(err error) {
	if c.closed.Load() {
		return // a handler already closed the connection
	}
	reason := reasonParseError
	switch sentinel := protoSentinel(err); {
	case errors.Is(err, errCloseSilently):
		c.close(reasonProtocol)
		return
	case errors.Is(err, proto.ErrBadArguments):
		// nats-server closes on malformed arguments without an -ERR.
		c.srv.log.Logf(env.LevelDebug, "%s:%d - cid:%d - %v", c.host, c.port, c.cid, err)
		c.close(reasonParseError)
		return
	case sentinel != nil:
		if sentinel == proto.ErrMaxPayload {
			reason = reasonMaxPayload
			c.srv.env.Probe.Hit("core.max-payload")
		}
		c.sendErr(sentinel.Error()) // the bare text clients match on, not the detail
	case errors.Is(err, errAccountConnections):
		c.refuseAccount(err)
		return
	case errors.Is(err, errAuthViolation):
		reason = reasonAuthFailure
		c.sendErr("Authorization Violation")
	default:
		c.sendErr(err.Error())
	}
	c.srv.log.Logf(env.LevelDebug, "%s:%d - cid:%d - %v", c.host, c.port, c.cid, err)
	c.close(reason)
}

// protoSentinel returns the parser error err wraps, or nil.
func protoSentinel(err error) error {
	for _, s := range []error{proto.ErrMaxPayload, proto.ErrMaxControlLine, proto.ErrUnknownOp} {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// OnClose implements env.ConnHandler.
func (c *client) OnClose(err error) {
	switch {
	case err == nil:
		c.close(reasonClientClosed)
	case errors.Is(err, env.ErrTimeout):
		c.srv.stats.slowConsumers.Add(1)
		c.close(reasonSlowDeadline)
	default:
		if errors.Is(err, websocket.ErrProtocol) {
			c.srv.log.Logf(env.LevelError, "%s:%d - cid:%d - read error: %v", c.host, c.port, c.cid, err)
		}
		c.close(reasonReadError)
	}
}

// write queues bytes for the client; a failure means the connection is going away and its
// OnClose is on the way.
func (c *client) write(p []byte) {
	if c.trace.Load() {
		c.traceLine("->>", p)
	}
	_ = c.conn.Write(p)
}

// traceLine logs the first line of a protocol operation, with secrets in a CONNECT
// redacted.
func (c *client) traceLine(dir string, p []byte) {
	line := string(p)
	if i := strings.Index(line, "\r\n"); i >= 0 {
		line = line[:i]
	}
	if strings.HasPrefix(strings.ToUpper(line), "CONNECT") {
		line = redactSecrets(line)
	}
	c.srv.log.Logf(env.LevelTrace, "%s:%d - cid:%d - %s [%s]", c.host, c.port, c.cid, dir, line)
}

// redactSecrets hides the values of password and token fields in a CONNECT document.
func redactSecrets(line string) string {
	for _, key := range []string{`"pass":"`, `"auth_token":"`, `"sig":"`} {
		i := strings.Index(line, key)
		if i < 0 {
			continue
		}
		start := i + len(key)
		end := strings.IndexByte(line[start:], '"')
		if end < 0 {
			continue
		}
		line = line[:start] + "[REDACTED]" + line[start+end:]
	}
	return line
}

func (c *client) sendErr(text string) { c.write(proto.AppendErr(nil, text)) }

func (c *client) sendOK() {
	if c.verbose {
		c.write(proto.OK)
	}
}

// close ends the connection on the client's executor: subscriptions go, pending output is
// flushed, timers stop. It is idempotent.
func (c *client) close(reason string) {
	if c.finished {
		return
	}
	c.finished = true
	c.closed.Store(true)
	if c.pingTimer != nil {
		c.pingTimer.Stop()
	}
	if c.authTimer != nil {
		c.authTimer.Stop()
	}
	if c.expiry != nil {
		c.expiry.Stop()
	}
	c.stopFlow()
	c.mu.Lock()
	subs := c.subs
	c.subs = map[string]*subscription{}
	c.mu.Unlock()
	for _, sid := range env.SortedKeys(subs) {
		if subs[sid].acc.Subs.Remove(&subs[sid].entry) {
			c.srv.subRemoved(subs[sid])
		}
	}
	now := c.srv.env.Clock.Now()
	summary := c.connInfo(now)
	summary.Reason, summary.Stop = reason, now
	if c.ws != nil {
		c.ws.SetCloseStatus(webSocketCloseStatus(reason), reason)
	}
	_ = c.conn.Close() // Close reports nothing useful on a connection already ending
	c.srv.removeClient(c, summary)
	if c.connected {
		c.disconnectEvent(reason)
	}
	c.mu.Lock()
	c.acc.RemoveConn()
	c.mu.Unlock()
	c.srv.log.Logf(env.LevelDebug, "%s:%d - cid:%d - Client connection closed: %s", c.host, c.port, c.cid, reason)
}

// closeAsync closes the client from another executor: deliveries stop at once, the rest
// happens on the client's own executor.
func (c *client) closeAsync(reason string) {
	c.ex.Post(func() { c.close(reason) })
}

// errCloseSilently closes without an -ERR, as nats-server does for a CONNECT or INFO that is
// not its JSON document, an -ERR from a client, or an HPUB from a client without headers.
var errCloseSilently = errors.New("close without error")

// errAuthViolation ends a connection that failed or skipped authentication.
var errAuthViolation = errors.New("authorization violation")
