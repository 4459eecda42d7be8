package jetstream

import (
	"errors"
	"time"

	"github.com/petrel-io/petrel/core/bus"
	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/filestore"
)

// streamPurge answers STREAM.PURGE once the purge is durable.
func (a *account) streamPurge(m bus.Msg, args []string) {
	var req jsapi.PurgeRequest
	if !a.decodeInto(m, jsapi.StreamPurgeType, &req) {
		return
	}
	st := a.removable(m, args[0], jsapi.StreamPurgeType)
	if st == nil {
		return
	}
	st.post(func() {
		opts := filestore.PurgeOpts{Subject: req.Subject, Seq: env.Seq(req.Sequence), Keep: req.Keep}
		var purged uint64
		n, err := st.fsm.Store().Purge(opts, func(err error) {
			if err != nil {
				a.replyError(m.Reply, jsapi.StreamPurgeType, jsapi.NewError(jsapi.ErrStreamPurgeFailed, err.Error()))
				return
			}
			a.reply(m.Reply, &jsapi.PurgeResponse{Response: jsapi.Response{Type: jsapi.StreamPurgeType}, Success: true, Purged: purged})
		})
		if err != nil {
			a.replyError(m.Reply, jsapi.StreamPurgeType, jsapi.NewError(jsapi.ErrStreamPurgeFailed, err.Error()))
			return
		}
		purged = n
		st.purged()
	})
}

// removable finds the stream of a purge (typ StreamPurgeType) or a message deletion, and
// refuses it (answering) when the stream is sealed or denies it.
func (a *account) removable(m bus.Msg, name, typ string) *streamActor {
	st := a.stream(m, name, typ)
	if st == nil {
		return nil
	}
	purge := typ == jsapi.StreamPurgeType
	switch {
	case st.cfg.Sealed:
		a.replyError(m.Reply, typ, jsapi.E(jsapi.ErrStreamSealed))
	case purge && st.cfg.DenyPurge:
		a.replyError(m.Reply, typ, jsapi.NewError(jsapi.ErrStreamPurgeFailed, "stream purge not permitted"))
	case !purge && st.cfg.DenyDelete:
		a.replyError(m.Reply, typ, jsapi.NewError(jsapi.ErrStreamMsgDeleteFailed, "message delete not permitted"))
	default:
		return st
	}
	return nil
}

// msgDelete answers STREAM.MSG.DELETE once the deletion is durable.
func (a *account) msgDelete(m bus.Msg, args []string) {
	var req jsapi.MsgDeleteRequest
	if !a.decodeInto(m, jsapi.MsgDeleteType, &req) {
		return
	}
	st := a.removable(m, args[0], jsapi.MsgDeleteType)
	if st == nil {
		return
	}
	st.post(func() {
		done := func(err error) {
			if err != nil {
				a.replyError(m.Reply, jsapi.MsgDeleteType, jsapi.NewError(jsapi.ErrStreamMsgDeleteFailed, err.Error()))
				return
			}
			a.reply(m.Reply, &jsapi.SuccessResponse{Response: jsapi.Response{Type: jsapi.MsgDeleteType}, Success: true})
		}
		var err error
		if req.NoErase {
			err = st.fsm.Store().RemoveMsg(env.Seq(req.Seq), done)
		} else {
			err = st.fsm.Store().EraseMsg(env.Seq(req.Seq), done)
		}
		switch {
		case errors.Is(err, filestore.ErrNotFound):
			a.replyError(m.Reply, jsapi.MsgDeleteType, jsapi.NewError(jsapi.ErrStreamMsgDeleteFailed, "no message found"))
		case err != nil:
			a.replyError(m.Reply, jsapi.MsgDeleteType, jsapi.NewError(jsapi.ErrStreamMsgDeleteFailed, err.Error()))
		default:
			st.purged()
		}
	})
}

