package jetstream

import (
	"path"
	"reflect"
	"sort"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/subject"
)

// streamCreate answers STREAM.CREATE: idempotent for an identical configuration.
func (a *account) streamCreate(m bus.Msg, args []string) {
	cfg, e := a.streamRequest(m, args[0])
	if e == nil {
		e = jsapi.CheckStreamCreate(args[0], &cfg, a.checkOptions())
	}
	if e != nil {
		a.replyError(m.Reply, jsapi.StreamCreateType, e)
		return
	}
	jsapi.SetStaticStreamMetadata(&cfg)
	if st := a.streams[cfg.Name]; st != nil {
		if !reflect.DeepEqual(st.cfg, cfg) {
			a.replyError(m.Reply, jsapi.StreamCreateType, jsapi.E(jsapi.ErrStreamNameExists))
			return
		}
		a.answerInfo(st, m.Reply, jsapi.StreamCreateType, false)
		return
	}
	if _, off := a.offline[cfg.Name]; off {
		// Its definition could not be read: its data stays until it is deleted on purpose.
		a.replyError(m.Reply, jsapi.StreamCreateType, jsapi.E(jsapi.ErrStreamNameExists))
		return
	}
	if e := a.admitStream(cfg, ""); e != nil {
		a.replyError(m.Reply, jsapi.StreamCreateType, e)
		return
	}
	created := a.svc.now().UTC()
	st := newStreamActor(a, cfg, created)
	if err := writeMeta(a.svc.env.FS, st.dir, streamMeta{Config: cfg, Created: created}); err != nil {
		a.replyError(m.Reply, jsapi.StreamCreateType, jsapi.NewError(jsapi.ErrStreamCreate, err.Error()))
		return
	}
	a.streams[cfg.Name] = st
	st.ex.Post(func() {
		if err := st.open(cfg); err != nil {
			st.close()
			a.svc.ex.Post(func() { a.abandonCreate(st) })
			a.replyError(m.Reply, jsapi.StreamCreateType, jsapi.NewError(jsapi.ErrStreamCreate, err.Error()))
			return
		}
		a.reply(m.Reply, &jsapi.StreamCreateResponse{Response: jsapi.Response{Type: jsapi.StreamCreateType},
			StreamInfo: st.info(nil), DidCreate: true})
		a.streamAdvisory("CREATED", "create", st.name)
	})
}

// abandonCreate forgets a stream whose store could not be opened at its create (the create
// was refused, so nothing of it was acknowledged) and removes its files.
func (a *account) abandonCreate(st *streamActor) {
	if a.streams[st.name] != st {
		return
	}
	delete(a.streams, st.name)
	if err := markDeleted(a.svc.env.FS, st.dir); err != nil {
		a.svc.env.Log.Logf(env.LevelWarn, "jetstream: abandon the create of %s: %v", st.name, err)
		return
	}
	a.removeStreamFiles(st.dir)
}

// streamRequest reads a create or update body for the stream named in the subject.
func (a *account) streamRequest(m bus.Msg, name string) (jsapi.StreamConfig, *jsapi.Error) {
	var cfg jsapi.StreamConfig
	if e := decode(m.Data, &cfg); e != nil {
		return cfg, e
	}
	if cfg.Name == "" {
		cfg.Name = name
	}
	return cfg, nil
}

// checkOptions is what checking a stream's configuration needs of the account and server.
func (a *account) checkOptions() jsapi.StreamCheckOptions {
	return jsapi.StreamCheckOptions{MaxBytesRequired: a.limits.MaxBytesRequired, ValidateMapping: validateMapping,
		MemoryMaxStreamBytes: a.limits.MemoryMaxStreamBytes, StoreMaxStreamBytes: a.limits.StoreMaxStreamBytes,
		Lookup: func(name string) (jsapi.StreamConfig, bool) {
			if st := a.streams[name]; st != nil {
				return st.cfg, true
			}
			return jsapi.StreamConfig{}, false
		}}
}

