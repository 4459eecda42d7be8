package jetstream

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	acct "github.com/petrel-io/petrel/core/account"
	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
)

// Mirrors and sources copy messages from other streams through the public API, as any
// client could: a link creates an ephemeral pull consumer on its origin with
// CONSUMER.CREATE (AckNone, starting after the last message it copied) and pulls with
// CONSUMER.MSG.NEXT. Both go through the bus in the stream's own account, under the
// external API prefix when there is one, so an origin in another account (through service
// imports) or, later, on another server is reached the same way.
//
// Exactly once in the store, at least once on the wire: a link remembers the origin
// sequence of the last message it handed to the store and drops anything at or below it;
// after a restart that position comes from the store itself (a mirror's last sequence,
// which is its origin's; a source's newest Nats-Stream-Source header), and the store loses
// at most a suffix in a crash, so what was lost is fetched again and nothing is stored
// twice. A consumer delivery sequence that skips one (a message lost between the servers)
// restarts the link from its position. A pull goes out only while few copies wait for the
// disk (sourceInflightMax), so a slow disk slows the copy instead of filling memory.

// Limits of a link.
const (
	// sourceBatch is how many messages one pull asks for.
	sourceBatch = 256
	// sourceInflightMax bounds the copies handed to the store and not yet durable: past
	// it no pull goes out, so a slow disk slows the copy instead of filling memory. Several
	// batches, so pulls go on while a sync runs.
	sourceInflightMax = 4 * sourceBatch
	// sourcePullExpires is a pull request's life at the origin; a new one follows.
	sourcePullExpires = 5 * time.Second
	// sourceHeartbeat is the idle heartbeat asked of the origin on a pull.
	sourceHeartbeat = time.Second
	// sourceSilenceMax: a pull that hears nothing this long (not even a heartbeat) means
	// the origin or the way to it is gone; the link starts again.
	sourceSilenceMax = 3 * sourceHeartbeat
	// sourceCreateTimeout bounds the wait for CONSUMER.CREATE's answer.
	sourceCreateTimeout = 5 * time.Second
	// sourceRetryMin and sourceRetryMax bound the backoff between failed starts.
	sourceRetryMin = 250 * time.Millisecond
	sourceRetryMax = 10 * time.Second
	// sourceInactive is the origin consumer's inactive_threshold: one a crash left behind
	// goes by itself.
	sourceInactive = 30 * time.Second
	// sourceScanMax bounds the messages read back at start to find where sources got to.
	sourceScanMax = 1 << 20
)

// linkPhase names a link's life.
type linkPhase uint8

const (
	linkWaiting  linkPhase = iota // a start is scheduled
	linkCreating                  // CONSUMER.CREATE sent, its answer awaited
	linkPulling                   // the origin consumer exists; pulls go out
	linkDraining                  // failed; waits for the stores it handed over, then starts again
	linkStopped                   // the stream closed or the source was removed
)

// sourceLink copies one origin stream, as the stream's mirror or one of its sources. It
// lives on the stream's executor.
//
// Invariant: durable <= last; inflight counts the messages handed to the store and not yet
// answered; in linkPulling, consumer names the origin consumer and dseq its last delivery.
type sourceLink struct {
	st     *streamActor
	cfg    jsapi.StreamSource
	mirror bool
	iname  string
	trs    []*acct.Transform
	phase  linkPhase
	// gen numbers the link's starts; answers to an older start are dropped.
	gen      uint64
	sub      bus.Subscription
	inbox    string
	consumer string
	// last is the origin sequence of the last message handed to the store; durable the
	// last one the store answered for; known says either is real (else the start options
	// apply).
	last, durable uint64
	known         bool
	dseq          uint64
	pullLeft      int // messages the current pull may still bring; 0: none out
	pullGot       int
	inflight      int
	batch         int
	lag           uint64
	heard         time.Duration // monotonic time the origin was last heard from
	everHeard     bool
	err           *jsapi.Error
	fails         int
	timer         env.Timer
}

