package env

import (
	"crypto/tls"
	"errors"
	"time"
)

// Errors a connection's OnClose or a dial may report, classified for errors.Is.
var (
	// ErrReset: the peer reset the connection, or it broke (ECONNRESET, EPIPE).
	ErrReset = errors.New("connection reset")
	// ErrRefused: nothing listens at the address.
	ErrRefused = errors.New("connection refused")
	// ErrTimeout: a dial or an unacknowledged send timed out.
	ErrTimeout = errors.New("connection timed out")
	// ErrConnClosed: the connection was closed locally.
	ErrConnClosed = errors.New("use of closed connection")
)

// Net opens TCP listeners and connections. Addresses are "host:port".
type Net interface {
	// Listen starts accepting connections on addr (":0" picks a free port; see
	// Listener.Addr). Each accepted connection is passed to accept, posted to ex. The engine
	// calls Conn.Start on it to receive its events.
	Listen(addr string, ex Executor, accept func(Conn)) (Listener, error)
	// Dial connects to addr and posts done to ex with the connection or an error
	// (ErrRefused, ErrTimeout after timeout, or another).
	Dial(addr string, timeout time.Duration, ex Executor, done func(Conn, error))
}

// Listener is an open listening socket.
type Listener interface {
	// Addr is the address it listens on, with the port resolved.
	Addr() string
	// Close stops accepting. Connections already passed to accept are unaffected; any the
	// OS accepted but not yet passed on are reset.
	Close() error
}

// Conn is one TCP connection. Its methods are safe to call from any executor.
type Conn interface {
	// Start begins delivering the connection's events to h, each posted to ex. Bytes that
	// arrived before Start are delivered first. Start is called once.
	Start(ex Executor, h ConnHandler)
	// Write queues a copy of p for sending and returns without blocking. It fails only when
	// the connection is closed or broken; bytes it accepted may still be lost if the
	// connection breaks later.
	Write(p []byte) error
	// Queue is Write without the promise to send soon: the bytes wait until the next Flush
	// or Write on this connection. A caller that queues must flush. Batching many queued
	// writes into one Flush saves a hand-off and a system call per write.
	Queue(p []byte) error
	// Flush sends what is queued. The host may write on the caller's goroutine when the
	// network takes the bytes at once (never blocking for long) and hands the rest to its
	// writer.
	Flush()
	// Buffered reports how many bytes Write accepted that have not yet been handed to the
	// network; a growing value means the peer or the path is slow.
	Buffered() int
	// Close sends what is queued, then closes. After Close returns, called from the executor
	// given to Start, no further event is delivered. Close is idempotent.
	Close() error
	// Abort drops what is queued and resets the connection at once.
	Abort()
	// SetWriteDeadline bounds how long queued bytes may wait for the network to take them:
	// past d without progress the connection breaks and OnClose reports ErrTimeout. Zero
	// means no bound beyond the network's own.
	SetWriteDeadline(d time.Duration)
	// LocalAddr and RemoteAddr are "host:port".
	LocalAddr() string
	RemoteAddr() string

	// Flow control. A connection whose reads are paused gets no OnData after the one in
	// progress until ResumeReads; what arrives meanwhile waits in the host's receive
	// buffers, and once those are full the peer's sends stall (TCP flow control). This is
	// how the engine slows a publisher whose subscribers fall behind. OnClose may still
	// arrive while paused (a reset); a clean close by the peer comes after the bytes sent
	// before it. PauseReads and ResumeReads run on the executor given to Start; each is a
	// no-op when reads already are paused or running.
	PauseReads()
	ResumeReads()
	// NotifyDrained posts fn to ex once Buffered() <= below (at once if it already is) or
	// the connection has ended. One notification is pending per connection: a later call
	// replaces one that has not fired. Safe from any executor.
	NotifyDrained(below int, ex Executor, fn func())
}

// ConnHandler receives a connection's events, on the executor given to Conn.Start.
type ConnHandler interface {
	// OnData delivers bytes in order. p is valid only during the call; the handler copies
	// what it keeps. The stream may be cut anywhere: a message can span many calls.
	OnData(p []byte)
	// OnClose is the last event: err is nil when the peer closed cleanly, otherwise why the
	// connection ended (ErrReset, ErrTimeout, ...). It is not delivered after a local Close.
	// A peer's close ends the whole connection: Write fails once OnClose is on its way.
	OnClose(err error)
}

// TLSConn is implemented by connections that can switch to TLS (netstack's; the simulator's
// cannot). The engine type-asserts for it when TLS is configured.
type TLSConn interface {
	// StartTLS sends what is queued, then runs a server-side TLS handshake within timeout,
	// and posts done to ex. Call it before Start; after done(nil) the connection carries
	// TLS both ways.
	StartTLS(cfg *tls.Config, timeout time.Duration, ex Executor, done func(error))
	// StartTLSClient is StartTLS's client side, for connections this host dialled (routes):
	// the peer's certificate is verified against cfg.RootCAs for serverName (a host name or
	// an IP address; it overrides cfg.ServerName, and cfg itself is not changed), and cfg's
	// certificate is offered when the peer asks for one.
	StartTLSClient(cfg *tls.Config, serverName string, timeout time.Duration, ex Executor, done func(error))
	// TLSState describes the session once the handshake is done: version and cipher names.
	TLSState() (version, cipher string)
}