// admitStream checks what a new (or, with except set, an updated) stream needs of the
// account: its subjects free, its count and bytes within the limits.
func (a *account) admitStream(cfg jsapi.StreamConfig, except string) *jsapi.Error {
	for name, st := range a.streams {
		if name != except && subjectsOverlap(st.cfg.Subjects, cfg.Subjects) {
			return jsapi.E(jsapi.ErrStreamSubjectOverlap)
		}
	}
	if except == "" && a.limits.MaxStreams > 0 && len(a.streams) >= a.limits.MaxStreams {
		return jsapi.E(jsapi.ErrMaxStreams)
	}
	return a.checkReservation(cfg, except)
}

func subjectsOverlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if subject.Intersects(x, y) {
				return true
			}
		}
	}
	return false
}

// checkReservation holds a stream's max_bytes against the account's and the server's
// limits for its storage, counting the other streams' reservations.
func (a *account) checkReservation(cfg jsapi.StreamConfig, except string) *jsapi.Error {
	mem := cfg.Storage == jsapi.MemoryStorage
	perStream, accMax, srvMax := a.limits.StoreMaxStreamBytes, a.limits.MaxStore, a.svc.cfg.MaxStore
	if mem {
		perStream, accMax, srvMax = a.limits.MemoryMaxStreamBytes, a.limits.MaxMemory, a.svc.cfg.MaxMemory
	}
	if a.limits.MaxBytesRequired && cfg.MaxBytes <= 0 {
		return jsapi.NewError(jsapi.ErrStreamInvalidConfig, "account requires a stream config to have max bytes set")
	}
	if perStream > 0 && (cfg.MaxBytes <= 0 || cfg.MaxBytes > perStream) {
		return jsapi.NewError(jsapi.ErrStreamInvalidConfig, "stream max bytes exceeds account limit max stream bytes")
	}
	if cfg.MaxBytes <= 0 {
		return nil
	}
	reserved := cfg.MaxBytes
	for name, st := range a.streams {
		if name != except && (st.cfg.Storage == jsapi.MemoryStorage) == mem && st.cfg.MaxBytes > 0 {
			reserved += st.cfg.MaxBytes
		}
	}
	switch {
	case accMax > 0 && reserved > accMax:
		return jsapi.E(jsapi.ErrInsufficientResources)
	case srvMax > 0 && reserved > srvMax && mem:
		return jsapi.E(jsapi.ErrMemoryResources)
	case srvMax > 0 && reserved > srvMax:
		return jsapi.E(jsapi.ErrStorageResources)
	}
	return nil
}

// answerInfo answers with st's info from its executor.
func (a *account) answerInfo(st *streamActor, reply, typ string, didCreate bool) {
	st.post(func() {
		a.reply(reply, &jsapi.StreamCreateResponse{Response: jsapi.Response{Type: typ}, StreamInfo: st.info(nil), DidCreate: didCreate})
	})
}

// stream finds the stream named in a request, answering "stream not found" if none.
func (a *account) stream(m bus.Msg, name, typ string) *streamActor {
	st := a.streams[name]
	if st == nil {
		a.replyError(m.Reply, typ, jsapi.E(jsapi.ErrStreamNotFound))
	}
	return st
}