func newSourceLink(st *streamActor, src jsapi.StreamSource, mirror bool) *sourceLink {
	l := &sourceLink{st: st, cfg: src, mirror: mirror, iname: sourceIndexName(&src), batch: sourceBatch}
	for _, tr := range src.SubjectTransforms {
		dst := tr.Destination
		if dst == "" {
			dst = tr.Source // an empty destination keeps the subject
		}
		if dst == "" {
			dst = ">"
		}
		t, err := acct.NewTransform(tr.Source, dst)
		if err != nil { // the configuration check refuses these
			st.svc().env.Log.Logf(env.LevelWarn, "jetstream: stream %s: source %s: transform: %v", st.name, src.Name, err)
			continue
		}
		l.trs = append(l.trs, t)
	}
	return l
}

func (l *sourceLink) svc() *Service { return l.st.svc() }

func (l *sourceLink) mono() time.Duration { return l.svc().env.Clock.Mono() }

// api is an API subject as the origin's account sees it, under the external prefix if any.
func (l *sourceLink) api(rest string) string {
	if l.cfg.External != nil && l.cfg.External.APIPrefix != "" {
		return strings.TrimSuffix(l.cfg.External.APIPrefix, ".") + "." + rest
	}
	return jsapi.Prefix + rest
}

// start schedules the link's first start.
func (l *sourceLink) start() { l.schedule(0) }

// stop ends the link and lets its origin consumer go.
func (l *sourceLink) stop() {
	if l.phase == linkStopped {
		return
	}
	l.disconnect()
	l.phase = linkStopped
}

// disconnect drops the current start: its subscription, timer and origin consumer.
func (l *sourceLink) disconnect() {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.sub != nil {
		l.sub.Unsubscribe()
		l.sub = nil
	}
	if l.consumer != "" {
		// Answered to an inbox nobody listens on: the deletion is best effort, and the
		// consumer's inactive_threshold removes it if this does not.
		l.publish(l.api("CONSUMER.DELETE."+l.cfg.Name+"."+l.consumer), l.inbox+".D", nil)
		l.consumer = ""
	}
	l.pullLeft, l.pullGot = 0, 0
}

func (l *sourceLink) publish(subject, reply string, data []byte) {
	l.svc().bus.Publish(l.st.acc.name, subject, reply, nil, data)
}

// schedule arms a start after d.
func (l *sourceLink) schedule(d time.Duration) {
	l.phase = linkWaiting
	l.arm(d)
}

func (l *sourceLink) arm(d time.Duration) {
	if l.timer != nil {
		l.timer.Stop()
	}
	gen := l.gen
	l.timer = l.svc().env.Clock.AfterFunc(d, l.st.ex, func() {
		if gen == l.gen && l.st.phase == streamRunning {
			l.timer = nil
			l.tick()
		}
	})
}

// tick starts a scheduled link, or finds a start or a pull that heard nothing too long.
func (l *sourceLink) tick() {
	switch l.phase {
	case linkWaiting:
		l.create()
	case linkCreating:
		l.fail(l.setupError("consumer create timed out"))
	case linkPulling:
		if l.pullLeft == 0 {
			return
		}
		if l.mono()-l.heard < sourceSilenceMax {
			l.arm(sourceSilenceMax - (l.mono() - l.heard))
			return
		}
		if l.cfg.External != nil && l.pullGot > 0 {
			// Part of a pull came and then nothing, not even its end: the import answers
			// one message per request (a singleton service response).
			l.batch = 1
		}
		l.fail(l.setupError("origin silent"))
	}
}

// fail ends the current start; once the stores handed over have answered, the link starts
// again from what the store holds, after a backoff.
func (l *sourceLink) fail(e *jsapi.Error) {
	if l.phase == linkStopped {
		return
	}
	l.err = e
	l.fails++
	l.disconnect()
	l.gen++
	l.phase = linkDraining
	l.resumeIfDrained()
}

