package account

import (
	"fmt"
	"time"
)

// Global is the account every user without one belongs to, as nats-server names it.
const Global = "$G"

// DefaultSystem is the system account's name when the configuration names none.
const DefaultSystem = "$SYS"

// DefaultResponseThreshold is how long a service import waits for a response (nats-server's
// default): a reply subject it mapped is forgotten this long after its last use.
const DefaultResponseThreshold = 2 * time.Minute

// Kind is what an export or import shares.
type Kind int

const (
	Stream  Kind = iota // messages published in the exporter reach the importer's subscribers
	Service             // requests published in the importer reach the exporter's responders
)

func (k Kind) String() string { return [...]string{"stream", "service"}[k] }

// ResponseType is how many responses a service sends to one request.
type ResponseType int

const (
	Singleton ResponseType = iota // one: the reply subject is forgotten after it
	Streamed                      // any number, until the threshold passes without one
	Chunked                       // as Streamed (nats-server treats them alike)
)

// ParseResponseType reads nats-server's names for response types.
func ParseResponseType(s string) (ResponseType, error) {
	switch s {
	case "", "singleton", "Singleton":
		return Singleton, nil
	case "stream", "Stream":
		return Streamed, nil
	case "chunked", "Chunked":
		return Chunked, nil
	}
	return 0, fmt.Errorf("unknown response type %q (singleton, stream or chunked)", s)
}

func (t ResponseType) String() string { return [...]string{"Singleton", "Stream", "Chunked"}[t] }

// Export shares a subject space with other accounts.
type Export struct {
	Kind    Kind
	Subject string
	// Accounts may import it; empty means every account (a public export).
	Accounts []string
	// Service exports only.
	ResponseType      ResponseType
	ResponseThreshold time.Duration // 0: DefaultResponseThreshold
	// Latency, when set, samples how long the service takes to answer a request that came
	// through an import, published in this account on Latency.Subject.
	Latency *Latency
}

// Latency is a service export's latency tracking: Sampling percent of requests (1..100).
type Latency struct {
	Sampling int
	Subject  string
}

// Import takes what another account exports.
type Import struct {
	Kind    Kind
	Account string // the exporter
	Subject string // in the exporter's subject space
	// Where the subject lands in the importer: Prefix (streams: "<prefix>.<subject>") or To
	// (the subject rewritten, its wildcards kept in order). Neither: the same subject.
	Prefix string
	To     string
}

// local is the subject an import occupies in the importing account.
func (im Import) local() string {
	switch {
	case im.Prefix != "":
		return im.Prefix + "." + im.Subject
	case im.To != "":
		return im.To
	}
	return im.Subject
}

// Limits are an account's quotas; 0 means unlimited.
type Limits struct {
	MaxConnections   int
	MaxSubscriptions int
	MaxPayload       int
	MaxLeafNodes     int // stored for leaf nodes
}

// JetStreamLimits are an account's JetStream quotas (0: none), stored for JetStream.
type JetStreamLimits struct {
	MaxMemory, MaxStore                      int64
	MaxStreams, MaxConsumers, MaxAckPending  int
	MemoryMaxStreamBytes, DiskMaxStreamBytes int64
	MaxBytesRequired                         bool
}

// Config is one account as configured.
type Config struct {
	Name    string
	Exports []Export
	Imports []Import
	// Mappings rewrite published subjects; the first whose source matches applies.
	Mappings []Mapping
	Limits   Limits
	// JetStream is stored for JetStream: whether the account may use it, and its limits.
	JetStream       bool
	JetStreamLimits JetStreamLimits
	// Lenient drops an import that does not check (reported in Next.Dropped) instead of
	// refusing the whole set: an account JWT's bad import must not take other accounts
	// down, as nats-server treats it.
	Lenient bool
}
