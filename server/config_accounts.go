package server

import (
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/server/conf"
)

// accounts reads the accounts block: { NAME: { users, exports, imports, jetstream,
// default_permissions } }. Users join the account they are listed in; the checks that span
// accounts (unknown accounts, imports nobody exports, cycles) are core/account's.
func (a *applier) accounts(v *conf.Value) error { return eachEntry(v, a.oneAccount) }

// eachEntry applies f to a map's entries, skipping the definitions of variables.
func eachEntry(v *conf.Value, f func(conf.Entry) error) error {
	m, err := v.AsMap()
	if err != nil {
		return err
	}
	for _, e := range m.Entries() {
		if e.Value.UsedAsVariable {
			continue
		}
		if err := f(e); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) oneAccount(e conf.Entry) error {
	cfg := account.Config{Name: e.Key}
	first := len(a.opts.Core.Auth.Users)
	var defaults *auth.Permissions
	handlers := map[string]handler{
		"users": a.users,
		"exports": func(v *conf.Value) error {
			return eachMap(v, "exports", func(m *conf.Value) error { return a.export(m, &cfg) })
		},
		"imports": func(v *conf.Value) error {
			return eachMap(v, "imports", func(m *conf.Value) error { return a.importEntry(m, &cfg) })
		},
		"jetstream": func(v *conf.Value) error {
			if v.Kind == conf.KindMap {
				cfg.JetStream = true // limits come with JetStream
				return a.jetstreamLimits(v, &cfg.JetStreamLimits)
			}
			return jetstreamSwitch(v, &cfg.JetStream)
		},
		"mappings": func(v *conf.Value) error { return mappings(v, &cfg.Mappings) },
		"maps":     func(v *conf.Value) error { return mappings(v, &cfg.Mappings) },
		"limits": func(v *conf.Value) error {
			l := &cfg.Limits
			return a.block(v, map[string]handler{
				"max_connections": setLimit(a, &l.MaxConnections, "an integer"), "max_conn": setLimit(a, &l.MaxConnections, "an integer"),
				"max_subscriptions": setLimit(a, &l.MaxSubscriptions, "an integer"), "max_subs": setLimit(a, &l.MaxSubscriptions, "an integer"),
				"max_payload": setLimit(a, &l.MaxPayload, "a size"), "max_pay": setLimit(a, &l.MaxPayload, "a size"),
				"max_leafnodes": setLimit(a, &l.MaxLeafNodes, "an integer"), "max_leafs": setLimit(a, &l.MaxLeafNodes, "an integer"),
			})
		},
		"default_permissions": func(v *conf.Value) error {
			p, err := a.permissions(v)
			defaults = p
			return err
		},
		"nkey": func(v *conf.Value) error {
			a.warn(v, "account %s: an account nkey matters only with operator JWTs; ignored", e.Key)
			return nil
		},
	}
	if err := a.block(e.Value, handlers); err != nil {
		return err
	}
	for i := first; i < len(a.opts.Core.Auth.Users); i++ {
		u := &a.opts.Core.Auth.Users[i]
		u.Account = e.Key
		if u.Permissions == nil {
			u.Permissions = defaults
		}
	}
	for i, prev := range a.opts.Core.Accounts {
		if prev.Name == account.Global && cfg.Name == account.Global {
			// The top-level mappings came first: they are the global account's too.
			cfg.Mappings = append(prev.Mappings, cfg.Mappings...)
			a.opts.Core.Accounts[i] = cfg
			return nil
		}
	}
	a.opts.Core.Accounts = append(a.opts.Core.Accounts, cfg)
	return nil
}

// eachMap applies f to every element of an array of maps.
func eachMap(v *conf.Value, what string, f func(*conf.Value) error) error {
	list, err := v.AsArray()
	if err != nil {
		return v.Errorf("expected %s to be an array, got %s", what, describeKind(v))
	}
	for _, item := range list {
		if err := f(item); err != nil {
			return err
		}
	}
	return nil
}

// export reads {stream: SUBJECT} or {service: SUBJECT, response_type, response_threshold},
// with accounts: [...] for a restricted export.
func (a *applier) export(v *conf.Value, cfg *account.Config) error {
	var ex account.Export
	var kinds int
	var rt string
	handlers := map[string]handler{
		"stream":             func(v *conf.Value) error { kinds++; ex.Kind = account.Stream; return setString(&ex.Subject)(v) },
		"service":            func(v *conf.Value) error { kinds++; ex.Kind = account.Service; return setString(&ex.Subject)(v) },
		"accounts":           func(v *conf.Value) error { l, err := v.AsStringList(); ex.Accounts = l; return err },
		"response_type":      setString(&rt),
		"response":           setString(&rt),
		"response_threshold": setDurationText("response_threshold", &ex.ResponseThreshold),
		"threshold":          setDurationText("response_threshold", &ex.ResponseThreshold),
		"latency": func(v *conf.Value) error {
			l, err := a.latency(v)
			ex.Latency = l
			return err
		},
		"account_token_position": ignoreKind(conf.KindInt),
		"advertise":              ignoreKind(conf.KindBool),
		"allow_trace":            ignoreKind(conf.KindBool),
	}
	if err := a.block(v, handlers); err != nil {
		return err
	}
	if kinds != 1 {
		return errorAt(v.Pos, "an export needs exactly one of stream or service")
	}
	if rt != "" && ex.Kind == account.Stream {
		return errorAt(v.Pos, "response_type is for service exports")
	}
	var err error
	if ex.ResponseType, err = account.ParseResponseType(rt); err != nil {
		return errorAt(v.Pos, "%v", err)
	}
	cfg.Exports = append(cfg.Exports, ex)
	return nil
}

// importEntry reads {stream: {account, subject}, prefix|to} or {service: {account,
// subject}, to}.
func (a *applier) importEntry(v *conf.Value, cfg *account.Config) error {
	var im account.Import
	var kinds int
	source := func(kind account.Kind) handler {
		return func(v *conf.Value) error {
			kinds++
			im.Kind = kind
			return a.block(v, map[string]handler{
				"account": setString(&im.Account),
				"subject": setString(&im.Subject),
			})
		}
	}
	handlers := map[string]handler{
		"stream":      source(account.Stream),
		"service":     source(account.Service),
		"prefix":      setString(&im.Prefix),
		"to":          setString(&im.To),
		"local":       setString(&im.To),
		"share":       ignoreKind(conf.KindBool),
		"allow_trace": ignoreKind(conf.KindBool),
	}
	if err := a.block(v, handlers); err != nil {
		return err
	}
	switch {
	case kinds != 1:
		return errorAt(v.Pos, "an import needs exactly one of stream or service")
	case im.Account == "" || im.Subject == "":
		return errorAt(v.Pos, "an import needs an account and a subject")
	}
	im.Prefix = strings.TrimSuffix(im.Prefix, ".")
	cfg.Imports = append(cfg.Imports, im)
	return nil
}

// topMappings reads the top-level mappings block: the global account's.
func (a *applier) topMappings(v *conf.Value) error {
	var ms []account.Mapping
	if err := mappings(v, &ms); err != nil {
		return err
	}
	accs := a.opts.Core.Accounts
	for i := range accs {
		if accs[i].Name == account.Global {
			accs[i].Mappings = append(accs[i].Mappings, ms...)
			return nil
		}
	}
	a.opts.Core.Accounts = append(accs, account.Config{Name: account.Global, Mappings: ms})
	return nil
}

// mappings reads { SOURCE: DESTINATION } where a destination is a subject, or a list of
// { destination, weight } (weight: 50, "50%").
func mappings(v *conf.Value, dst *[]account.Mapping) error {
	return eachEntry(v, func(e conf.Entry) error {
		mp := account.Mapping{Source: e.Key}
		switch e.Value.Kind {
		case conf.KindString:
			mp.Destinations = []account.Destination{{Subject: e.Value.Str, Weight: 100}}
		case conf.KindMap:
			d, err := weightedDestination(e.Value)
			if err != nil {
				return err
			}
			mp.Destinations = []account.Destination{d}
		case conf.KindArray:
			list, _ := e.Value.AsArray()
			for _, item := range list {
				d, err := weightedDestination(item)
				if err != nil {
					return err
				}
				mp.Destinations = append(mp.Destinations, d)
			}
		default:
			return wrongKind(e.Value, "a subject or a list of weighted destinations")
		}
		*dst = append(*dst, mp)
		return nil
	})
}

func weightedDestination(v *conf.Value) (account.Destination, error) {
	d := account.Destination{Weight: 100}
	m, err := v.AsMap()
	if err != nil {
		return d, err
	}
	for _, e := range m.Entries() {
		switch strings.ToLower(e.Key) {
		case "destination", "dest":
			if e.Value.Kind != conf.KindString {
				return d, wrongKind(e.Value, "a subject")
			}
			d.Subject = e.Value.Str
		case "weight":
			w, err := percent(e.Value)
			if err != nil {
				return d, err
			}
			d.Weight = w
		case "cluster":
			return d, e.Value.Errorf("cluster-scoped mappings need clustering, not supported yet")
		default:
			return d, unknownField(e)
		}
	}
	if d.Subject == "" {
		return d, errorAt(v.Pos, "a weighted mapping needs a destination")
	}
	return d, nil
}

// percent reads 50 or "50%".
func percent(v *conf.Value) (int, error) {
	switch v.Kind {
	case conf.KindInt:
		return int(v.Int), nil
	case conf.KindString:
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v.Str), "%"))
		if err != nil {
			return 0, v.Errorf("weight %q is not a percentage", v.Str)
		}
		return n, nil
	}
	return 0, wrongKind(v, "a percentage")
}

