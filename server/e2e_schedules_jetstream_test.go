package server

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Message schedules in a time zone, through nats.go: which Nats-Schedule-Time-Zone values a
// publish may carry and the error codes of the others, then a cron schedule in Kolkata
// firing with the zone's offset in Nats-Schedule-Next. With NATS_SERVER_BIN set the same
// steps run against nats-server first, so both answer alike.
func TestE2EJetStreamScheduleTimeZones(t *testing.T) {
	if bin := os.Getenv("NATS_SERVER_BIN"); bin != "" {
		port := freePort(t)
		startNatsServer(t, bin, []string{"-a", "127.0.0.1", "-p", port, "-js", "-sd", t.TempDir()})
		t.Run("nats-server", func(t *testing.T) { checkScheduleTimeZones(t, "nats://127.0.0.1:"+port) })
	}
	p, _ := startJS(t)
	t.Run("petrel", func(t *testing.T) { checkScheduleTimeZones(t, p.url()) })
}

func checkScheduleTimeZones(t *testing.T, url string) {
	nc := connect(t, url)
	js := newJS(t, nc)
	ctx, cancel := jsContext(t)
	defer cancel()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TZ", Subjects: []string{"tz.>"}, AllowMsgSchedules: true})
	must(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "NOTZ", Subjects: []string{"notz.>"}})
	must(t, err)
	at := "@at " + time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	for _, c := range []struct {
		subject, pattern, zone string
		code                   jetstream.ErrorCode // 0: accepted
	}{
		{"tz.a", "0 30 2 * * *", "America/New_York", 0},
		{"tz.a", "0 30 2 * * *", "Europe/Berlin", 0},
		{"tz.a", "@daily", "Asia/Kolkata", 0},
		{"tz.a", "0 30 2 * * *", "US/Eastern", 0},
		{"tz.a", "0 30 2 * * *", "UTC", 0},
		{"tz.a", "0 30 2 * * *", "Local", 0},
		{"tz.a", "", "UTC", 0}, // a zone without a pattern is no schedule
		{"tz.a", "0 30 2 * * *", "", 10223},
		{"tz.a", "0 30 2 * * *", "Not/A/Zone", 10223},
		{"tz.a", "0 30 2 * * *", "america/new_york", 10223},
		{"tz.a", "", "Not/A/Zone", 10223},
		{"tz.a", "@every 5s", "Not/A/Zone", 10223},
		{"tz.a", "invalid", "UTC", 10189},
		{"tz.a", at, "UTC", 10189},
		{"tz.a", "@every 5s", "Europe/Berlin", 10189},
		{"notz.a", "0 30 2 * * *", "Not/A/Zone", 10188},
	} {
		m := nats.NewMsg(c.subject)
		if c.pattern != "" {
			m.Header.Set("Nats-Schedule", c.pattern)
		}
		m.Header.Set("Nats-Schedule-Target", "tz.out")
		m.Header.Set("Nats-Schedule-Time-Zone", c.zone)
		_, err := js.PublishMsg(ctx, m)
		var apiErr *jetstream.APIError
		switch {
		case c.code == 0 && err != nil:
			t.Errorf("%q in %q: %v", c.pattern, c.zone, err)
		case c.code != 0 && (!errors.As(err, &apiErr) || apiErr.ErrorCode != c.code):
			t.Errorf("%q in %q: %v, want error %d", c.pattern, c.zone, err, c.code)
		}
	}
	firesInKolkata(t, ctx, js, s)
}

// firesInKolkata publishes a schedule firing every second in Asia/Kolkata and checks what
// it produces.
func firesInKolkata(t *testing.T, ctx context.Context, js jetstream.JetStream, s jetstream.Stream) {
	m := nats.NewMsg("tz.every")
	m.Header.Set("Nats-Schedule", "* * * * * *")
	m.Header.Set("Nats-Schedule-Target", "tz.kolkata")
	m.Header.Set("Nats-Schedule-Time-Zone", "Asia/Kolkata")
	m.Data = []byte("namaste")
	_, err := js.PublishMsg(ctx, m)
	must(t, err)
	var got *jetstream.RawStreamMsg
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got, err = s.GetLastMsgForSubject(ctx, "tz.kolkata"); err == nil {
			break
		}
	}
	if got == nil {
		t.Fatalf("the schedule in Kolkata did not fire: %v", err)
	}
	next, err := time.Parse(time.RFC3339Nano, got.Header.Get("Nats-Schedule-Next"))
	if string(got.Data) != "namaste" || got.Header.Get("Nats-Scheduler") != "tz.every" || err != nil ||
		!strings.HasSuffix(got.Header.Get("Nats-Schedule-Next"), "+05:30") || next.Before(got.Time) {
		t.Fatalf("produced %q with headers %v (%v), stored at %s", got.Data, got.Header, err, got.Time)
	}
}
