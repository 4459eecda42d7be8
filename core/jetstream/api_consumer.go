package jetstream

import (
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
	fconsumer "github.com/petrel-io/petrel/fsm/consumer"
)

// consumerCreate answers CONSUMER.CREATE.<stream>[.<consumer>[.<filter>]].
func (a *account) consumerCreate(m bus.Msg, args []string) {
	name, filter := "", ""
	if len(args) > 1 {
		name = args[1]
	}
	if len(args) > 2 {
		filter = strings.Join(args[2:], ".")
	}
	a.createConsumer(m, args[0], name, filter, false)
}

// consumerDurableCreate answers the legacy CONSUMER.DURABLE.CREATE.<stream>.<durable>.
func (a *account) consumerDurableCreate(m bus.Msg, args []string) {
	a.createConsumer(m, args[0], args[1], "", true)
}

func (a *account) createConsumer(m bus.Msg, stream, name, filter string, durable bool) {
	var req jsapi.CreateConsumerRequest
	if !a.decodeInto(m, jsapi.ConsumerCreateType, &req) {
		return
	}
	cfg := req.Config
	e := checkConsumerNames(&cfg, req.Stream, stream, name, filter, durable)
	if e != nil {
		a.replyError(m.Reply, jsapi.ConsumerCreateType, e)
		return
	}
	st := a.stream(m, stream, jsapi.ConsumerCreateType)
	if st == nil {
		return
	}
	if name == "" && cfg.Name == "" && cfg.Durable == "" {
		cfg.Name = env.Token(a.svc.env.Rand, 8)
	}
	st.post(func() { st.createConsumer(m.Reply, cfg, req.Action) })
}

// checkConsumerNames holds the names in the request subject and body together.
func checkConsumerNames(cfg *jsapi.ConsumerConfig, bodyStream, stream, name, filter string, durable bool) *jsapi.Error {
	switch {
	case bodyStream != "" && bodyStream != stream:
		return jsapi.E(jsapi.ErrStreamMismatch)
	case durable && cfg.Durable != "" && cfg.Durable != name:
		return jsapi.E(jsapi.ErrConsumerDurableNameNotMatchSubject)
	case durable:
		cfg.Durable = name
	case name != "" && cfg.Name == "" && cfg.Durable == "":
		cfg.Name = name
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Durable
	}
	switch {
	case cfg.Durable != "" && cfg.Name != cfg.Durable:
		return jsapi.E(jsapi.ErrConsumerCreateDurableAndNameMismatch)
	case name != "" && cfg.Name != name:
		return jsapi.E(jsapi.ErrConsumerDurableNameNotMatchSubject)
	case filter != "" && !(cfg.FilterSubject == filter && len(cfg.FilterSubjects) == 0) &&
		!(len(cfg.FilterSubjects) == 1 && cfg.FilterSubjects[0] == filter && cfg.FilterSubject == ""):
		return jsapi.E(jsapi.ErrConsumerFilterMismatch)
	}
	return nil
}

// createConsumer creates (or, as the action allows, updates) a consumer on the stream's
// executor and answers with its info.
func (st *streamActor) createConsumer(reply string, cfg jsapi.ConsumerConfig, action jsapi.ConsumerAction) {
	a := st.acc
	if e := st.checkConsumer(&cfg); e != nil {
		a.replyError(reply, jsapi.ConsumerCreateType, e)
		return
	}
	if c := st.consumers[cfg.Name]; c != nil {
		switch {
		case reflect.DeepEqual(c.cfg, cfg) && action != jsapi.ActionUpdate:
		case action == jsapi.ActionCreate:
			a.replyError(reply, jsapi.ConsumerCreateType, jsapi.E(jsapi.ErrConsumerAlreadyExists))
			return
		default:
			if err := c.update(cfg); err != nil {
				a.replyError(reply, jsapi.ConsumerCreateType, jsapi.NewError(jsapi.ErrConsumerCreate, err.Error()))
				return
			}
		}
		a.reply(reply, &jsapi.ConsumerResponse{Response: jsapi.Response{Type: jsapi.ConsumerCreateType}, ConsumerInfo: c.info()})
		return
	}
	if action == jsapi.ActionUpdate {
		a.replyError(reply, jsapi.ConsumerCreateType, jsapi.E(jsapi.ErrConsumerDoesNotExist))
		return
	}
	if e := st.admitConsumer(cfg); e != nil {
		a.replyError(reply, jsapi.ConsumerCreateType, e)
		return
	}
	c, err := st.addConsumer(cfg)
	if err != nil {
		st.acc.consumers.Add(-1)
		a.replyError(reply, jsapi.ConsumerCreateType, jsapi.NewError(jsapi.ErrConsumerCreate, err.Error()))
		return
	}
	// The answer shows the consumer as created, before its first deliveries (as nats-server's).
	a.reply(reply, &jsapi.ConsumerResponse{Response: jsapi.Response{Type: jsapi.ConsumerCreateType}, ConsumerInfo: c.info()})
	c.actionAdvisory("CREATED", "create")
	c.deliver()
	c.arm()
}

