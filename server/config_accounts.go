package server

import (
	"strings"

	"github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/server/conf"
)

// accounts reads the accounts block: { NAME: { users, exports, imports, jetstream,
// default_permissions } }. Users join the account they are listed in; the checks that span
// accounts (unknown accounts, imports nobody exports, cycles) are core/account's.
func (a *applier) accounts(v *conf.Value) error {
	m, err := v.AsMap()
	if err != nil {
		return err
	}
	for _, e := range m.Entries() {
		if e.Value.UsedAsVariable {
			continue
		}
		if err := a.oneAccount(e); err != nil {
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
				return nil
			}
			return jetstreamSwitch(v, &cfg.JetStream)
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
			a.warn(v, "account %s: service latency tracking is not supported yet; ignored", cfg.Name)
			return nil
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
