package core

import (
	"time"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/sublist"
)

// /accountz and /accstatz, and the same documents for the system account's
// $SYS.REQ.ACCOUNT.<account>.<KIND> requests.

// Accountz is /accountz: the accounts' names, or one account's detail.
type Accountz struct {
	ID            string       `json:"server_id"`
	Now           time.Time    `json:"now"`
	SystemAccount string       `json:"system_account,omitempty"`
	Accounts      []string     `json:"accounts,omitempty"`
	Account       *AccountInfo `json:"account_detail,omitempty"`
}

// AccountInfo is one account's detail.
type AccountInfo struct {
	AccountName string             `json:"account_name"`
	LastUpdate  time.Time          `json:"update_time,omitempty"`
	IsSystem    bool               `json:"is_system,omitempty"`
	Expired     bool               `json:"expired"`
	Complete    bool               `json:"complete"`
	JetStream   bool               `json:"jetstream_enabled"`
	LeafCnt     int                `json:"leafnode_connections"`
	ClientCnt   int                `json:"client_connections"`
	SubCnt      int                `json:"subscriptions"`
	Mappings    map[string]any     `json:"mappings,omitempty"`
	Exports     []AccountExport    `json:"exports,omitempty"`
	Imports     []AccountImport    `json:"imports,omitempty"`
	NameTag     string             `json:"name_tag,omitempty"`
	Sublist     *sublist.Stats     `json:"sublist_stats,omitempty"`
	Responses   map[string]any     `json:"responses,omitempty"`
	Limits      *AccountLimitsJSON `json:"limits,omitempty"`
}

// AccountExport and AccountImport show the account's configuration.
type AccountExport struct {
	Subject      string   `json:"subject"`
	Type         string   `json:"type"`
	Accounts     []string `json:"approved_accounts,omitempty"`
	ResponseType string   `json:"response_type,omitempty"`
}

// AccountImport is one import of the account.
type AccountImport struct {
	Subject      string `json:"subject"`
	LocalSubject string `json:"local_subject,omitempty"`
	Type         string `json:"type"`
	Account      string `json:"account"`
	Invalid      bool   `json:"invalid"`
}

// AccountLimitsJSON are the account's configured limits (-1: none), as claims show them.
type AccountLimitsJSON struct {
	Conn    int `json:"conn"`
	Subs    int `json:"subs"`
	Payload int `json:"payload"`
	Leaf    int `json:"leaf"`
}

// Accountz assembles /accountz: the account names, or with acc set, that account's detail.
func (s *Server) Accountz(acc string) Accountz {
	set := s.cfg().accounts
	z := Accountz{ID: s.id, Now: s.env.Clock.Now(), SystemAccount: set.System().Name()}
	if acc == "" {
		z.Accounts = set.Names()
		return z
	}
	if a := set.Get(acc); a != nil {
		z.Account = s.accountInfo(a)
	}
	return z
}

func (s *Server) accountInfo(a *account.Account) *AccountInfo {
	cfg := a.Config()
	stats := a.Subs.Stats()
	info := &AccountInfo{AccountName: a.Name(), LastUpdate: s.cfg().loaded, IsSystem: s.cfg().accounts.System() == a,
		Complete: true, JetStream: cfg.JetStream, ClientCnt: a.Conns(), SubCnt: a.Subs.Count(), NameTag: a.Name(),
		Sublist: &stats}
	for _, ex := range cfg.Exports {
		e := AccountExport{Subject: ex.Subject, Type: ex.Kind.String(), Accounts: ex.Accounts}
		if ex.Kind == account.Service {
			e.ResponseType = ex.ResponseType.String()
		}
		info.Exports = append(info.Exports, e)
	}
	for _, im := range cfg.Imports {
		local := im.To
		if im.Prefix != "" {
			local = im.Prefix + "." + im.Subject
		}
		info.Imports = append(info.Imports, AccountImport{Subject: im.Subject, LocalSubject: local, Type: im.Kind.String(), Account: im.Account})
	}
	if l := cfg.Limits; l != (account.Limits{}) {
		unlimited := func(n int) int {
			if n == 0 {
				return -1
			}
			return n
		}
		info.Limits = &AccountLimitsJSON{Conn: unlimited(l.MaxConnections), Subs: unlimited(l.MaxSubscriptions),
			Payload: unlimited(l.MaxPayload), Leaf: unlimited(l.MaxLeafNodes)}
	}
	return info
}

// AccountStatz is /accstatz: per-account traffic and connection counts.
type AccountStatz struct {
	ID       string         `json:"server_id"`
	Now      time.Time      `json:"now"`
	Accounts []*AccountStat `json:"account_statz"`
}

// AccountStat is one account's figures.
type AccountStat struct {
	Account       string    `json:"acc"`
	Name          string    `json:"name"`
	Conns         int       `json:"conns"`
	LeafNodes     int       `json:"leafnodes"`
	TotalConns    int       `json:"total_conns"`
	NumSubs       int       `json:"num_subscriptions"`
	Sent          DataStats `json:"sent"`
	Received      DataStats `json:"received"`
	SlowConsumers int64     `json:"slow_consumers"`
}

// AccountStatz assembles /accstatz for the named accounts (all when none), leaving out
// accounts without connections unless includeUnused.
func (s *Server) AccountStatz(accounts []string, includeUnused bool) AccountStatz {
	set := s.cfg().accounts
	if len(accounts) == 0 {
		accounts = set.Names()
	}
	stats := map[string]*AccountStat{}
	for _, name := range accounts {
		if a := set.Get(name); a != nil {
			stats[name] = &AccountStat{Account: name, Name: name, Conns: a.Conns(), TotalConns: a.Conns(), NumSubs: a.Subs.Count()}
		}
	}
	for _, c := range s.clientList() {
		c.mu.Lock()
		st := stats[c.acc.Name()]
		c.mu.Unlock()
		if st != nil {
			st.Sent.Msgs += c.outMsgs.Load()
			st.Sent.Bytes += c.outBytes.Load()
			st.Received.Msgs += c.inMsgs.Load()
			st.Received.Bytes += c.inBytes.Load()
		}
	}
	z := AccountStatz{ID: s.id, Now: s.env.Clock.Now(), Accounts: []*AccountStat{}}
	for _, name := range accounts {
		if st := stats[name]; st != nil && (includeUnused || st.Conns > 0) {
			z.Accounts = append(z.Accounts, st)
		}
	}
	return z
}