// streamUpdate answers STREAM.UPDATE.
func (a *account) streamUpdate(m bus.Msg, args []string) {
	cfg, e := a.streamRequest(m, args[0])
	if e == nil && cfg.Name != args[0] {
		e = jsapi.E(jsapi.ErrStreamMismatch)
	}
	if e == nil {
		e = cfg.Check(a.checkOptions())
	}
	if e != nil {
		a.replyError(m.Reply, jsapi.StreamUpdateType, e)
		return
	}
	st := a.stream(m, cfg.Name, jsapi.StreamUpdateType)
	if st == nil {
		return
	}
	jsapi.SetStaticStreamMetadata(&cfg)
	if cfg, e = jsapi.CheckStreamUpdate(st.cfg, cfg); e != nil {
		a.replyError(m.Reply, jsapi.StreamUpdateType, e)
		return
	}
	if e := a.admitStream(cfg, cfg.Name); e != nil {
		a.replyError(m.Reply, jsapi.StreamUpdateType, e)
		return
	}
	if err := writeMeta(a.svc.env.FS, st.dir, streamMeta{Config: cfg, Created: st.created}); err != nil {
		a.replyError(m.Reply, jsapi.StreamUpdateType, jsapi.NewError(jsapi.ErrStreamUpdate, err.Error()))
		return
	}
	st.cfg = cfg
	st.post(func() {
		err := st.fsm.SetConfig(cfg, func(error) {})
		if err == nil {
			err = st.subscribe(cfg)
		}
		if err != nil {
			a.replyError(m.Reply, jsapi.StreamUpdateType, jsapi.NewError(jsapi.ErrStreamUpdate, err.Error()))
			return
		}
		st.updateSources(cfg)
		a.reply(m.Reply, &jsapi.StreamCreateResponse{Response: jsapi.Response{Type: jsapi.StreamUpdateType}, StreamInfo: st.info(nil)})
		a.streamAdvisory("UPDATED", "modify", st.name)
	})
}

// streamDelete answers STREAM.DELETE once the stream is marked deleted on disk; its files go
// after.
func (a *account) streamDelete(m bus.Msg, args []string) {
	if _, off := a.offline[args[0]]; off && a.streams[args[0]] == nil {
		a.deleteOffline(m, args[0])
		return
	}
	st := a.stream(m, args[0], jsapi.StreamDeleteType)
	if st == nil {
		return
	}
	if err := markDeleted(a.svc.env.FS, st.dir); err != nil {
		a.replyError(m.Reply, jsapi.StreamDeleteType, jsapi.NewError(jsapi.ErrStreamDelete, err.Error()))
		return
	}
	delete(a.streams, st.name)
	st.ex.Post(func() {
		st.close()
		a.removeStreamFiles(st.dir)
		a.reply(m.Reply, &jsapi.SuccessResponse{Response: jsapi.Response{Type: jsapi.StreamDeleteType}, Success: true})
		a.streamAdvisory("DELETED", "delete", st.name)
	})
}

// deleteOffline deletes, on request, a stream whose definition could not be read.
func (a *account) deleteOffline(m bus.Msg, name string) {
	dir := path.Join(a.dir, "streams", name)
	if err := markDeleted(a.svc.env.FS, dir); err != nil {
		a.replyError(m.Reply, jsapi.StreamDeleteType, jsapi.NewError(jsapi.ErrStreamDelete, err.Error()))
		return
	}
	delete(a.offline, name)
	a.removeStreamFiles(dir)
	a.reply(m.Reply, &jsapi.SuccessResponse{Response: jsapi.Response{Type: jsapi.StreamDeleteType}, Success: true})
	a.streamAdvisory("DELETED", "delete", name)
}

func (a *account) removeStreamFiles(dir string) {
	if err := removeTree(a.svc.env.FS, dir); err != nil {
		a.svc.env.Log.Logf(env.LevelWarn, "jetstream: remove deleted stream: %v (finished at the next start)", err)
	}
}

// streamInfo answers STREAM.INFO.
func (a *account) streamInfo(m bus.Msg, args []string) {
	var req jsapi.StreamInfoRequest
	if !a.decodeInto(m, jsapi.StreamInfoType, &req) {
		return
	}
	st := a.stream(m, args[0], jsapi.StreamInfoType)
	if st == nil {
		return
	}
	st.post(func() {
		info := st.info(&req)
		resp := &jsapi.StreamInfoResponse{Response: jsapi.Response{Type: jsapi.StreamInfoType}, StreamInfo: info}
		if req.SubjectsFilter != "" {
			pageSubjects(info, &resp.Paged, req.Offset)
		}
		a.reply(m.Reply, resp)
	})
}

