package jsapi

import (
	"reflect"
	"strings"
)

// CheckStreamCreate is STREAM.CREATE's checking in nats-server's order: the request's
// own rules (the name in the subject, no path separators, not sealed, no mirror_direct
// without a mirror), then Check, then the mirror's and sources' filters. name is the
// stream named by the request subject. cfg is filled in on success.
func CheckStreamCreate(name string, cfg *StreamConfig, opts StreamCheckOptions) *Error {
	switch {
	case name != cfg.Name:
		return E(ErrStreamMismatch)
	case strings.ContainsAny(name, `\/`):
		return E(ErrStreamNameContainsPathSeparators)
	case cfg.Sealed:
		return invalidStream("stream configuration for create can not be sealed")
	case cfg.MirrorDirect && cfg.Mirror == nil:
		return invalidStream("stream has no mirror but does have mirror direct")
	}
	checked := *cfg
	if err := checked.Check(opts); err != nil {
		return err
	}
	if err := checkCopyFilters(&checked, &opts); err != nil {
		return err
	}
	*cfg = checked
	return nil
}

// checkCopyFilters is nats-server's last look at a new stream's mirror and sources: their
// filters must be valid subjects and their transforms valid mappings. It answers with the
// stream create error (10049) and a free text.
func checkCopyFilters(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	if m := cfg.Mirror; m != nil {
		if err := checkCopyFilter(m, "the mirror", opts); err != nil {
			return err
		}
	}
	for _, src := range cfg.Sources {
		if err := checkCopyFilter(src, "the source", opts); err != nil {
			return err
		}
	}
	return nil
}

func checkCopyFilter(src *StreamSource, what string, opts *StreamCheckOptions) *Error {
	if len(src.SubjectTransforms) == 0 {
		if src.FilterSubject != "" && !validSubject(src.FilterSubject) {
			sep := " "
			if what == "the source" {
				sep = ": "
			}
			return NewError(ErrStreamCreate, "subject filter '"+src.FilterSubject+"' for "+what+sep+errBadSubject)
		}
		return nil
	}
	for _, tr := range src.SubjectTransforms {
		if tr.Source != "" && !validSubject(tr.Source) {
			if what == "the mirror" {
				return NewError(ErrStreamCreate, "invalid subject transform source '"+tr.Source+"' for the mirror: "+errBadSubject)
			}
			return NewError(ErrStreamCreate, "subject filter '"+tr.Source+"' for the source: "+errBadSubject)
		}
		if tr.Destination == "" {
			continue
		}
		if err := validateMapping(opts, tr.Source, tr.Destination); err != nil {
			return NewError(ErrStreamCreate, "subject transform from '"+tr.Source+"' to '"+tr.Destination+"' for "+what+": "+err.Error())
		}
	}
	return nil
}

// CheckStreamUpdate checks that an update from old to new is allowed, as nats-server's
// STREAM.UPDATE does after checking new on its own (new must have passed Check). It
// returns the configuration to store: a sealed stream's limits are fixed (no max_age,
// discard new, no deletes, purges or rollups).
func CheckStreamUpdate(old, new StreamConfig) (StreamConfig, *Error) {
	if err := checkUpdateRules(&old, &new); err != nil {
		return StreamConfig{}, err
	}
	if new.Sealed {
		new.MaxAge = 0
		new.Discard = DiscardNew
		new.DenyDelete, new.DenyPurge = true, true
		new.AllowRollup = false
	}
	return new, nil
}

// checkUpdateRules holds nats-server's rules on what an update may change, in its order.
func checkUpdateRules(old, new *StreamConfig) *Error {
	switch {
	case new.Name != old.Name:
		return invalidStream("stream configuration name must match original")
	case new.Storage != old.Storage:
		return invalidStream("stream configuration update can not change storage type")
	case new.Retention != old.Retention &&
		(old.Retention == WorkQueueRetention || new.Retention == WorkQueueRetention):
		return invalidStream("stream configuration update can not change retention policy to/from workqueue")
	case old.Sealed && !new.Sealed:
		return invalidStream("stream configuration update can not unseal a sealed stream")
	case old.DenyDelete && !new.DenyDelete:
		return invalidStream("stream configuration update can not cancel deny message deletes")
	case old.DenyPurge && !new.DenyPurge:
		return invalidStream("stream configuration update can not cancel deny purge")
	case new.Mirror != nil && !reflect.DeepEqual(new.Mirror, old.Mirror):
		// Removing the mirror is allowed: it promotes the mirror to a normal stream.
		return E(ErrStreamMirrorNotUpdatable)
	}
	if new.DiscardNewPerSubject {
		if err := checkDiscardNewPer(new); err != nil {
			return err
		}
	}
	switch {
	case old.AllowMsgTTL && !new.AllowMsgTTL:
		return invalidStream("message TTL status can not be disabled")
	case new.AllowMsgCounter != old.AllowMsgCounter:
		return invalidStream("stream configuration update can not change message counter setting")
	case old.AllowMsgSchedules && !new.AllowMsgSchedules:
		return invalidStream("message schedules can not be disabled")
	case old.PersistMode != new.PersistMode:
		return invalidStream("stream configuration update can not change persist mode")
	}
	return nil
}