// admitConsumer holds a new consumer to the work-queue rule, the stream's max_consumers and
// the account's (its count is shared by the account's streams: reserved atomically here,
// given back when a consumer goes).
func (st *streamActor) admitConsumer(cfg jsapi.ConsumerConfig) *jsapi.Error {
	if e := st.checkWorkQueue(cfg); e != nil {
		return e
	}
	if limit := st.fsm.Config().MaxConsumers; limit > 0 && len(st.consumers) >= limit {
		return jsapi.E(jsapi.ErrMaxConsumers)
	}
	if !st.acc.reserveConsumer() {
		return jsapi.E(jsapi.ErrMaxConsumers)
	}
	return nil
}

// addConsumer creates a new consumer, durably when it keeps state.
func (st *streamActor) addConsumer(cfg jsapi.ConsumerConfig) (*consumer, error) {
	created := st.svc().now().UTC()
	var file *fconsumer.File
	state := fconsumer.State{}
	if st.persistent(cfg) {
		var err error
		if file, state, err = st.openState(cfg, created); err != nil {
			return nil, err
		}
	}
	c, err := st.newConsumer(cfg, created, state)
	if err != nil {
		if file != nil {
			_ = file.Close() // nothing was saved through it
		}
		return nil, err
	}
	c.file = file
	c.save(nil)
	return c, nil
}

