package server

import (
	"cmp"
	"fmt"
	"time"

	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/server/conf"
)

// The checks that relate several options, run on the options the file and the command
// line give together. Each refusal is one nats-server makes (with its text), at the
// position of the option concerned when the file set it.

// minLameDuckDuration is nats-server's floor for lame_duck_duration.
const minLameDuckDuration = 30 * time.Second

// check runs every cross-option check on the applied options.
func (a *applier) check() error {
	for _, f := range []func() error{a.checkLameDuck, a.checkPayload, a.checkNoAuthUser, a.checkSystemAccount, a.checkTLS} {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

// refuse is an error at the first of the keys the file set, or without a position when
// none was (the value came from a default or a flag).
func (a *applier) refuse(keys []string, format string, args ...any) error {
	for _, k := range keys {
		if v := a.seen[k]; v != nil {
			return errorAt(v.Pos, format, args...)
		}
	}
	return fmt.Errorf(format, args...)
}

func (a *applier) checkLameDuck() error {
	o := a.opts.Core
	duration := cmp.Or(o.LameDuckDuration, core.DefaultLameDuckDuration)
	grace := cmp.Or(o.LameDuckGrace, core.DefaultLameDuckGrace)
	if o.LameDuckDuration != 0 && duration < minLameDuckDuration {
		return a.refuse([]string{"lame_duck_duration"}, "invalid lame_duck_duration of %v, minimum is 30 seconds", duration)
	}
	if grace >= duration {
		return a.refuse([]string{"lame_duck_grace_period", "lame_duck_duration"},
			"lame duck grace period (%v) should be strictly lower than lame duck duration (%v)", grace, duration)
	}
	return nil
}

func (a *applier) checkPayload() error {
	o := a.opts.Core
	payload := int64(cmp.Or(o.MaxPayload, core.DefaultMaxPayload))
	pending := cmp.Or(o.MaxPending, core.DefaultMaxPending)
	if payload > pending {
		return a.refuse([]string{"max_payload", "max_pending"}, "max_payload (%d) cannot be higher than max_pending (%d)", payload, pending)
	}
	return nil
}

func (a *applier) checkNoAuthUser() error {
	cfg := a.opts.Core.Auth
	if cfg.NoAuthUser == "" || a.seen["accounts"] != nil { // users in accounts are not read yet
		return nil
	}
	where := []string{"no_auth_user"}
	if len(cfg.Users) == 0 {
		return a.refuse(where, "no_auth_user: %q present, but users/nkeys are not defined", cfg.NoAuthUser)
	}
	for _, u := range cfg.Users {
		if u.Name == cfg.NoAuthUser || u.Nkey == cfg.NoAuthUser {
			return nil
		}
	}
	return a.refuse(where, "no_auth_user: %q not present as user or nkey in authorization block or account configuration", cfg.NoAuthUser)
}

// checkSystemAccount refuses a system account that neither the accounts block nor (in
// operator mode) resolver_preload defines, as nats-server does.
func (a *applier) checkSystemAccount() error {
	v := a.seen["system_account"]
	if v == nil {
		v = a.seen["system"]
	}
	if v == nil || v.Kind != conf.KindString || v.Str == "$SYS" {
		return nil
	}
	if accounts := a.seen["accounts"]; accounts != nil && accounts.Kind == conf.KindMap {
		if _, ok := accounts.Map.Get(v.Str); ok {
			return nil
		}
	}
	if t := a.opts.Core.Auth.Trust; t != nil && t.Accounts[v.Str] != "" {
		return nil
	}
	return errorAt(v.Pos, "error resolving system account: account missing")
}

// checkTLS loads the certificates, as nats-server does when it reads the file.
func (a *applier) checkTLS() error {
	o := *a.opts
	if err := loadTLS(&o); err != nil {
		return a.refuse([]string{"tls"}, "%v", err)
	}
	return nil
}