func (l *sourceLink) resumeIfDrained() {
	if l.phase != linkDraining || l.inflight > 0 {
		return
	}
	l.last = l.durable // what the store holds; a failed store's message is fetched again
	l.schedule(min(sourceRetryMin<<min(l.fails-1, 16), sourceRetryMax))
}

func (l *sourceLink) setupError(why string) *jsapi.Error {
	if l.mirror {
		return jsapi.NewError(jsapi.ErrMirrorConsumerSetupFailed, why)
	}
	return jsapi.NewError(jsapi.ErrSourceConsumerSetupFailed, why)
}

// create asks the origin for a consumer starting after the link's position.
func (l *sourceLink) create() {
	l.gen++
	gen := l.gen
	kind := ".S."
	if l.mirror {
		kind = ".M."
	}
	base := "$JS"
	if l.cfg.External != nil && l.cfg.External.DeliverPrefix != "" {
		base = strings.TrimSuffix(l.cfg.External.DeliverPrefix, ".")
	}
	l.inbox = base + kind + env.Token(l.svc().env.Rand, 10)
	sub, err := l.svc().bus.SubscribeOn(l.st.acc.name, l.inbox+".*", "", l.st.ex, func(m bus.Msg) {
		if gen == l.gen && l.st.phase == streamRunning {
			l.receive(m)
		}
	})
	if err != nil {
		l.fail(l.setupError(err.Error()))
		return
	}
	l.sub = sub
	cfg := l.consumerConfig()
	req, err := json.Marshal(&jsapi.CreateConsumerRequest{Stream: l.cfg.Name, Config: cfg, Action: jsapi.ActionCreate})
	env.Assertf(err == nil, "jetstream: marshal a source consumer: %v", err)
	l.phase = linkCreating
	l.publish(l.api("CONSUMER.CREATE."+l.cfg.Name+"."+cfg.Name), l.inbox+".C", req)
	l.arm(sourceCreateTimeout)
}

// consumerConfig is the origin consumer for the next start: after the last message copied,
// or, the first time, where the source's options say (nats-server's rules).
func (l *sourceLink) consumerConfig() jsapi.ConsumerConfig {
	prefix, meta := "JS_SRC_", map[string]string{"_nats.src.stream": l.st.name, "_nats.src.acc": l.st.acc.name}
	if l.mirror {
		prefix, meta = "JS_MIRROR_", map[string]string{"_nats.mirror.stream": l.st.name, "_nats.mirror.acc": l.st.acc.name}
	}
	cfg := jsapi.ConsumerConfig{Name: prefix + env.Token(l.svc().env.Rand, 10), AckPolicy: jsapi.AckNone,
		DeliverPolicy: jsapi.DeliverAll, InactiveThreshold: sourceInactive, Sourcing: true, Metadata: meta}
	state := l.st.fsm.Store().State()
	switch {
	case l.known:
		cfg.DeliverPolicy, cfg.OptStartSeq = jsapi.DeliverByStartSeq, l.last+1
	case l.cfg.OptStartSeq > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jsapi.DeliverByStartSeq, l.cfg.OptStartSeq
	case l.cfg.OptStartTime != nil:
		t := *l.cfg.OptStartTime
		if last := unixTime(state.LastTime); !l.mirror && !last.IsZero() && t.Before(last) {
			t = last // a source joining a stream that has messages starts at its newest
		}
		cfg.DeliverPolicy, cfg.OptStartTime = jsapi.DeliverByStartTime, &t
	case !l.mirror && state.FirstSeq > 1 && state.LastTime != 0:
		t := unixTime(state.LastTime)
		cfg.DeliverPolicy, cfg.OptStartTime = jsapi.DeliverByStartTime, &t
	}
	if l.cfg.FilterSubject != "" {
		cfg.FilterSubject = l.cfg.FilterSubject
	}
	for _, tr := range l.cfg.SubjectTransforms {
		if tr.Source == "" || tr.Source == ">" {
			cfg.FilterSubjects = nil // one side takes everything: no filter
			break
		}
		cfg.FilterSubjects = append(cfg.FilterSubjects, tr.Source)
	}
	if len(cfg.FilterSubjects) == 1 {
		cfg.FilterSubject, cfg.FilterSubjects = cfg.FilterSubjects[0], nil
	}
	return cfg
}

