package jsapi

import (
	"errors"
	"strconv"
	"strings"

	"github.com/petrel-io/petrel/core/subject"
)

// validSubject is nats-server's subject rule for configurations: non-empty tokens, '>' only
// last, no whitespace (form feed included).
func validSubject(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n\f") {
		return false
	}
	for tok, rest, more := strings.Cut(s, "."); ; tok, rest, more = strings.Cut(rest, ".") {
		if tok == "" || (tok == ">" && more) {
			return false
		}
		if !more {
			return true
		}
	}
}

// validPublishSubject is a valid subject without wildcard tokens.
func validPublishSubject(s string) bool { return validSubject(s) && subject.IsLiteral(s) }

// collide reports whether some subject matches both a and b.
func collide(a, b string) bool { return a == b || subject.Intersects(a, b) }

// errBadSubject is nats-server's ErrBadSubject text.
const errBadSubject = "invalid subject"

func checkMirror(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	m := cfg.Mirror
	if m == nil {
		return nil
	}
	if err := checkMirrorExclusions(cfg); err != nil {
		return err
	}
	if err := checkSourceConsumer(m, ErrMirrorDurableConsumerCfgInvalid); err != nil {
		return err
	}
	if m.FilterSubject != "" && len(m.SubjectTransforms) != 0 {
		return E(ErrMirrorMultipleFiltersNotAllowed)
	}
	if cfg.SubjectDeleteMarkerTTL > 0 {
		return invalidStream("subject delete markers forbidden on mirrors")
	}
	for i, tr := range m.SubjectTransforms {
		if tr.Source != "" && !validSubject(tr.Source) {
			return NewError(ErrMirrorInvalidSubjectFilter, errBadSubject+" "+tr.Source)
		}
		if err := validateMapping(opts, tr.Source, tr.Destination); err != nil {
			return NewError(ErrMirrorInvalidTransformDestination, err.Error())
		}
		for j, other := range m.SubjectTransforms {
			if i != j && collide(tr.Source, other.Source) {
				return E(ErrMirrorOverlappingSubjectFilters)
			}
		}
	}
	if m.External != nil {
		return nil
	}
	if !ValidName(m.Name) {
		return E(ErrMirrorInvalidStreamName)
	}
	if origin, ok := lookup(opts, m.Name); ok {
		if cfg.MaxMsgSize > 0 && origin.MaxMsgSize > 0 && cfg.MaxMsgSize < origin.MaxMsgSize {
			return E(ErrMirrorMaxMessageSizeTooBig)
		}
		if opts.Pedantic && cfg.MirrorDirect != origin.AllowDirect {
			return pedantic("origin stream has direct get set, mirror has it disabled")
		}
		cfg.MirrorDirect = origin.AllowDirect // a mirror serves direct gets when its origin does
	}
	return nil
}

// checkMirrorExclusions: a mirror is a copy, so it has no subjects, sources or features that
// write messages of its own.
func checkMirrorExclusions(cfg *StreamConfig) *Error {
	switch {
	case cfg.FirstSeq > 0:
		return E(ErrMirrorWithFirstSeq)
	case len(cfg.Subjects) > 0:
		return E(ErrMirrorWithSubjects)
	case len(cfg.Sources) > 0:
		return E(ErrMirrorWithSources)
	case cfg.AllowMsgCounter:
		return E(ErrMirrorWithCounters)
	case cfg.AllowAtomicPublish:
		return E(ErrMirrorWithAtomicPublish)
	case cfg.AllowBatchPublish:
		return E(ErrMirrorWithBatchPublish)
	case cfg.AllowMsgSchedules:
		return E(ErrMirrorWithMsgSchedules)
	}
	return nil
}

// checkSourceConsumer checks a mirror's or source's durable consumer: a valid name, a
// literal deliver subject, and no start position or filter of its own.
func checkSourceConsumer(src *StreamSource, code ErrCode) *Error {
	c := src.Consumer
	if c == nil {
		return nil
	}
	if !ValidName(c.Name) || !validPublishSubject(c.DeliverSubject) ||
		src.OptStartSeq != 0 || src.OptStartTime != nil || src.FilterSubject != "" {
		return E(code)
	}
	return nil
}

func lookup(opts *StreamCheckOptions, name string) (StreamConfig, bool) {
	if opts.Lookup == nil {
		return StreamConfig{}, false
	}
	return opts.Lookup(name)
}

func validateMapping(opts *StreamCheckOptions, source, destination string) error {
	if opts.ValidateMapping != nil {
		return opts.ValidateMapping(source, destination)
	}
	return basicMapping(source, destination)
}

// basicMapping is what can be checked of a mapping without the mapping engine: the
// destination's tokens ("{{...}}" function tokens are not looked into), then both sides
// valid subjects, no '*' in the destination and a '>' on both sides or neither. The texts
// are nats-server's.
func basicMapping(source, destination string) error {
	if destination == "" {
		return nil
	}
	const invalid = "invalid mapping destination: invalid transform"
	tail := false
	for _, tok := range strings.Split(destination, ".") {
		if tok == "" || tail {
			return errors.New(invalid + " in " + tok)
		}
		if strings.HasPrefix(tok, "{{") && strings.HasSuffix(tok, "}}") && len(tok) > 4 {
			continue
		}
		if tok == ">" {
			tail = true
		} else if strings.ContainsAny(tok, " \t\r\n\f") {
			return errors.New(invalid)
		}
	}
	if source == "" {
		source = ">"
	}
	if !validSubject(source) || !validSubject(destination) || hasToken(destination, "*") ||
		hasToken(source, ">") != hasToken(destination, ">") {
		return errors.New(errBadSubject)
	}
	return nil
}

