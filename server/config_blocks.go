package server

import (
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/server/conf"
)

// block applies a map's keys with their handlers; unknown keys warn.
func (a *applier) block(v *conf.Value, handlers map[string]handler) error {
	m, err := v.AsMap()
	if err != nil {
		return err
	}
	return a.entries(m, handlers, func(e conf.Entry) {
		a.warn(e.Value, "unknown option %q in %s; ignored", e.Key, v.Path)
	})
}

func setString(dst *string) handler {
	return func(v *conf.Value) error {
		s, err := v.AsString()
		*dst = s
		return err
	}
}

func setBool(dst *bool) handler {
	return func(v *conf.Value) error {
		b, err := v.AsBool()
		*dst = b
		return err
	}
}

// ignore accepts a key that changes nothing in Petrel.
func ignore(*conf.Value) error { return nil }

// setInt reads an integer, -1 (nats-server's "any"/"unlimited") or more.
func setInt(dst *int) handler {
	return func(v *conf.Value) error {
		n, err := v.AsInt64()
		if err == nil && (n < -1 || n > 1<<31) {
			err = v.Errorf("%d is out of range", n)
		}
		*dst = int(n)
		return err
	}
}

// setSizeInt reads a size (8MB, 4096) that fits an int.
func setSizeInt(dst *int) handler {
	return func(v *conf.Value) error {
		n, err := v.AsSize()
		if err == nil && (n < 0 || n > 1<<31) {
			err = v.Errorf("%d is out of range", n)
		}
		*dst = int(n)
		return err
	}
}

func setDuration(dst *time.Duration) handler {
	return func(v *conf.Value) error {
		d, err := v.AsDuration()
		*dst = d
		return err
	}
}

// nonNegative rejects a negative value that h stored in dst.
func nonNegative(h handler, dst *int64) handler {
	return func(v *conf.Value) error {
		if err := h(v); err != nil {
			return err
		}
		if *dst < 0 {
			return v.Errorf("must not be negative")
		}
		return nil
	}
}

func setSize(dst *int64) handler {
	return func(v *conf.Value) error {
		n, err := v.AsSize()
		*dst = n
		return err
	}
}

// setSeconds reads a timeout written as seconds (possibly fractional) or as a duration.
func setSeconds(dst *time.Duration) handler {
	return func(v *conf.Value) error {
		if v.Kind == conf.KindFloat {
			*dst = time.Duration(v.Float * float64(time.Second))
			return nil
		}
		d, err := v.AsDuration()
		*dst = d
		return err
	}
}

func (a *applier) authorization(v *conf.Value) error {
	cfg := &a.opts.Core.Auth
	var single auth.User
	var defaults *auth.Permissions
	handlers := a.userHandlers(&single)
	handlers["token"] = setString(&cfg.Token)
	handlers["timeout"] = setSeconds(&cfg.Timeout)
	handlers["users"] = a.users
	handlers["default_permissions"] = func(v *conf.Value) error {
		p, err := a.permissions(v)
		defaults = p
		return err
	}
	err := a.block(v, handlers)
	if err != nil {
		return err
	}
	if single.Name != "" || single.Password != "" {
		if single.Name == "" {
			return v.Errorf("a password needs a user")
		}
		cfg.Users = append([]auth.User{single}, cfg.Users...)
		a.singleUser = single.Name
	}
	if defaults != nil {
		for i := range cfg.Users {
			if cfg.Users[i].Permissions == nil {
				cfg.Users[i].Permissions = defaults
			}
		}
	}
	return nil
}

func (a *applier) users(v *conf.Value) error {
	list, err := v.AsArray()
	if err != nil {
		return err
	}
	for _, item := range list {
		var u auth.User
		handlers := a.userHandlers(&u)
		handlers["nkey"] = setString(&u.Nkey)
		handlers["account"] = setString(&u.Account)
		handlers["allowed_connection_types"] = func(v *conf.Value) error {
			a.warn(v, "allowed_connection_types is not enforced yet")
			return nil
		}
		err := a.block(item, handlers)
		if err != nil {
			return err
		}
		if u.Name == "" && u.Nkey == "" {
			return item.Errorf("a user needs a user name or an nkey")
		}
		a.opts.Core.Auth.Users = append(a.opts.Core.Auth.Users, u)
	}
	return nil
}

// userHandlers reads what a user entry and the authorization block share: the name, the
// password and the permissions.
func (a *applier) userHandlers(u *auth.User) map[string]handler {
	return map[string]handler{
		"user":     setString(&u.Name),
		"username": setString(&u.Name),
		"password": setString(&u.Password),
		"pass":     setString(&u.Password),
		"permissions": func(v *conf.Value) error {
			p, err := a.permissions(v)
			u.Permissions = p
			return err
		},
	}
}

