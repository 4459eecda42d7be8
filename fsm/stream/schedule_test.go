package stream

import (
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/jsapi"
	"github.com/petrel-io/petrel/core/proto"
	"github.com/petrel-io/petrel/core/tzdb"
)

// Nats-Schedule-Time-Zone as nats-server 2.15 answers it (checked against its binary): any
// IANA zone, or Local, for a cron pattern; an empty or unknown name is 10223, even without
// a pattern; a zone on @at or @every makes the pattern invalid (10189); a stream without
// schedules says so first (10188).
func TestScheduleTimeZones(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowMsgSchedules = true
	r := newRig(t, cfg)
	sched := func(pattern, zone string) string {
		h := "Nats-Schedule-Target: s.out\r\nNats-Schedule-Time-Zone: " + zone
		if pattern != "" {
			h = "Nats-Schedule: " + pattern + "\r\n" + h
		}
		return h
	}
	at := "@at " + r.e.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Asia/Kolkata", "US/Eastern", "Etc/GMT+5", "EST5EDT", "UTC", "Local"} {
		if res := r.publish("s.sched", sched("0 30 2 * * *", zone), ""); res.Err != nil {
			t.Errorf("cron in %s: %v", zone, res.Err)
		}
	}
	if res := r.publish("s.sched", sched("", "UTC"), ""); res.Err != nil {
		t.Errorf("a zone without a pattern: %v", res.Err)
	}
	for _, c := range []struct {
		hdr  string
		code jsapi.ErrCode
	}{
		{sched("0 30 2 * * *", ""), jsapi.ErrMessageSchedulesTimeZoneInvalid},
		{sched("0 30 2 * * *", "Not/A/Zone"), jsapi.ErrMessageSchedulesTimeZoneInvalid},
		{sched("0 30 2 * * *", "america/new_york"), jsapi.ErrMessageSchedulesTimeZoneInvalid},
		{sched("@every 5s", "Bad/Zone"), jsapi.ErrMessageSchedulesTimeZoneInvalid},
		{sched("", "Bad/Zone"), jsapi.ErrMessageSchedulesTimeZoneInvalid},
		{sched("invalid", "UTC"), jsapi.ErrMessageSchedulesPatternInvalid},
		{sched(at, "UTC"), jsapi.ErrMessageSchedulesPatternInvalid},
		{sched(at, "Europe/Berlin"), jsapi.ErrMessageSchedulesPatternInvalid},
		{sched("@every 5s", "UTC"), jsapi.ErrMessageSchedulesPatternInvalid},
	} {
		r.wantErr(r.publish("s.bad", c.hdr, ""), c.code, "")
	}
	plain := newRig(t, baseConfig())
	plain.wantErr(plain.publish("s.bad", sched("0 30 2 * * *", "Bad/Zone"), ""), jsapi.ErrMessageSchedulesDisabled, "")
	plain.wantErr(plain.publish("s.bad", sched("", "Bad/Zone"), ""), jsapi.ErrMessageSchedulesDisabled, "")
	if res := plain.publish("s.a", "Nats-Schedule-Time-Zone: UTC", ""); res.Err != nil {
		t.Errorf("a valid zone alone on a stream without schedules: %v", res.Err)
	}
}

// A zoned cron schedule fires at the zone's wall times and writes Nats-Schedule-Next with
// the zone's offset, as nats-server does.
func TestScheduleFiresInZone(t *testing.T) {
	cfg := baseConfig()
	cfg.AllowMsgSchedules = true
	r := newRig(t, cfg)
	kolkata, err := tzdb.Load("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	if res := r.publish("s.sched", "Nats-Schedule: 0 0 * * * *\r\nNats-Schedule-Target: s.out\r\nNats-Schedule-Time-Zone: Asia/Kolkata", "x"); res.Err != nil {
		t.Fatal(res.Err)
	}
	var at int64
	var produced []Msg
	r.run(func() {
		var ok bool
		if at, ok = r.s.NextSchedule(); ok {
			produced = r.s.DueSchedules(at)
		}
	})
	first := time.Unix(0, at).In(kolkata)
	if first.Minute() != 0 || first.Second() != 0 || !first.After(r.e.Clock.Now()) {
		t.Fatalf("an hourly schedule in Kolkata first fires at %s (now %s)", first.Format(time.RFC3339), r.e.Clock.Now().Format(time.RFC3339))
	}
	if len(produced) != 1 || produced[0].Subject != "s.out" {
		t.Fatalf("produced %+v", produced)
	}
	want := first.Add(time.Hour).Format(time.RFC3339Nano)
	if got := proto.HeaderValue(produced[0].Header, hdrScheduleNext); got != want || !strings.HasSuffix(got, "+05:30") {
		t.Fatalf("Nats-Schedule-Next %q, want %q", got, want)
	}
}