// pageSubjects keeps one page of an info's subjects map.
func pageSubjects(info *jsapi.StreamInfo, p *jsapi.Paged, offset int) {
	names := make([]string, 0, len(info.State.Subjects))
	for s := range info.State.Subjects {
		names = append(names, s)
	}
	sort.Strings(names)
	*p = jsapi.Paged{Total: len(names), Offset: offset, Limit: subjectsPageSize}
	if offset >= len(names) {
		names = nil
	} else {
		names = names[offset:min(len(names), offset+subjectsPageSize)]
	}
	page := make(map[string]uint64, len(names))
	for _, s := range names {
		page[s] = info.State.Subjects[s]
	}
	info.State.Subjects = page
}

// matchingNames are the account's stream names, sorted, whose subjects match filter ("" for
// all).
func (a *account) matchingNames(filter string) []string {
	var out []string
	for name, st := range a.streams {
		if filter == "" || subjectsOverlap(st.cfg.Subjects, []string{filter}) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func page[T any](all []T, offset, size int) []T {
	if offset >= len(all) {
		return []T{}
	}
	return all[offset:min(len(all), offset+size)]
}

// streamNames answers STREAM.NAMES.
func (a *account) streamNames(m bus.Msg, _ []string) {
	var req jsapi.NamesRequest
	if !a.decodeInto(m, jsapi.StreamNamesType, &req) {
		return
	}
	names := a.matchingNames(req.Subject)
	a.reply(m.Reply, &jsapi.StreamNamesResponse{Response: jsapi.Response{Type: jsapi.StreamNamesType},
		Paged:   jsapi.Paged{Total: len(names), Offset: req.Offset, Limit: jsapi.NamesPageSize},
		Streams: page(names, req.Offset, jsapi.NamesPageSize)})
}

// streamList answers STREAM.LIST, gathering each listed stream's info from its executor.
func (a *account) streamList(m bus.Msg, _ []string) {
	var req jsapi.NamesRequest
	if !a.decodeInto(m, jsapi.StreamListType, &req) {
		return
	}
	names := a.matchingNames(req.Subject)
	streams := make([]*streamActor, 0, len(names))
	for _, n := range page(names, req.Offset, jsapi.ListPageSize) {
		streams = append(streams, a.streams[n])
	}
	gatherAll(a.svc, streams, func(st *streamActor) *jsapi.StreamInfo { return st.info(nil) }, func(infos []*jsapi.StreamInfo) {
		a.reply(m.Reply, &jsapi.StreamListResponse{Response: jsapi.Response{Type: jsapi.StreamListType},
			Paged:   jsapi.Paged{Total: len(names), Offset: req.Offset, Limit: jsapi.ListPageSize},
			Streams: infos, Offline: a.offlineMap()})
	})
}

func (a *account) offlineMap() map[string]string {
	if len(a.offline) == 0 {
		return nil
	}
	return a.offline
}

// gatherAll reads fn(st) on each stream's executor and hands the results, in order, to done
// on the service's executor. A stream closed meanwhile is left out.
func gatherAll[T any](s *Service, streams []*streamActor, fn func(*streamActor) T, done func([]T)) {
	results := make([]T, len(streams))
	ok := make([]bool, len(streams))
	left := len(streams)
	finish := func() {
		out := make([]T, 0, len(results))
		for i, r := range results {
			if ok[i] {
				out = append(out, r)
			}
		}
		done(out)
	}
	if left == 0 {
		finish()
		return
	}
	for i, st := range streams {
		st.ex.Post(func() {
			var r T
			live := st.phase == streamRunning
			if live {
				r = fn(st)
			}
			s.ex.Post(func() {
				results[i], ok[i] = r, live
				if left--; left == 0 {
					finish()
				}
			})
		})
	}
}
