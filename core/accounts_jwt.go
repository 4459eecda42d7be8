package core

import (
	"maps"
	"slices"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/subject"
)

// accountsFromClaims turns the trusted account JWTs into account configurations, sorted by
// account. An export that needs an activation token is offered to the accounts whose import
// carries a valid one (issued by the exporter or its signing key to that importer, for a
// subject covering the import, not expired at now, not revoked by the export).
func accountsFromClaims(accs map[string]*jwt.AccountClaims, now time.Time) []account.Config {
	var out []account.Config
	index := map[string]int{}
	for _, pub := range slices.Sorted(maps.Keys(accs)) {
		index[pub] = len(out)
		out = append(out, accountFromClaims(accs[pub]))
	}
	for _, pub := range slices.Sorted(maps.Keys(accs)) {
		for _, im := range accs[pub].Imports {
			exporter, ok := accs[im.Account]
			if !ok || im.Token == "" {
				continue
			}
			if ex := activated(exporter, pub, im, now); ex != nil {
				cfg := &out[index[im.Account]]
				for i := range cfg.Exports {
					if cfg.Exports[i].Subject == string(ex.Subject) {
						cfg.Exports[i].Accounts = append(cfg.Exports[i].Accounts, pub)
					}
				}
			}
		}
	}
	return out
}

// activated returns the private export an import's activation token opens to importer, or nil.
func activated(exporter *jwt.AccountClaims, importer string, im *jwt.Import, now time.Time) *jwt.Export {
	act, err := jwt.DecodeActivationClaims(im.Token)
	switch {
	case err != nil, act.Subject != importer,
		act.Issuer != exporter.Subject && !(act.IssuerAccount == exporter.Subject && exporter.SigningKeys.Contains(act.Issuer)),
		act.Expires > 0 && now.Unix() >= act.Expires:
		return nil
	}
	remote := string(im.Subject)
	if im.Type == jwt.Service && im.To != "" && im.LocalSubject == "" {
		remote = string(im.To)
	}
	for _, ex := range exporter.Exports {
		if ex.TokenReq && ex.Type == im.Type && subject.SubsetOf(remote, string(ex.Subject)) &&
			subject.SubsetOf(remote, string(act.ImportSubject)) && !ex.Revocations.IsRevoked(importer, time.Unix(act.IssuedAt, 0)) {
			return ex
		}
	}
	return nil
}

// accountFromClaims is an account JWT's content as an account configuration: its exports,
// imports, mappings and limits. Exports that need an activation token are offered to nobody
// here; accountsFromClaims opens them to the holders of valid tokens.
func accountFromClaims(ac *jwt.AccountClaims) account.Config {
	cfg := account.Config{Name: ac.Subject, JetStream: ac.Limits.IsJSEnabled(), Lenient: true}
	if js := ac.Limits.JetStreamLimits; cfg.JetStream {
		positive := func(n int64) int64 { return max(n, 0) } // -1: unlimited
		cfg.JetStreamLimits = account.JetStreamLimits{MaxMemory: positive(js.MemoryStorage), MaxStore: positive(js.DiskStorage),
			MaxStreams: int(positive(js.Streams)), MaxConsumers: int(positive(js.Consumer)), MaxAckPending: int(positive(js.MaxAckPending)),
			MemoryMaxStreamBytes: positive(js.MemoryMaxStreamBytes), DiskMaxStreamBytes: positive(js.DiskMaxStreamBytes),
			MaxBytesRequired: js.MaxBytesRequired}
	}
	for _, ex := range ac.Exports {
		e := account.Export{Subject: string(ex.Subject), ResponseThreshold: ex.ResponseThreshold}
		if ex.Type == jwt.Service {
			e.Kind = account.Service
			e.ResponseType, _ = account.ParseResponseType(string(ex.ResponseType)) // unknown: singleton
		}
		if l := ex.Latency; l != nil && ex.Type == jwt.Service && l.Sampling > 0 && l.Results != "" {
			e.Latency = &account.Latency{Sampling: min(int(l.Sampling), 100), Subject: string(l.Results)}
		}
		if ex.TokenReq {
			e.Accounts = []string{ac.Subject} // nobody else, until activations are checked
		}
		cfg.Exports = append(cfg.Exports, e)
	}
	for _, im := range ac.Imports {
		cfg.Imports = append(cfg.Imports, importFromClaims(im))
	}
	for _, src := range sortedSubjects(ac.Mappings) {
		m := account.Mapping{Source: src}
		for _, d := range ac.Mappings[jwt.Subject(src)] {
			if d.Cluster == "" {
				m.Destinations = append(m.Destinations, account.Destination{Subject: string(d.Subject), Weight: int(d.GetWeight())})
			}
		}
		if len(m.Destinations) > 0 {
			cfg.Mappings = append(cfg.Mappings, m)
		}
	}
	limit := func(n int64) int {
		if n <= 0 || n > 1<<31 {
			return 0
		}
		return int(n)
	}
	cfg.Limits = account.Limits{MaxConnections: limit(ac.Limits.Conn), MaxSubscriptions: limit(ac.Limits.Subs),
		MaxPayload: limit(ac.Limits.Payload), MaxLeafNodes: limit(ac.Limits.LeafNodeConn)}
	return cfg
}

// importFromClaims reads an import's subjects the way the claims define them: a stream's
// Subject is the exporter's, renamed by LocalSubject or prefixed by the older To; a
// service's Subject is what the importer publishes, sent to To (or, with LocalSubject,
// LocalSubject is published and Subject is the exporter's).
func importFromClaims(im *jwt.Import) account.Import {
	out := account.Import{Account: im.Account, Subject: string(im.Subject)}
	if im.Type != jwt.Service {
		out.Kind = account.Stream
		switch {
		case im.LocalSubject != "":
			out.To = string(im.LocalSubject)
		case im.To != "":
			out.Prefix = string(im.To)
		}
		return out
	}
	out.Kind = account.Service
	switch {
	case im.LocalSubject != "":
		out.To = string(im.LocalSubject)
	case im.To != "":
		out.Subject, out.To = string(im.To), string(im.Subject)
	}
	return out
}

func sortedSubjects(m jwt.Mapping) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	return keys
}

// expireAt closes the client when its user JWT expires, with nats-server's -ERR.
func (c *client) expireAt(at time.Time) {
	if at.IsZero() {
		return
	}
	d := max(at.Sub(c.srv.env.Clock.Now()), 0)
	c.expiry = c.srv.env.Clock.AfterFunc(d, c.ex, func() {
		if c.finished {
			return
		}
		c.srv.env.Probe.Hit("core.auth.expired")
		c.sendErr("User Authentication Expired")
		c.close(reasonAuthExpired)
	})
}