// msgGet answers STREAM.MSG.GET.
func (a *account) msgGet(m bus.Msg, args []string) {
	var req jsapi.MsgGetRequest
	if !a.decodeInto(m, jsapi.MsgGetType, &req) {
		return
	}
	if e := checkGet(&req); e != nil {
		a.replyError(m.Reply, jsapi.MsgGetType, e)
		return
	}
	st := a.stream(m, args[0], jsapi.MsgGetType)
	if st == nil {
		return
	}
	st.post(func() {
		msg, e := st.load(&req)
		// Answered once what it was read from is durable, as a direct get (directReplies).
		st.fsm.Store().Flush(func(err error) {
			switch {
			case err != nil:
			case e != nil:
				a.replyError(m.Reply, jsapi.MsgGetType, e)
			default:
				a.reply(m.Reply, &jsapi.MsgGetResponse{Response: jsapi.Response{Type: jsapi.MsgGetType},
					Message: &jsapi.StoredMsg{Subject: msg.Subject, Sequence: uint64(msg.Seq), Header: msg.Header, Data: msg.Data, Time: unixTime(msg.Time)}})
			}
		})
	})
}

// checkGet: exactly one of seq, last_by_subj, next_by_subj (with seq), or start_time.
func checkGet(req *jsapi.MsgGetRequest) *jsapi.Error {
	n := 0
	for _, set := range []bool{req.Seq > 0 && req.NextFor == "", req.LastFor != "", req.NextFor != "", req.StartTime != nil, len(req.MultiLastFor) > 0} {
		if set {
			n++
		}
	}
	if n != 1 || (req.LastFor != "" && req.Seq > 0) {
		return jsapi.E(jsapi.ErrBadRequest)
	}
	return nil
}

// load finds the message a get asks for.
func (st *streamActor) load(req *jsapi.MsgGetRequest) (*filestore.Msg, *jsapi.Error) {
	store := st.fsm.Store()
	var msg *filestore.Msg
	var err error
	switch {
	case req.LastFor != "":
		f, ferr := filestore.NewFilter(req.LastFor)
		if ferr != nil {
			return nil, jsapi.E(jsapi.ErrNoMessageFound)
		}
		msg, err = store.LoadLast(f)
	case req.NextFor != "":
		f, ferr := filestore.NewFilter(req.NextFor)
		if ferr != nil {
			return nil, jsapi.E(jsapi.ErrNoMessageFound)
		}
		msg, err = store.LoadNext(f, env.Seq(req.Seq))
	case req.StartTime != nil:
		msg, err = st.loadFromTime(*req.StartTime)
	default:
		msg, err = store.LoadMsg(env.Seq(req.Seq))
	}
	if err != nil {
		if storeBroken(err) && st.recoverStore(err) {
			return st.load(req) // the reopened store answers (streamreopen.go)
		}
		if !errors.Is(err, filestore.ErrNotFound) {
			st.svc().env.Log.Logf(env.LevelWarn, "jetstream: stream %s/%s: get: %v", st.acc.name, st.name, err)
		}
		return nil, jsapi.E(jsapi.ErrNoMessageFound)
	}
	return msg, nil
}

// loadFromTime finds the first message at or after t.
func (st *streamActor) loadFromTime(t time.Time) (*filestore.Msg, error) {
	seq := st.seqAtTime(t.UnixNano())
	return st.fsm.Store().LoadNext(filestore.AllSubjects, seq)
}

// seqAtTime is the first sequence whose message is at or after ns (binary search over the
// sequence range; timestamps never decrease with the sequence).
func (st *streamActor) seqAtTime(ns int64) env.Seq {
	s := st.fsm.Store()
	state := s.State()
	lo, hi := state.FirstSeq, state.LastSeq+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		m, err := s.LoadNext(filestore.AllSubjects, mid)
		if err != nil {
			hi = mid
			continue
		}
		if m.Time < ns {
			lo = m.Seq + 1
		} else {
			hi = mid
		}
	}
	return lo
}
