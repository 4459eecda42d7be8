package jsapi

import (
	"strconv"

	"github.com/petrel-io/petrel/core/subject"
)

// checkSourceCycles walks the streams this one copies from (as far as Lookup sees them)
// and refuses a configuration whose copies would come back to a stream already visited.
func checkSourceCycles(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	cycle := invalidStream("detected cycle")
	toVisit := []StreamConfig{*cfg}
	visited := map[string]bool{}
	for steps := 0; len(toVisit) > 0; steps++ {
		if steps > cycleWalkMax {
			return cycle // a graph this large is a loop Lookup keeps feeding
		}
		cur := toVisit[0]
		toVisit = toVisit[1:]
		visited[cur.Name] = true
		for _, src := range cur.Sources {
			if src == nil || src.External != nil {
				continue
			}
			if visited[src.Name] {
				if overlapsAny(cur.Subjects, src.FilterSubject) {
					return cycle
				}
			} else if next, ok := lookup(opts, src.Name); ok {
				toVisit = append(toVisit, next)
			}
		}
		if m := cur.Mirror; m != nil && m.External == nil {
			if visited[m.Name] {
				return cycle
			}
			if next, ok := lookup(opts, m.Name); ok {
				toVisit = append(toVisit, next)
			}
		}
	}
	return nil
}

// cycleWalkMax bounds the cycle walk: more streams than any account holds.
const cycleWalkMax = 1 << 16

func overlapsAny(subjects []string, filter string) bool {
	if filter == "" {
		return true
	}
	for _, s := range subjects {
		if collide(s, filter) {
			return true
		}
	}
	return false
}

// reservedSpaces are the subject spaces a stream may capture only with no_ack (its acks
// would answer the API's own requests); $JS.EVENT.> and $SYS.ACCOUNT.> stay allowed.
var reservedSpaces = [...]struct{ space, allowed, text string }{
	{"$JS.>", "$JS.EVENT.>", "subjects that overlap with jetstream api require no-ack to be true"},
	{"$JSC.>", "$JS.EVENT.>", "subjects that overlap with jetstream api require no-ack to be true"},
	{"$NRG.>", "$JS.EVENT.>", "subjects that overlap with jetstream api require no-ack to be true"},
	{"$SYS.>", "$SYS.ACCOUNT.>", "subjects that overlap with system api require no-ack to be true"},
}

// checkStreamSubjects defaults the subjects to the name (for a stream that copies from no
// other) and checks each: valid, unique, not overlapping each other, and clear of the
// reserved spaces unless no_ack.
func checkStreamSubjects(cfg *StreamConfig, _ *StreamCheckOptions) *Error {
	if len(cfg.Subjects) == 0 {
		if cfg.Mirror == nil && len(cfg.Sources) == 0 {
			cfg.Subjects = []string{cfg.Name}
		}
	} else if cfg.Mirror != nil {
		return E(ErrMirrorWithSubjects)
	}
	seen := make(map[string]bool, len(cfg.Subjects))
	for i, subj := range cfg.Subjects {
		if !validSubject(subj) {
			return invalidStream("invalid subject")
		}
		if seen[subj] {
			return invalidStream("duplicate subjects detected")
		}
		if err := checkCaptureAll(cfg, subj); err != nil {
			return err
		}
		if !cfg.NoAck {
			if err := checkReserved(subj); err != nil {
				return err
			}
		}
		for _, other := range cfg.Subjects[i+1:] {
			if collide(other, subj) {
				return invalidStream("subject " + strconv.Quote(subj) + " overlaps with " + strconv.Quote(other))
			}
		}
		seen[subj] = true
	}
	if len(cfg.Subjects) == 0 && len(cfg.Sources) == 0 && cfg.Mirror == nil {
		return invalidStream("stream needs at least one configured subject or be a source/mirror")
	}
	return nil
}

func checkCaptureAll(cfg *StreamConfig, subj string) *Error {
	if subj != ">" {
		return nil
	}
	if !cfg.NoAck {
		return invalidStream("capturing all subjects requires no-ack to be true")
	}
	if cfg.Replicas != 1 {
		return invalidStream("capturing all subjects requires replicas of 1")
	}
	return nil
}

func checkReserved(subj string) *Error {
	for _, r := range reservedSpaces {
		if collide(subj, r.space) && !subject.SubsetOf(subj, r.allowed) {
			return invalidStream(r.text)
		}
	}
	return nil
}

func checkStreamMaxBytes(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	limit := opts.StoreMaxStreamBytes
	if cfg.Storage == MemoryStorage {
		limit = opts.MemoryMaxStreamBytes
	}
	if opts.MaxBytesRequired && cfg.MaxBytes <= 0 {
		return E(ErrStreamMaxBytesRequired)
	}
	if limit > 0 && cfg.MaxBytes > limit {
		return E(ErrStreamMaxStreamBytesExceeded)
	}
	return nil
}

func checkStreamTransform(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	tr := cfg.SubjectTransform
	if tr == nil {
		return nil
	}
	if tr.Source != "" && !validSubject(tr.Source) {
		return NewError(ErrStreamTransformInvalidSource, errBadSubject+" "+tr.Source)
	}
	if err := validateMapping(opts, tr.Source, tr.Destination); err != nil {
		return NewError(ErrStreamTransformInvalidDestination, err.Error())
	}
	return nil
}

// checkRePublish: an empty source means all; republishing into the stream's own subjects
// would store the copies again.
func checkRePublish(cfg *StreamConfig, opts *StreamCheckOptions) *Error {
	if cfg.RePublish == nil {
		return nil
	}
	rp := *cfg.RePublish // a copy: the caller's RePublish stays as sent until Check succeeds
	if rp.Source == "" {
		if opts.Pedantic {
			return pedantic("republish source can not be empty")
		}
		rp.Source = ">"
	}
	if tr := cfg.SubjectTransform; rp.Destination == ">" && rp.Source == ">" && tr != nil &&
		len(cfg.Subjects) == 1 && tr.Source == cfg.Subjects[0] {
		if opts.Pedantic {
			return pedantic("implicit republish based on subject transform")
		}
		rp.Source, rp.Destination = tr.Destination, tr.Destination
	}
	for _, subj := range cfg.Subjects {
		if collide(rp.Destination, subj) {
			return invalidStream("stream configuration for republish destination forms a cycle")
		}
	}
	if !validSubject(rp.Source) || validateMapping(opts, rp.Source, rp.Destination) != nil {
		return invalidStream("stream configuration for republish with transform from '" + rp.Source +
			"' to '" + rp.Destination + "' not valid")
	}
	cfg.RePublish = &rp
	return nil
}
