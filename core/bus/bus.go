// Package bus is how the server's own subsystems (the system account's services and
// events, later JetStream, clustering and MQTT) publish and subscribe inside any account,
// as internal clients: no connection, the same subject spaces, imports and mappings as
// everyone else. The engine (package core) implements Bus; subsystems get one.
package bus

// Msg is one message an internal subscription received.
type Msg struct {
	Account string // the account the subscription is in
	Subject string
	Reply   string
	Header  []byte // the raw header block (NATS/1.0 ...), nil without one
	Data    []byte
	// From is the client that published it; nil when the server did.
	From *Client
}

// Client describes a publishing client, for the services that answer about it
// ($SYS.REQ.USER.INFO).
type Client struct {
	CID     uint64
	User    string
	Account string
	Name    string
	Host    string
}

// Handler takes a message. Handlers of one server run one at a time, on the server's
// executor, in the order their messages were published.
type Handler func(Msg)

// Subscription is an internal subscription; Unsubscribe ends it.
type Subscription interface{ Unsubscribe() }

// Executor runs posted functions one at a time (core/env's Executor has this method).
type Executor interface{ Post(fn func()) }

// Bus publishes and subscribes inside accounts.
type Bus interface {
	// Subscribe delivers what is published in account on subject (wildcards allowed; a
	// non-empty queue makes it one member of that queue group).
	Subscribe(account, subject, queue string, h Handler) (Subscription, error)
	// SubscribeOn is Subscribe with h run on ex instead of the server's executor (a stream
	// takes its publishes on its own executor).
	SubscribeOn(account, subject, queue string, ex Executor, h Handler) (Subscription, error)
	// HasInterest reports whether a publish on subject in account would reach a
	// subscription now (a pull request whose requester went away is dropped).
	HasInterest(account, subject string) bool
	// HasSubscription reports whether a plain subscription on exactly subject (a literal
	// one, not a wildcard that matches it) exists in account now, as nats-server's interest
	// notifications count it: a snapshot waits for its client's own subscription, which
	// the client's request-reply wildcard on the same inbox prefix would otherwise hide.
	HasSubscription(account, subject string) bool
	// Publish sends a message in account, as a client there would; safe from any executor.
	Publish(account, subject, reply string, header, data []byte)
	// Deliver sends a message to the subscriptions of to (an inbox or deliver subject) that
	// shows subject as its subject, as JetStream delivers a stored message to a consumer's
	// client. Safe from any executor.
	Deliver(account, to, subject, reply string, header, data []byte)
	// Batch returns a Batch for the deliveries of one executor (not to be shared).
	Batch() Batch
}

// Batch is Deliver for a turn of many deliveries from one executor: each is queued in call
// order with everything else the server is sending, but the server may wait for Flush
// before it starts writing them, so a turn goes out in a few large writes rather than many
// small ones. The caller must Flush before its turn ends.
type Batch interface {
	// Deliver is Bus.Deliver with the reply subject in bytes, copied before it returns.
	Deliver(account, to, subject string, reply, header, data []byte)
	Flush()
}