func hasToken(s, tok string) bool {
	for t, rest, more := strings.Cut(s, "."); ; t, rest, more = strings.Cut(rest, ".") {
		if t == tok {
			return true
		}
		if !more {
			return false
		}
	}
}

func checkSources(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	if len(cfg.Sources) > 0 && cfg.AllowMsgSchedules {
		return E(ErrSourceWithMsgSchedules)
	}
	indexes, consumers := map[string]bool{}, map[string]bool{}
	for _, src := range cfg.Sources {
		if src == nil || !ValidName(src.Name) {
			return E(ErrSourceInvalidStreamName)
		}
		if key := sourceKey(src); indexes[key] {
			return E(ErrSourceDuplicateDetected)
		} else {
			indexes[key] = true
		}
		if err := checkSourceFilters(src, opts); err != nil {
			return err
		}
		if err := checkSourceConsumer(src, ErrSourceDurableConsumerCfgInvalid); err != nil {
			return err
		}
		if src.Consumer != nil {
			key := sourceOrigin(src) + " " + src.Consumer.Name
			if consumers[key] {
				return E(ErrSourceDurableConsumerDuplicateDetected)
			}
			consumers[key] = true
		}
		if src.External != nil {
			continue
		}
		if origin, ok := lookup(opts, src.Name); ok && cfg.MaxMsgSize > 0 &&
			origin.MaxMsgSize > 0 && cfg.MaxMsgSize < origin.MaxMsgSize {
			return E(ErrSourceMaxMessageSizeTooBig)
		}
	}
	return nil
}

func checkSourceFilters(src *StreamSource, opts *StreamCheckOptions) *Error {
	if src.FilterSubject != "" && len(src.SubjectTransforms) != 0 {
		return E(ErrSourceMultipleFiltersNotAllowed)
	}
	for _, tr := range src.SubjectTransforms {
		if tr.Source != "" && !validSubject(tr.Source) {
			return NewError(ErrSourceInvalidSubjectFilter, errBadSubject+" "+tr.Source)
		}
		if err := validateMapping(opts, tr.Source, tr.Destination); err != nil {
			return NewError(ErrSourceInvalidTransformDestination, err.Error())
		}
	}
	for i, tr := range src.SubjectTransforms {
		for j, other := range src.SubjectTransforms {
			if i != j && subject.SubsetOf(tr.Source, other.Source) {
				return E(ErrSourceOverlappingSubjectFilters)
			}
		}
	}
	return nil
}

// sourceOrigin names where a source reads from: the stream, qualified by its external API
// prefix and its durable consumer.
func sourceOrigin(src *StreamSource) string {
	origin := src.Name
	if src.External != nil {
		origin += ":" + src.External.APIPrefix
	}
	return origin
}

// sourceKey identifies a source: two sources with the same key would copy the same
// messages twice. Empty filters and destinations stand for '>'.
func sourceKey(src *StreamSource) string {
	key := sourceOrigin(src)
	if src.Consumer != nil {
		key += ":C=" + src.Consumer.Name
	}
	orAll := func(s string) string {
		if s == "" {
			return ">"
		}
		return s
	}
	if len(src.SubjectTransforms) == 0 {
		return key + " " + orAll(src.FilterSubject) + " >"
	}
	var from, to []string
	for _, tr := range src.SubjectTransforms {
		from, to = append(from, orAll(tr.Source)), append(to, orAll(tr.Destination))
	}
	return key + " " + strings.Join(from, "\f") + " " + strings.Join(to, "\f")
}

// checkExternalPrefixes: an external source's prefixes must be literal subjects, its
// deliver prefix must not capture the copied subjects, its API prefix not our own API.
func checkExternalPrefixes(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	var copied, deliver, api []string
	all := cfg.Sources
	if cfg.Mirror != nil {
		all = append([]*StreamSource{cfg.Mirror}, all...)
	}
	for _, src := range all {
		if src.External == nil {
			if origin, ok := lookup(opts, src.Name); ok {
				copied = append(copied, origin.Subjects...)
			}
			continue
		}
		if p := src.External.DeliverPrefix; p != "" {
			deliver = append(deliver, p)
		}
		if p := src.External.APIPrefix; p != "" {
			api = append(api, p)
		}
	}
	for _, p := range deliver {
		if !validPublishSubject(p) {
			return NewError(ErrStreamInvalidExternalDeliverySubj, p)
		}
		for _, s := range copied {
			if collide(s, p+"."+s) {
				return NewError(ErrStreamExternalDelPrefixOverlaps, p, s)
			}
		}
	}
	for _, p := range api {
		if !validPublishSubject(p) {
			return invalidStream("stream external api prefix " + strconv.Quote(p) + " must be a valid subject without wildcards")
		}
		if collide(p, "$JS.API") {
			return NewError(ErrStreamExternalApiOverlap, p, "$JS.API")
		}
	}
	return nil
}