// newConsumer builds, starts and registers a consumer, positioned by its deliver policy
// when its state is new.
func (st *streamActor) newConsumer(cfg jsapi.ConsumerConfig, created time.Time, state fconsumer.State) (*consumer, error) {
	filter, err := filestore.NewFilter(filterSubjects(cfg)...)
	if err != nil {
		return nil, err
	}
	c := &consumer{st: st, name: cfg.Name, cfg: cfg, created: created, filter: filter, fsm: fconsumer.New(cfg, state)}
	if state.Delivered.Stream == 0 {
		c.fsm.SetStart(st.startSeq(cfg, filter))
		if cfg.DeliverPolicy == jsapi.DeliverLastPerSubject {
			c.lastPer = st.lastPerSubject(filter)
		}
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	st.consumers[cfg.Name] = c
	return c, nil
}

func filterSubjects(cfg jsapi.ConsumerConfig) []string {
	if cfg.FilterSubject != "" {
		return []string{cfg.FilterSubject}
	}
	return cfg.FilterSubjects
}

// startSeq is the first stream sequence a new consumer delivers, by its deliver policy.
func (st *streamActor) startSeq(cfg jsapi.ConsumerConfig, f filestore.Filter) uint64 {
	store := st.fsm.Store()
	state := store.State()
	switch cfg.DeliverPolicy {
	case jsapi.DeliverNew:
		return uint64(state.LastSeq) + 1
	case jsapi.DeliverLast:
		if m, err := store.LoadLast(f); err == nil {
			return uint64(m.Seq)
		}
		return uint64(state.LastSeq) + 1
	case jsapi.DeliverByStartSeq:
		return max(cfg.OptStartSeq, 1)
	case jsapi.DeliverByStartTime:
		if cfg.OptStartTime != nil {
			return uint64(st.seqAtTime(cfg.OptStartTime.UnixNano()))
		}
	}
	return max(uint64(state.FirstSeq), 1)
}

// lastPerSubject lists the last message of each subject matching f, ascending.
func (st *streamActor) lastPerSubject(f filestore.Filter) []uint64 {
	subjects := st.fsm.Store().SubjectsState(f)
	out := make([]uint64, 0, len(subjects))
	for _, ss := range subjects {
		out = append(out, uint64(ss.Last))
	}
	sortSeqs(out)
	return out
}

func sortSeqs(s []uint64) { sort.Slice(s, func(i, j int) bool { return s[i] < s[j] }) }

// consumerOf finds the consumer named in a request on the stream's executor, answering
// "consumer not found" if none.
func (a *account) consumerOf(m bus.Msg, args []string, typ string, fn func(*consumer)) {
	st := a.stream(m, args[0], typ)
	if st == nil {
		return
	}
	st.post(func() {
		c := st.consumers[args[1]]
		if c == nil {
			a.replyError(m.Reply, typ, jsapi.E(jsapi.ErrConsumerNotFound))
			return
		}
		fn(c)
	})
}

// consumerInfo answers CONSUMER.INFO.
func (a *account) consumerInfo(m bus.Msg, args []string) {
	a.consumerOf(m, args, jsapi.ConsumerInfoType, func(c *consumer) {
		a.reply(m.Reply, &jsapi.ConsumerResponse{Response: jsapi.Response{Type: jsapi.ConsumerInfoType}, ConsumerInfo: c.info()})
	})
}

// consumerDelete answers CONSUMER.DELETE.
func (a *account) consumerDelete(m bus.Msg, args []string) {
	a.consumerOf(m, args, jsapi.ConsumerDeleteType, func(c *consumer) {
		c.delete()
		a.reply(m.Reply, &jsapi.SuccessResponse{Response: jsapi.Response{Type: jsapi.ConsumerDeleteType}, Success: true})
	})
}

// consumerNext takes a pull request; it has no JSON answer, only messages and statuses.
func (a *account) consumerNext(m bus.Msg, args []string) {
	st := a.streams[args[0]]
	if st == nil {
		return
	}
	req, e := jsapi.ParseNextRequest(m.Data)
	st.post(func() {
		c := st.consumers[args[1]]
		switch {
		case c == nil:
			return
		case e != nil:
			c.status(m.Reply, 400, "Bad Request")
		default:
			c.pull(m.Reply, req)
		}
	})
}

// consumerNames answers CONSUMER.NAMES.
func (a *account) consumerNames(m bus.Msg, args []string) {
	a.consumerPage(m, args[0], jsapi.ConsumerNamesType, jsapi.NamesPageSize, func(cs []*consumer, p jsapi.Paged) any {
		names := make([]string, len(cs))
		for i, c := range cs {
			names[i] = c.name
		}
		return &jsapi.ConsumerNamesResponse{Response: jsapi.Response{Type: jsapi.ConsumerNamesType}, Paged: p, Consumers: names}
	})
}

// consumerList answers CONSUMER.LIST.
func (a *account) consumerList(m bus.Msg, args []string) {
	a.consumerPage(m, args[0], jsapi.ConsumerListType, jsapi.ListPageSize, func(cs []*consumer, p jsapi.Paged) any {
		infos := make([]*jsapi.ConsumerInfo, len(cs))
		for i, c := range cs {
			infos[i] = c.info()
		}
		return &jsapi.ConsumerListResponse{Response: jsapi.Response{Type: jsapi.ConsumerListType}, Paged: p, Consumers: infos}
	})
}

func (a *account) consumerPage(m bus.Msg, stream, typ string, size int, answer func([]*consumer, jsapi.Paged) any) {
	var req jsapi.PagedRequest
	if e := decode(m.Data, &req); e != nil {
		a.replyError(m.Reply, typ, e)
		return
	}
	st := a.stream(m, stream, typ)
	if st == nil {
		return
	}
	st.post(func() {
		all := make([]*consumer, 0, len(st.consumers))
		for _, c := range st.consumers {
			all = append(all, c)
		}
		sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
		a.reply(m.Reply, answer(page(all, req.Offset, size), jsapi.Paged{Total: len(all), Offset: req.Offset, Limit: size}))
	})
}

// info is the consumer's ConsumerInfo now.
func (c *consumer) info() *jsapi.ConsumerInfo {
	cfg := c.cfg
	cfg.Metadata = jsapi.DynamicMetadata(cfg.Metadata, c.svc().cfg.ServerVersion, jsapi.Level)
	delivered, floor := c.fsm.Delivered(), c.fsm.AckFloor()
	start := env.Seq(delivered.Stream + 1)
	info := &jsapi.ConsumerInfo{Stream: c.st.name, Name: c.name, Created: c.created, Config: &cfg,
		Delivered:      jsapi.SequenceInfo{Consumer: delivered.Consumer, Stream: delivered.Stream, Last: timeOrNil(c.lastDelivery)},
		AckFloor:       jsapi.SequenceInfo{Consumer: floor.Consumer, Stream: floor.Stream, Last: timeOrNil(c.lastAck)},
		NumAckPending:  c.fsm.NumAckPending(),
		NumRedelivered: c.fsm.NumRedelivered(),
		NumWaiting:     len(c.waiting),
		NumPending:     c.pending(start - 1),
		PushBound:      c.cfg.DeliverSubject != "" && c.svc().bus.HasInterest(c.st.acc.name, c.cfg.DeliverSubject),
		PriorityGroups: c.priorityGroups(),
		TimeStamp:      c.svc().now().UTC()}
	if info.Paused = c.paused(); info.Paused {
		info.PauseRemaining = c.cfg.PauseUntil.Sub(c.svc().now())
	}
	return info
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// update applies a changed configuration to a running consumer.
func (c *consumer) update(cfg jsapi.ConsumerConfig) error {
	if c.file != nil {
		if err := writeMeta(c.svc().env.FS, c.st.consumerDir(c.name), consumerMeta{Config: cfg, Created: c.created}); err != nil {
			return err
		}
	}
	c.cfg = cfg
	c.fsm.UpdateConfig(cfg)
	c.deliver()
	c.arm()
	return nil
}
