package server

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nkeys"
	"github.com/petrel-io/petrel/core/auth"
	"github.com/petrel-io/petrel/core/subject"
	"github.com/petrel-io/petrel/server/conf"
)

// The blocks Petrel implements refuse keys they do not know, as nats-server does, with its
// messages; blocks of features not built yet warn instead (config.go).

// block applies a map's keys with their handlers; unknown keys are errors: unknownField's,
// or unknown's when given.
func (a *applier) block(v *conf.Value, handlers map[string]handler, unknown ...func(conf.Entry) error) error {
	m, err := v.AsMap()
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return a.entries(m, handlers, unknown[0])
	}
	return a.entries(m, handlers, unknownField)
}

// unknownField is nats-server's refusal of a key it does not know, at the key.
func unknownField(e conf.Entry) error {
	return errorAt(e.KeyPos, "unknown field %q", e.Key)
}

// errorAt is an error at a position with nats-server's wording, for checks that are not
// about one value's type.
func errorAt(pos conf.Pos, format string, args ...any) error {
	return &conf.Error{Pos: pos, Msg: fmt.Sprintf(format, args...), Err: conf.ErrInvalid}
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
	if err := a.block(v, handlers); err != nil {
		return err
	}
	if err := authCombination(v, single, *cfg); err != nil {
		return err
	}
	switch {
	case single.Name != "":
		cfg.Users = append([]auth.User{single}, cfg.Users...)
		a.singleUser = single.Name
	case single.Password != "":
		a.warn(v, "a password without a user admits nobody; ignored (as nats-server does)")
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

// authCombination refuses the combinations of the authorization block nats-server refuses.
func authCombination(v *conf.Value, single auth.User, cfg auth.Config) error {
	hasSingle := single.Name != "" || single.Password != ""
	switch {
	case hasSingle && len(cfg.Users) > 0:
		return errorAt(v.Pos, "Can not have a single user/pass and a users array")
	case cfg.Token != "" && len(cfg.Users) > 0:
		return errorAt(v.Pos, "Can not have a token and a users array")
	case cfg.Token != "" && hasSingle:
		return errorAt(v.Pos, "Cannot have a user/pass and token")
	}
	return nil
}

func (a *applier) users(v *conf.Value) error {
	list, err := v.AsArray()
	if err != nil {
		return v.Errorf("Expected users field to be an array, got %s", v.Raw)
	}
	names, keys := map[string]bool{}, map[string]bool{}
	for _, item := range list {
		var u auth.User
		handlers := a.userHandlers(&u)
		handlers["nkey"] = setString(&u.Nkey)
		handlers["allowed_connection_types"] = connectionTypes(&u.ConnectionTypes)
		if err := a.block(item, handlers); err != nil {
			return err
		}
		switch {
		case u.Nkey != "" && !nkeys.IsValidPublicUserKey(u.Nkey):
			return errorAt(item.Pos, "Not a valid public nkey for a user")
		case u.Nkey != "" && keys[u.Nkey]:
			return errorAt(item.Pos, "Duplicate nkey %q detected", u.Nkey)
		case u.Nkey == "" && u.Name == "":
			return errorAt(item.Pos, "User entry requires a user")
		case u.Nkey == "" && names[u.Name]:
			return errorAt(item.Pos, "Duplicate user %q detected", u.Name)
		}
		if u.Nkey != "" {
			keys[u.Nkey] = true
		} else {
			names[u.Name] = true
		}
		a.opts.Core.Auth.Users = append(a.opts.Core.Auth.Users, u)
	}
	return nil
}

// connectionKinds are the allowed_connection_types nats-server knows.
var connectionKinds = map[string]bool{
	"STANDARD": true, "WEBSOCKET": true, "LEAFNODE": true, "LEAFNODE_WS": true,
	"MQTT": true, "MQTT_WS": true, "IN_PROCESS": true,
}

// connectionTypes reads allowed_connection_types (upper-cased) into dst, refusing kinds
// nats-server does not know.
func connectionTypes(dst *[]string) handler {
	return func(v *conf.Value) error {
		list, err := v.AsStringList()
		if err != nil {
			return err
		}
		var bad []string
		for _, kind := range list {
			if !connectionKinds[strings.ToUpper(kind)] {
				bad = append(bad, kind)
			}
			*dst = append(*dst, strings.ToUpper(kind))
		}
		if len(bad) > 0 {
			return errorAt(v.Pos, "invalid connection types %q", bad)
		}
		return nil
	}
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
	err := a.block(v, map[string]handler{
		"publish":         subjectPermission(&p.Publish),
		"pub":             subjectPermission(&p.Publish),
		"subscribe":       subjectPermission(&p.Subscribe),
		"sub":             subjectPermission(&p.Subscribe),
		"allow_responses": func(v *conf.Value) error { return a.responses(v, p) },
	}, func(e conf.Entry) error {
		return errorAt(e.KeyPos, "Unknown field %q parsing permissions", e.Key)
	})
	return p, err
}

// subjectPermission reads a subject list, or {allow, deny} of lists.
func subjectPermission(dst **auth.SubjectPermission) handler {
	return func(v *conf.Value) error {
		sp := &auth.SubjectPermission{}
		*dst = sp
		if v.Kind != conf.KindMap {
			list, err := subjectList(v)
			sp.Allow = list
			return err
		}
		m, _ := v.AsMap() // a map, checked above
		for _, e := range m.Entries() {
			var err error
			switch strings.ToLower(e.Key) {
			case "allow":
				sp.Allow, err = subjectList(e.Value)
			case "deny":
				sp.Deny, err = subjectList(e.Value)
			default:
				err = errorAt(e.KeyPos, "Unknown field name %q parsing subject permissions, only 'allow' or 'deny' are permitted", e.Key)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
}

// subjectList reads one subject or a list of them, each a valid subject (with wildcards)
// optionally followed by a queue name.
func subjectList(v *conf.Value) ([]string, error) {
	if v.Kind != conf.KindString && v.Kind != conf.KindArray {
		return nil, v.Errorf("Expected subject permissions to be a subject, or array of subjects, got %s", v.Kind)
	}
	elems := []*conf.Value{v}
	if v.Kind == conf.KindArray {
		elems = v.Array
	}
	var list []string
	for _, e := range elems {
		if e.Kind != conf.KindString {
			return nil, wrongKind(e, "a subject")
		}
		list = append(list, e.Str)
	}
	for _, s := range list {
		pattern, queue, _ := strings.Cut(s, " ")
		if !subject.ValidSubscribe(pattern) || strings.ContainsAny(queue, " \t") {
			return nil, v.Errorf("subject %q is not a valid subject", s)
		}
	}
	return list, nil
}

func (a *applier) responses(v *conf.Value, p *auth.Permissions) error {
	switch v.Kind {
	case conf.KindBool:
		if v.Bool {
			p.Response = &auth.ResponsePermission{MaxMsgs: auth.DefaultResponseMaxMsgs, Expires: auth.DefaultResponseExpires}
		}
		return nil
	case conf.KindMap:
	default:
		return errorAt(v.Pos, "error parsing response permissions, expected a boolean or a map")
	}
	r := &auth.ResponsePermission{}
	p.Response = r
	return a.block(v, map[string]handler{
		"max": setLimit(a, &r.MaxMsgs, "an integer"),
		"expires": func(v *conf.Value) error {
			if v.Kind != conf.KindString {
				return errorAt(v.Pos, "error parsing expires, not a duration string")
			}
			return setDuration(&r.Expires)(v)
		},
	})
}

// setTLSVerify reads a tls block's verify, with nats-server's error for a non-boolean.
func setTLSVerify(dst *bool) handler {
	return func(v *conf.Value) error {
		if v.Kind != conf.KindBool {
			return errorAt(v.Pos, "error parsing tls config, expected 'verify' to be a boolean")
		}
		*dst = v.Bool
		return nil
	}
}

func (a *applier) tls(v *conf.Value) error {
	o := a.opts
	var handshakeFirst bool
	err := a.block(v, map[string]handler{
		"cert_file": setString(&o.TLSCert),
		"key_file":  setString(&o.TLSKey),
		"ca_file":   setString(&o.TLSCACert),
		"verify":    setTLSVerify(&o.TLSVerify),
		"timeout":   setSeconds(&o.Core.TLSTimeout),
		"handshake_first": func(v *conf.Value) error {
			if v.Kind == conf.KindBool {
				handshakeFirst = v.Bool
				return nil
			}
			handshakeFirst = true // a duration means "first, with a fallback" in nats-server
			return setDuration(new(time.Duration))(v)
		},
		"verify_and_map":    func(v *conf.Value) error { a.warn(v, "verify_and_map is not supported yet; ignored"); return nil },
		"cipher_suites":     cipherSuites,
		"curve_preferences": ignore,
		"insecure":          ignore,
		"pinned_certs":      func(v *conf.Value) error { a.warn(v, "pinned_certs is not supported yet; ignored"); return nil },
	}, func(e conf.Entry) error {
		return errorAt(e.KeyPos, "error parsing tls config, unknown field %q", e.Key)
	})
	o.Core.TLSHandshakeFirst = handshakeFirst
	if err == nil {
		err = tlsFiles(v, o)
	}
	return err
}

// tlsFiles refuses a tls block that names a certificate without its key or the reverse.
func tlsFiles(v *conf.Value, o *Options) error {
	switch {
	case o.TLSCert != "" && o.TLSKey == "":
		return errorAt(v.Pos, "missing 'key_file' in TLS configuration")
	case o.TLSCert == "" && o.TLSKey != "":
		return errorAt(v.Pos, "missing 'cert_file' in TLS configuration")
	}
	return nil
}

// cipherSuites checks the names; Petrel lets Go choose among its secure suites (the list
// is not applied).
func cipherSuites(v *conf.Value) error {
	names, err := v.AsStringList()
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		known[s.Name] = true
	}
	for _, n := range names {
		if !known[n] {
			return errorAt(v.Pos, "unrecognized cipher %s", n)
		}
	}
	return nil
}

func (a *applier) jetstream(v *conf.Value) error {
	o := a.opts
	if v.Kind != conf.KindMap {
		return jetstreamSwitch(v, &o.Core.JetStream)
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
		"sync_interval":       syncInterval(&js.SyncInterval),
		"cipher":              func(v *conf.Value) error { a.warn(v, "jetstream.cipher is not used yet"); return nil },
		"key":                 func(v *conf.Value) error { a.warn(v, "jetstream.key is not used yet"); return nil },
		"unique_tag":          ignore,
		"limits":              ignore,
		"max_buffered_msgs":   ignore,
		"max_buffered_size":   ignore,
		"request_queue_limit": ignore,
	})
	o.Core.JetStream = enabled
	if err == nil && js.Domain != "" && !subject.ValidPublish("$JS."+js.Domain+".API") {
		err = v.Errorf("invalid domain name: derived %q is not a valid subject", "$JS."+js.Domain+".API.>")
	}
	return err
}

// jetstreamSwitch reads `jetstream: true` or nats-server's `jetstream: enabled`.
func jetstreamSwitch(v *conf.Value, dst *bool) error {
	switch v.Kind {
	case conf.KindBool:
		*dst = v.Bool
		return nil
	case conf.KindString:
		switch strings.ToLower(v.Str) {
		case "enabled", "enable":
			*dst = true
			return nil
		case "disabled", "disable":
			*dst = false
			return nil
		}
	}
	return v.Errorf("Expected 'enabled' or 'disabled' for string value, got '%s'", cmp.Or(v.Str, v.Raw))
}

// syncInterval reads "always" or a duration.
func syncInterval(dst *string) handler {
	return func(v *conf.Value) error {
		if err := setString(dst)(v); err != nil {
			return err
		}
		if strings.EqualFold(*dst, "always") {
			return nil
		}
		if _, err := time.ParseDuration(*dst); err != nil {
			return v.Errorf("error parsing sync_interval: %v", err)
		}
		return nil
	}
}
