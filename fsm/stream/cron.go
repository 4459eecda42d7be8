package stream

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// A cron schedule (ADR-51's patterns): six fields, seconds minutes hours day-of-month month
// day-of-week, each "*" (or "?" for the days), a number or name, a range "a-b", a step
// "*/n" or "a-b/n" or "a/n", or a list of those separated by commas. When both day fields
// are restricted a day matching either fires, as in classic cron.

// cron is a parsed pattern: one bit per allowed value of each field.
type cron struct {
	second, minute, hour, dom, month, dow uint64
	domAny, dowAny                        bool
}

type cronField struct {
	min, max uint
	names    map[string]uint
}

var (
	cronMonths = map[string]uint{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
		"jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
	cronDays   = map[string]uint{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
	cronFields = [6]cronField{{0, 59, nil}, {0, 59, nil}, {0, 23, nil}, {1, 31, nil}, {1, 12, cronMonths}, {0, 7, cronDays}}

	errCron = errors.New("invalid cron pattern")
)

// cronSearchMax bounds the steps looking for a cron pattern's next time (a pattern that
// never fires, like February 30th, ends the search).
const cronSearchMax = 100000

func parseCronPattern(pattern string) (*cron, error) {
	fs := strings.Fields(pattern)
	if len(fs) != 6 {
		return nil, errCron
	}
	var bits [6]uint64
	for i, f := range fs {
		b, err := cronBits(f, cronFields[i])
		if err != nil {
			return nil, err
		}
		bits[i] = b
	}
	c := &cron{second: bits[0], minute: bits[1], hour: bits[2], dom: bits[3], month: bits[4], dow: bits[5]}
	if c.dow&(1<<7) != 0 {
		c.dow |= 1 // 7 is Sunday too
	}
	c.domAny = fs[3] == "*" || fs[3] == "?"
	c.dowAny = fs[5] == "*" || fs[5] == "?"
	return c, nil
}

func cronBits(field string, r cronField) (uint64, error) {
	var bits uint64
	for _, part := range strings.Split(field, ",") {
		b, err := cronRange(strings.ToLower(part), r)
		if err != nil {
			return 0, err
		}
		bits |= b
	}
	return bits, nil
}

func cronRange(expr string, r cronField) (uint64, error) {
	lo, hi, step := r.min, r.max, uint(1)
	body, stepText, hasStep := strings.Cut(expr, "/")
	if hasStep {
		n, err := strconv.ParseUint(stepText, 10, 8)
		if err != nil || n == 0 {
			return 0, errCron
		}
		step = uint(n)
	}
	switch {
	case body == "*" || body == "?":
	case strings.Contains(body, "-"):
		a, b, _ := strings.Cut(body, "-")
		var err1, err2 error
		lo, err1 = cronValue(a, r)
		hi, err2 = cronValue(b, r)
		if err1 != nil || err2 != nil || lo > hi {
			return 0, errCron
		}
	default:
		v, err := cronValue(body, r)
		if err != nil {
			return 0, err
		}
		lo = v
		if !hasStep {
			hi = v
		}
	}
	var bits uint64
	for v := lo; v <= hi; v += step {
		bits |= 1 << v
	}
	return bits, nil
}

func cronValue(s string, r cronField) (uint, error) {
	if v, ok := r.names[s]; ok {
		return v, nil
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil || uint(n) < r.min || uint(n) > r.max {
		return 0, errCron
	}
	return uint(n), nil
}

// next is the first whole second strictly after t at which the pattern matches the wall
// clock in loc (the result is in loc); ok is false if none is found within the search bound.
// Across a daylight saving change this is nats-server's behaviour: a wall time the change
// skips (02:30 on a spring-forward night in New York) does not fire that day, one it
// repeats (01:30 on a fall-back night) fires at both instants, and "every minute" keeps
// firing every real minute.
func (c *cron) next(t time.Time, loc *time.Location) (time.Time, bool) {
	t = t.Truncate(time.Second).Add(time.Second).In(loc)
	for range cronSearchMax {
		wall := wallClock(t)
		var to time.Time // the wall time to move to: where the failing field may match
		switch {
		case c.month&(1<<uint(t.Month())) == 0:
			to = time.Date(wall.Year(), wall.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !c.dayMatches(t):
			to = time.Date(wall.Year(), wall.Month(), wall.Day()+1, 0, 0, 0, 0, time.UTC)
		case c.hour&(1<<uint(t.Hour())) == 0:
			to = wall.Truncate(time.Hour).Add(time.Hour)
		case c.minute&(1<<uint(t.Minute())) == 0:
			to = wall.Truncate(time.Minute).Add(time.Minute)
		case c.second&(1<<uint(t.Second())) == 0:
			to = wall.Add(time.Second)
		default:
			return t, true
		}
		t = advance(t, to.Sub(wall))
	}
	return time.Time{}, false
}

// wallClock is t's wall clock as a UTC time, for arithmetic without zone changes.
func wallClock(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
}

// advance moves t on by d of wall clock, or only to its zone's next change if that comes
// first: the offset is fixed until then, so no instant skipped reads a wall time in
// between, and past the change the wall clock must be read again. A bound at or before t is
// ignored: Go's ZoneBounds reports one on the last day of a year its rule extends (Africa/
// Ceuta, 2024-12-31: the search stood still and found nothing).
func advance(t time.Time, d time.Duration) time.Time {
	next := t.Add(d)
	if _, end := t.ZoneBounds(); !end.IsZero() && end.After(t) && end.Before(next) {
		return end
	}
	return next
}

func (c *cron) dayMatches(t time.Time) bool {
	dom := c.dom&(1<<uint(t.Day())) != 0
	dow := c.dow&(1<<uint(t.Weekday())) != 0
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}
