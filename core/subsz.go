package core

import (
	"sort"
	"time"

	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/core/sublist"
)

// subsListDefault is the page size of /subsz and /connz without a limit, nats-server's.
const subsListDefault = 1024

// Subsz is /subsz.
type Subsz struct {
	ID  string    `json:"server_id"`
	Now time.Time `json:"now"`
	sublist.Stats
	Total  int         `json:"total"`
	Offset int         `json:"offset"`
	Limit  int         `json:"limit"`
	Subs   []SubDetail `json:"subscriptions_list,omitempty"`
}

// SubszOptions are /subsz's query parameters.
type SubszOptions struct {
	Subs    bool
	Offset  int
	Limit   int
	Test    string // only subscriptions matching this literal subject
	Account string // only this account's subscriptions
}

// Subsz assembles /subsz. Total counts the listed subscriptions (after test), so it is 0
// without subs, as in nats-server.
func (s *Server) Subsz(o SubszOptions) Subsz {
	if o.Limit <= 0 {
		o.Limit = subsListDefault
	}
	set := s.cfg().accounts
	z := Subsz{ID: s.id, Now: s.env.Clock.Now(), Offset: o.Offset, Limit: o.Limit}
	for _, name := range set.Names() {
		z.Stats = z.Stats.Add(set.Get(name).Subs.Stats())
	}
	if !o.Subs {
		return z
	}
	var all []SubDetail
	for _, name := range set.Names() {
		if o.Account != "" && name != o.Account {
			continue
		}
		for _, e := range set.Get(name).Subs.All(nil) {
			sub := e.Owner.(*subscription)
			if o.Test != "" && !subject.Match(o.Test, e.Subject) {
				continue
			}
			all = append(all, SubDetail{Account: name, AccountTag: name, Subject: e.Subject,
				Queue: e.Queue, Sid: sub.sid, Msgs: sub.delivered.Load(), Max: sub.max.Load(), CID: sub.client.cid})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].CID != all[j].CID {
			return all[i].CID < all[j].CID
		}
		return all[i].Sid < all[j].Sid
	})
	z.Total = len(all)
	if o.Offset < len(all) {
		z.Subs = all[o.Offset:min(len(all), o.Offset+o.Limit)]
	}
	return z
}