// permissions reads {publish, subscribe, allow_responses}; publish and subscribe are a list
// (allow) or {allow, deny}.
func (a *applier) permissions(v *conf.Value) (*auth.Permissions, error) {
	p := &auth.Permissions{}
	subjects := func(dst **auth.SubjectPermission) handler {
		return func(v *conf.Value) error {
			sp := &auth.SubjectPermission{}
			*dst = sp
			if v.Kind != conf.KindMap {
				list, err := v.AsStringList()
				sp.Allow = list
				return err
			}
			return a.block(v, map[string]handler{
				"allow": func(v *conf.Value) error { l, err := v.AsStringList(); sp.Allow = l; return err },
				"deny":  func(v *conf.Value) error { l, err := v.AsStringList(); sp.Deny = l; return err },
			})
		}
	}
	err := a.block(v, map[string]handler{
		"publish":         subjects(&p.Publish),
		"pub":             subjects(&p.Publish),
		"subscribe":       subjects(&p.Subscribe),
		"sub":             subjects(&p.Subscribe),
		"allow_responses": func(v *conf.Value) error { return a.responses(v, p) },
	})
	return p, err
}

func (a *applier) responses(v *conf.Value, p *auth.Permissions) error {
	if v.Kind != conf.KindMap {
		on, err := v.AsBool()
		if on {
			p.Response = &auth.ResponsePermission{MaxMsgs: auth.DefaultResponseMaxMsgs, Expires: auth.DefaultResponseExpires}
		}
		return err
	}
	r := &auth.ResponsePermission{}
	p.Response = r
	var max int64
	err := a.block(v, map[string]handler{
		"max":     func(v *conf.Value) error { n, err := v.AsInt64(); max = n; return err },
		"expires": func(v *conf.Value) error { d, err := v.AsDuration(); r.Expires = d; return err },
	})
	r.MaxMsgs = int(max)
	return err
}

func (a *applier) tls(v *conf.Value) error {
	o := a.opts
	var handshakeFirst bool
	err := a.block(v, map[string]handler{
		"cert_file": setString(&o.TLSCert),
		"key_file":  setString(&o.TLSKey),
		"ca_file":   setString(&o.TLSCACert),
		"verify":    setBool(&o.TLSVerify),
		"timeout":   setSeconds(&o.Core.TLSTimeout),
		"handshake_first": func(v *conf.Value) error {
			if v.Kind == conf.KindBool || v.Kind == conf.KindString && !strings.ContainsAny(v.Str, "0123456789") {
				b, err := v.AsBool()
				handshakeFirst = b
				return err
			}
			handshakeFirst = true // a duration means "first, with a fallback" in nats-server
			return nil
		},
		"verify_and_map":    func(v *conf.Value) error { a.warn(v, "verify_and_map is not supported yet; ignored"); return nil },
		"cipher_suites":     ignore,
		"curve_preferences": ignore,
		"insecure":          ignore,
		"pinned_certs":      func(v *conf.Value) error { a.warn(v, "pinned_certs is not supported yet; ignored"); return nil },
	})
	o.Core.TLSHandshakeFirst = handshakeFirst
	return err
}

func (a *applier) jetstream(v *conf.Value) error {
	o := a.opts
	if v.Kind != conf.KindMap {
		on, err := v.AsBool()
		o.Core.JetStream = on
		return err
	}
	o.Core.JetStream = true
	js := &o.JetStream
	enabled := true
	err := a.block(v, map[string]handler{
		"enabled":             setBool(&enabled),
		"store_dir":           setString(&o.StoreDir),
		"store":               setString(&o.StoreDir),
		"max_memory_store":    setSize(&js.MaxMemory),
		"max_mem":             setSize(&js.MaxMemory),
		"max_mem_store":       setSize(&js.MaxMemory),
		"max_file_store":      setSize(&js.MaxStore),
		"max_file":            setSize(&js.MaxStore),
		"max_store":           setSize(&js.MaxStore),
		"domain":              setString(&js.Domain),
		"sync_interval":       setString(&js.SyncInterval),
		"cipher":              func(v *conf.Value) error { a.warn(v, "jetstream.cipher is not used yet"); return nil },
		"key":                 func(v *conf.Value) error { a.warn(v, "jetstream.key is not used yet"); return nil },
		"unique_tag":          ignore,
		"limits":              ignore,
		"max_buffered_msgs":   ignore,
		"max_buffered_size":   ignore,
		"request_queue_limit": ignore,
	})
	o.Core.JetStream = enabled
	return err
}
