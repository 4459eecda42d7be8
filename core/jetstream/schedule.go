package jetstream

import (
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/fsm/stream"
)

// The stream's schedule timer (fsm/stream's message schedules): armed for the earliest
// schedule, it stores what the due schedules produce, as publishes without a reply.

// scheduleTimer is the armed timer and the time it is armed for.
type scheduleTimer struct {
	timer env.Timer
	at    int64
}

// armSchedules (re)arms the timer for the next schedule, if one waits.
func (st *streamActor) armSchedules() {
	if st.fsm == nil || !st.fsm.Config().AllowMsgSchedules {
		return
	}
	at, ok := st.fsm.NextSchedule()
	if !ok || (st.sched.timer != nil && st.sched.at <= at) {
		return
	}
	if st.sched.timer != nil {
		st.sched.timer.Stop()
	}
	st.sched.at = at
	wait := time.Duration(at - st.svc().now().UnixNano())
	st.sched.timer = st.svc().env.Clock.AfterFunc(max(wait, 0), st.ex, st.fireSchedules)
}

// fireSchedules stores what the due schedules produce.
func (st *streamActor) fireSchedules() {
	st.sched.timer = nil
	if st.phase != streamRunning {
		return
	}
	for _, m := range st.fsm.DueSchedules(st.svc().now().UnixNano()) {
		msg, last := m, st.lastOnSubject(m.Subject)
		st.fsm.Apply(msg, func(r stream.Result) { st.afterStore(msg, r, last) })
	}
	st.settle()
	st.kick()
	st.armSchedules()
}

func (st *streamActor) stopSchedules() {
	if st.sched.timer != nil {
		st.sched.timer.Stop()
		st.sched.timer = nil
	}
}