// latency reads a service export's latency tracking: a subject (every request sampled), or
// { sampling: 50 | "50%", subject }.
func (a *applier) latency(v *conf.Value) (*account.Latency, error) {
	l := &account.Latency{Sampling: 100}
	if v.Kind == conf.KindString {
		l.Subject = v.Str
		return l, nil
	}
	err := a.block(v, map[string]handler{
		"subject": setString(&l.Subject),
		"results": setString(&l.Subject),
		"sampling": func(v *conf.Value) error {
			n, err := percent(v)
			l.Sampling = n
			return err
		},
	})
	if err == nil && (l.Subject == "" || l.Sampling < 1 || l.Sampling > 100) {
		err = errorAt(v.Pos, "latency needs a subject and a sampling in 1..100%%")
	}
	return l, err
}

// jetstreamLimits reads an account's jetstream block (nats-server's names and aliases).
func (a *applier) jetstreamLimits(v *conf.Value, l *account.JetStreamLimits) error {
	size := func(dst *int64) handler { return setSize(dst) }
	count := func(dst *int) handler { return setLimit(a, dst, "an integer") }
	h := map[string]handler{"max_bytes_required": setBool(&l.MaxBytesRequired), "max_stream_bytes": setBool(&l.MaxBytesRequired),
		"max_bytes": setBool(&l.MaxBytesRequired), "max_ack_pending": count(&l.MaxAckPending), "cluster_traffic": ignoreKind(conf.KindString)}
	for _, k := range []string{"max_memory", "max_mem", "mem", "memory"} {
		h[k] = size(&l.MaxMemory)
	}
	for _, k := range []string{"max_store", "max_file", "max_disk", "store", "disk"} {
		h[k] = size(&l.MaxStore)
	}
	for _, k := range []string{"max_streams", "streams"} {
		h[k] = count(&l.MaxStreams)
	}
	for _, k := range []string{"max_consumers", "consumers"} {
		h[k] = count(&l.MaxConsumers)
	}
	for _, k := range []string{"mem_max_stream_bytes", "memory_max_stream_bytes"} {
		h[k] = size(&l.MemoryMaxStreamBytes)
	}
	for _, k := range []string{"disk_max_stream_bytes", "store_max_stream_bytes"} {
		h[k] = size(&l.DiskMaxStreamBytes)
	}
	return a.block(v, h)
}