// receive takes what comes to the link's inbox: a copied message (its reply is the
// origin's ack subject), a pull's status, or CONSUMER.CREATE's answer.
func (l *sourceLink) receive(m bus.Msg) {
	switch {
	case strings.HasPrefix(m.Reply, jsapi.AckPrefix):
		l.heardNow()
		if l.phase == linkPulling {
			l.take(m)
		}
	case statusCode(m.Header) != 0:
		l.heardNow()
		if l.phase == linkPulling {
			l.pullStatus(statusCode(m.Header))
		}
	case l.phase == linkCreating:
		l.created(m.Data)
	}
}

func (l *sourceLink) heardNow() { l.heard, l.everHeard = l.mono(), true }

// statusCode is a status message's code ("NATS/1.0 408 Request Timeout"), 0 for none.
func statusCode(hdr []byte) int {
	line, _, _ := strings.Cut(string(hdr), "\r\n")
	rest, ok := strings.CutPrefix(line, proto.HeaderPrefix+" ")
	if !ok || len(rest) < 3 {
		return 0
	}
	code, err := strconv.Atoi(rest[:3])
	if err != nil {
		return 0
	}
	return code
}

// created takes CONSUMER.CREATE's answer and starts pulling.
func (l *sourceLink) created(data []byte) {
	var resp jsapi.ConsumerResponse
	if err := json.Unmarshal(data, &resp); err != nil {
		l.fail(l.setupError("bad consumer create answer: " + err.Error()))
		return
	}
	if resp.Error != nil || resp.ConsumerInfo == nil {
		why := "no consumer in the answer"
		if resp.Error != nil {
			why = resp.Error.Description
		}
		l.fail(l.setupError(why))
		return
	}
	l.consumer, l.dseq, l.err, l.fails = resp.Name, 0, nil, 0
	l.lag = resp.NumPending
	l.phase = linkPulling
	l.heardNow()
	l.pull()
}

// pull asks for the next batch when none is out and the store keeps up.
func (l *sourceLink) pull() {
	if l.phase != linkPulling || l.pullLeft > 0 || l.inflight >= sourceInflightMax {
		return
	}
	req, err := json.Marshal(&jsapi.NextRequest{Batch: l.batch, Expires: sourcePullExpires, Heartbeat: sourceHeartbeat})
	env.Assertf(err == nil, "jetstream: marshal a pull: %v", err)
	l.pullLeft, l.pullGot = l.batch, 0
	l.publish(l.api("CONSUMER.MSG.NEXT."+l.cfg.Name+"."+l.consumer), l.inbox+".P", req)
	l.arm(sourceSilenceMax)
}

// pullStatus takes a pull's status: a heartbeat, its end, or the consumer's trouble.
func (l *sourceLink) pullStatus(code int) {
	switch code {
	case 100: // idle heartbeat
	case 404:
		l.lag = 0
		l.pullLeft = 0
		l.pull()
	case 408:
		l.pullLeft = 0
		l.pull()
	default: // 409 consumer deleted, and anything unforeseen: start again
		l.fail(l.setupError("origin consumer status " + strconv.Itoa(code)))
	}
}

// info is the link's StreamSourceInfo.
func (l *sourceLink) info() *jsapi.StreamSourceInfo {
	si := &jsapi.StreamSourceInfo{Name: l.cfg.Name, External: l.cfg.External, Lag: l.lag, Active: -1,
		Error: l.err, FilterSubject: l.cfg.FilterSubject, SubjectTransforms: l.cfg.SubjectTransforms}
	if l.everHeard {
		si.Active = l.mono() - l.heard
	}
	return si
}

func (l *sourceLink) String() string {
	return fmt.Sprintf("%s/%s<-%s", l.st.acc.name, l.st.name, l.iname)
}
