package jetstream

import (
	"sort"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
)

// JSInfo is /jsz (and $SYS.REQ.SERVER.PING.JSZ): nats-server's document, one server's view.
type JSInfo struct {
	Stats
	ID             string           `json:"server_id"`
	Now            time.Time        `json:"now"`
	Disabled       bool             `json:"disabled,omitempty"`
	Config         JSConfig         `json:"config,omitempty"`
	Streams        int              `json:"streams"`
	Consumers      int              `json:"consumers"`
	Messages       uint64           `json:"messages"`
	Bytes          uint64           `json:"bytes"`
	AccountDetails []*AccountDetail `json:"account_details,omitempty"`
	Total          int              `json:"total"`
}

// Stats are usage totals (the server's, or one account's).
type Stats struct {
	Memory         uint64         `json:"memory"`
	Store          uint64         `json:"storage"`
	ReservedMemory uint64         `json:"reserved_memory"`
	ReservedStore  uint64         `json:"reserved_storage"`
	Accounts       int            `json:"accounts"`
	HAAssets       int            `json:"ha_assets"`
	API            jsapi.APIStats `json:"api"`
}

// JSConfig is JetStream's configuration as /jsz shows it.
type JSConfig struct {
	MaxMemory    int64         `json:"max_memory"`
	MaxStore     int64         `json:"max_storage"`
	StoreDir     string        `json:"store_dir,omitempty"`
	SyncInterval time.Duration `json:"sync_interval,omitempty"`
	SyncAlways   bool          `json:"sync_always,omitempty"`
	Domain       string        `json:"domain,omitempty"`
	CompressOK   bool          `json:"compress_ok,omitempty"`
	Strict       bool          `json:"strict,omitempty"`
}

// AccountDetail is one account's part of /jsz?accounts=true.
type AccountDetail struct {
	Name string `json:"name"`
	ID   string `json:"id"`
	Stats
	Streams []StreamDetail `json:"stream_detail,omitempty"`
}

// StreamDetail is one stream in /jsz?streams=true.
type StreamDetail struct {
	Name      string                `json:"name"`
	Created   time.Time             `json:"created"`
	Config    *jsapi.StreamConfig   `json:"config,omitempty"`
	State     jsapi.StreamState     `json:"state"`
	Consumers []*jsapi.ConsumerInfo `json:"consumer_detail,omitempty"`
}

// JszOptions are /jsz's query options Petrel serves.
type JszOptions struct {
	Account   string `json:"account,omitempty"`
	Accounts  bool   `json:"accounts,omitempty"`
	Streams   bool   `json:"streams,omitempty"`
	Consumers bool   `json:"consumer,omitempty"`
	Config    bool   `json:"config,omitempty"`
}

// streamUsage is what /jsz reads of one stream on its executor.
type streamUsage struct {
	account string
	mem     bool
	detail  StreamDetail
	cons    int
}

// Jsz gathers the document and hands it to done on the service's executor.
func (s *Service) Jsz(o JszOptions, serverID string, done func(*JSInfo)) {
	s.ex.Post(func() {
		var streams []*streamActor
		var apiTotal, apiErrors uint64
		for _, name := range sortedAccounts(s.accounts) {
			a := s.accounts[name]
			apiTotal, apiErrors = apiTotal+a.apiTotal, apiErrors+a.apiErrors
			for _, n := range a.matchingNames("") {
				streams = append(streams, a.streams[n])
			}
		}
		gatherAll(s, streams, func(st *streamActor) streamUsage { return st.usage(o) }, func(us []streamUsage) {
			info := &JSInfo{ID: serverID, Now: s.now().UTC(), Config: s.jsConfig()}
			info.Accounts, info.API = len(s.accounts), jsapi.APIStats{Level: jsapi.Level, Total: apiTotal, Errors: apiErrors}
			details := map[string]*AccountDetail{}
			for _, u := range us {
				addUsage(&info.Stats, u)
				info.Streams++
				info.Consumers += u.cons
				info.Messages += u.detail.State.Msgs
				info.Bytes += u.detail.State.Bytes
				if o.Accounts || o.Account != "" {
					d := details[u.account]
					if d == nil {
						d = &AccountDetail{Name: u.account, ID: u.account}
						details[u.account] = d
					}
					addUsage(&d.Stats, u)
					if o.Streams {
						d.Streams = append(d.Streams, u.detail)
					}
				}
			}
			for _, name := range sortedAccounts(s.accounts) {
				if d := details[name]; d != nil && (o.Account == "" || o.Account == name) {
					info.AccountDetails = append(info.AccountDetails, d)
				}
			}
			info.Total = len(info.AccountDetails)
			done(info)
		})
	})
}

func addUsage(st *Stats, u streamUsage) {
	if u.mem {
		st.Memory += u.detail.State.Bytes
	} else {
		st.Store += u.detail.State.Bytes
	}
}

func (s *Service) jsConfig() JSConfig {
	c := JSConfig{MaxMemory: s.cfg.MaxMemory, MaxStore: s.cfg.MaxStore, StoreDir: s.root, Domain: s.cfg.Domain,
		CompressOK: true, Strict: true, SyncInterval: s.cfg.SyncInterval, SyncAlways: s.cfg.SyncInterval == 0}
	return c
}

func sortedAccounts(m map[string]*account) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// usage is the stream's part of /jsz, read on its executor.
func (st *streamActor) usage(o JszOptions) streamUsage {
	u := streamUsage{account: st.acc.name, mem: st.fsm.Config().Storage == jsapi.MemoryStorage, cons: len(st.consumers),
		detail: StreamDetail{Name: st.name, Created: st.created, State: st.state(nil)}}
	if o.Config {
		cfg := st.fsm.Config()
		u.detail.Config = &cfg
	}
	if o.Consumers {
		for _, name := range st.consumerNames() {
			u.detail.Consumers = append(u.detail.Consumers, st.consumers[name].info())
		}
	}
	return u
}

func (st *streamActor) consumerNames() []string {
	out := make([]string, 0, len(st.consumers))
	for n := range st.consumers {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
