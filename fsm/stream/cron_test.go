package stream

import (
	"testing"
	"time"
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
		got, ok := cr.next(base)
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
	if _, ok := cr.next(base); ok {
		t.Error("February 30th fired")
	}
}
