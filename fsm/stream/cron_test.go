package stream

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/petrel-io/petrel/core/tzdb"
	"pgregory.net/rapid"
)

func TestCronNext(t *testing.T) {
	base := time.Date(2026, 12, 2, 10, 15, 30, 0, time.UTC) // a Wednesday
	cases := []struct{ pattern, want string }{
		{"* * * * * *", "2026-12-02T10:15:31Z"},
		{"0 * * * * *", "2026-12-02T10:16:00Z"},
		{"*/20 * * * * *", "2026-12-02T10:15:40Z"},
		{"0 0 12 * * *", "2026-12-02T12:00:00Z"},
		{"0 0 0 1 1 *", "2027-01-01T00:00:00Z"},
		{"0 30 9 * * mon-fri", "2026-12-03T09:30:00Z"},
		{"0 0 0 * * sun", "2026-12-06T00:00:00Z"},
		{"0 0 0 * * 7", "2026-12-06T00:00:00Z"},
		{"0 0 0 15 * sat", "2026-12-05T00:00:00Z"}, // either day field
		{"0 0 0 29 feb *", "2028-02-29T00:00:00Z"},
		{"5,10 0 8 * dec ?", "2026-12-03T08:00:05Z"},
	}
	for _, c := range cases {
		cr, err := parseCronPattern(c.pattern)
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		got, ok := cr.next(base, time.UTC)
		if !ok || got.Format(time.RFC3339) != c.want {
			t.Errorf("%q: %v %v, want %s", c.pattern, got, ok, c.want)
		}
	}
	for _, bad := range []string{"* * * * *", "60 * * * * *", "* * * 0 * *", "*/0 * * * * *", "a * * * * *", "5-1 * * * * *"} {
		if _, err := parseCronPattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	cr, _ := parseCronPattern("0 0 0 30 feb *")
	if _, ok := cr.next(base, time.UTC); ok {
		t.Error("February 30th fired")
	}
}

// Cron patterns read in a zone, across its daylight saving changes (2026: New York springs
// forward on 8 March at 02:00 and falls back on 1 November at 02:00; Berlin on 29 March and
// 25 October; Kolkata is UTC+05:30 all year). A wall time a change skips does not fire that
// day; one it repeats fires at both instants, as in nats-server (whose results these
// match, checked against its own cron code).
func TestCronNextInZones(t *testing.T) {
	cases := []struct{ zone, pattern, from, want string }{
		{"America/New_York", "0 30 2 * * *", "2026-03-07T12:00:00-05:00", "2026-03-09T02:30:00-04:00"}, // 02:30 skipped on the 8th
		{"America/New_York", "0 30 1 * * *", "2026-03-07T12:00:00-05:00", "2026-03-08T01:30:00-05:00"},
		{"America/New_York", "0 0 3 * * *", "2026-03-08T00:00:00-05:00", "2026-03-08T03:00:00-04:00"},
		{"America/New_York", "0 30 * * * *", "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"}, // one real hour later
		{"America/New_York", "0 * 2 * * *", "2026-03-08T00:00:00-05:00", "2026-03-09T02:00:00-04:00"},
		{"America/New_York", "0 30 1 * * *", "2026-11-01T00:00:00-04:00", "2026-11-01T01:30:00-04:00"},
		{"America/New_York", "0 30 1 * * *", "2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"}, // again, an hour later
		{"America/New_York", "0 30 1 * * *", "2026-11-01T01:30:00-05:00", "2026-11-02T01:30:00-05:00"},
		{"America/New_York", "0 0 * * * *", "2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-05:00"},
		{"America/New_York", "0 30 2 * * *", "2026-11-01T00:00:00-04:00", "2026-11-01T02:30:00-05:00"},
		{"America/New_York", "@daily", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"Europe/Berlin", "0 30 2 * * *", "2026-03-28T12:00:00+01:00", "2026-03-30T02:30:00+02:00"},
		{"Europe/Berlin", "@daily", "2026-03-28T12:00:00+01:00", "2026-03-29T00:00:00+01:00"},
		{"Europe/Berlin", "0 30 2 * * *", "2026-10-25T00:00:00+02:00", "2026-10-25T02:30:00+02:00"},
		{"Europe/Berlin", "0 30 2 * * *", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"},
		{"Europe/Berlin", "0 30 2 * * *", "2026-10-25T02:30:00+01:00", "2026-10-26T02:30:00+01:00"},
		{"Europe/Berlin", "0 0 9 * * mon", "2026-10-24T12:00:00+02:00", "2026-10-26T09:00:00+01:00"},
		{"Asia/Kolkata", "0 0 9 * * *", "2026-12-02T15:45:30+05:30", "2026-12-03T09:00:00+05:30"},
		{"Asia/Kolkata", "0 0 * * * *", "2026-12-02T15:45:30+05:30", "2026-12-02T16:00:00+05:30"}, // not 15:30: hours are the zone's
		{"Asia/Kolkata", "@monthly", "2026-12-02T15:45:30+05:30", "2027-01-01T00:00:00+05:30"},
		// Where nats-server's stepping errs, the rule still holds: Santiago's 2026 midnight
		// of 6 September does not exist, but 1 October's does (nats-server gives 1 November);
		// Lord Howe falls back half an hour at 02:00 on 5 April, so 02:00 happens once, at
		// +10:30 (nats-server gives the 6th).
		{"America/Santiago", "@monthly", "2026-09-05T12:00:00-04:00", "2026-10-01T00:00:00-03:00"},
		{"America/Santiago", "@daily", "2026-09-05T12:00:00-04:00", "2026-09-07T00:00:00-03:00"},
		{"Australia/Lord_Howe", "0 0 2 * * *", "2026-04-05T01:00:00+11:00", "2026-04-05T02:00:00+10:30"},
	}
	for _, c := range cases {
		loc, err := tzdb.Load(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		from, err := time.Parse(time.RFC3339, c.from)
		if err != nil {
			t.Fatal(err)
		}
		cr, err := parseCronPattern(cronAlias(c.pattern))
		if err != nil {
			t.Fatalf("%q: %v", c.pattern, err)
		}
		got, ok := cr.next(from, loc)
		if !ok || got.Format(time.RFC3339) != c.want {
			t.Errorf("%s %q from %s: %s %v, want %s", c.zone, c.pattern, c.from, got.Format(time.RFC3339), ok, c.want)
		}
	}
}

// Property: in any zone of the database, near any of its offset changes, next is the first
// whole second after the start at which the zone's wall clock matches the pattern (checked
// by walking every minute in between).
func TestCronNextIsFirstMatchingInstant(t *testing.T) {
	names := tzdb.Names()
	rapid.Check(t, func(rt *rapid.T) {
		loc, err := tzdb.Load(rapid.SampledFrom(names).Draw(rt, "zone"))
		if err != nil {
			rt.Fatal(err)
		}
		start := time.Unix(rapid.Int64Range(1704067200, 1924992000).Draw(rt, "unix"), 0).In(loc) // 2024 to 2031
		if _, end := start.ZoneBounds(); !end.IsZero() {
			start = end.Add(time.Duration(rapid.IntRange(-36*3600, 12*3600).Draw(rt, "fromChange")) * time.Second)
		}
		minutes := rapid.SliceOfNDistinct(rapid.IntRange(0, 59), 1, 3, rapid.ID[int]).Draw(rt, "minutes")
		hours := rapid.SliceOfNDistinct(rapid.IntRange(0, 23), 1, 3, rapid.ID[int]).Draw(rt, "hours")
		days := "*"
		weekday := -1
		if rapid.Bool().Draw(rt, "weekly") {
			weekday = rapid.IntRange(0, 6).Draw(rt, "weekday")
			days = strconv.Itoa(weekday)
		}
		pattern := "0 " + joinInts(minutes) + " " + joinInts(hours) + " * * " + days
		c, err := parseCronPattern(pattern)
		if err != nil {
			rt.Fatalf("%q: %v", pattern, err)
		}
		matches := func(u time.Time) bool {
			return u.Second() == 0 && slices.Contains(minutes, u.Minute()) && slices.Contains(hours, u.Hour()) &&
				(weekday < 0 || int(u.Weekday()) == weekday)
		}
		got, ok := c.next(start, loc)
		if !ok || !got.After(start) || !matches(got) || got.Location() != loc {
			rt.Fatalf("%q in %s from %s: %s %v", pattern, loc, start.Format(time.RFC3339), got.Format(time.RFC3339), ok)
		}
		for u := start.Truncate(time.Minute).Add(time.Minute); u.Before(got); u = u.Add(time.Minute) {
			if matches(u.In(loc)) {
				rt.Fatalf("%q in %s from %s: %s, but %s matches earlier", pattern, loc, start.Format(time.RFC3339),
					got.Format(time.RFC3339), u.In(loc).Format(time.RFC3339))
			}
		}
	})
}

func joinInts(vs []int) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}
