package stream

import (
	"encoding/json"
	"math/big"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/filestore"
)

// Counters (ADR-49, allow_msg_counter): a publish carries "Nats-Incr: <integer>" and no body;
// the stream adds it to the subject's current value (the last message's body, {"val":"N"})
// and stores the sum as the new body, keeping the header. The PubAck says the new value.
// Values are arbitrary-precision decimal integers.

const hdrIncr = "Nats-Incr"

// counterValue is a counter message's body.
type counterValue struct {
	Value string `json:"val"`
}

// checkIncr holds a publish to the counter rules: the increment parses, the stream allows
// counters, the body is empty, and no header that cannot go with an increment is set; a
// counter stream takes nothing but increments.
func (s *Stream) checkIncr(hdr, data []byte) *jsapi.Error {
	v, has := headerIncr(hdr)
	switch {
	case !has && s.cfg.AllowMsgCounter:
		return jsapi.E(jsapi.ErrMessageIncrMissing)
	case !has:
		return nil
	case v == nil:
		return jsapi.E(jsapi.ErrMessageIncrInvalid)
	case !s.cfg.AllowMsgCounter:
		return jsapi.E(jsapi.ErrMessageIncrDisabled)
	case len(data) > 0:
		return jsapi.E(jsapi.ErrMessageIncrPayload)
	}
	for _, h := range []string{hdrRollup, hdrExpectedStream, hdrExpectedLastMsgID, hdrExpectedSubjSeqSubj, hdrExpectedLastSeq, hdrExpectedLastSubjSeq} {
		if proto.HasHeader(hdr, h) {
			return jsapi.E(jsapi.ErrMessageIncrInvalid)
		}
	}
	return nil
}

// headerIncr reads Nats-Incr: has reports whether it is set, v is nil when it does not parse.
func headerIncr(hdr []byte) (v *big.Int, has bool) {
	s := proto.HeaderValue(hdr, hdrIncr)
	if s == "" {
		return nil, proto.HasHeader(hdr, hdrIncr)
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, true
	}
	return v, true
}

// count turns an increment into the counter's new body; value is the new total.
func (s *Stream) count(subject string, hdr []byte) (body []byte, value string, e *jsapi.Error) {
	return s.countFrom(subject, hdr, nil)
}

// countFrom is count with the totals an atomic batch reached before this message (by
// subject), which take the place of the stored values.
func (s *Stream) countFrom(subject string, hdr []byte, staged map[string]string) (body []byte, value string, e *jsapi.Error) {
	incr, _ := headerIncr(hdr)
	total := new(big.Int)
	if v, ok := staged[subject]; ok {
		total.SetString(v, 10) // a total this function produced
	} else if f, err := filestore.NewFilter(subject); err == nil {
		if last, err := s.store.LoadLast(f); err == nil {
			var cv counterValue
			if json.Unmarshal(last.Data, &cv) != nil {
				return nil, "", jsapi.E(jsapi.ErrMessageCounterBroken)
			}
			if _, ok := total.SetString(cv.Value, 10); !ok && cv.Value != "" {
				return nil, "", jsapi.E(jsapi.ErrMessageCounterBroken)
			}
		}
	}
	total.Add(total, incr)
	value = total.String()
	body, _ = json.Marshal(counterValue{Value: value}) // a struct of one string always marshals
	return body, value, nil
}
