package tzdb

import (
	"os"
	"testing"
	"time"
)

// Every zone of the embedded database loads and, where the host has the same zone, tells
// the same offsets as the host's database over the years schedules live in. The two copies
// may be of different tzdata releases, so a zone may differ in a rule change between them:
// the test allows a few such zones and lists them.
func TestEveryZoneLoadsAndAgreesWithTheHost(t *testing.T) {
	names := Names()
	if len(names) < 500 {
		t.Fatalf("the embedded database holds %d zones", len(names))
	}
	_, hostErr := os.Stat("/usr/share/zoneinfo/Europe/Berlin")
	var differ []string
	for _, name := range names {
		loc, err := Load(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if hostErr != nil {
			continue
		}
		host, err := time.LoadLocation(name)
		if err != nil {
			t.Errorf("the host lacks %s: %v", name, err)
			continue
		}
		for at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2031; at = at.Add(7 * 24 * time.Hour) {
			_, a := at.In(loc).Zone()
			_, b := at.In(host).Zone()
			if a != b {
				differ = append(differ, name)
				break
			}
		}
	}
	if len(differ) > 3 {
		t.Errorf("%d zones disagree with the host's database: %v", len(differ), differ)
	} else if len(differ) > 0 {
		t.Logf("zones that differ from the host's database (another tzdata release): %v", differ)
	}
}

func TestLoad(t *testing.T) {
	if loc, err := Load("UTC"); err != nil || loc != time.UTC {
		t.Fatalf("UTC: %v %v", loc, err)
	}
	ny, err := Load("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// The spring-forward day of 2026: 06:59:59Z is 01:59:59 EST, 07:00:00Z is 03:00 EDT.
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC), "2026-03-08T01:59:59-05:00"},
		{time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC), "2026-03-08T03:00:00-04:00"},
	} {
		if got := c.at.In(ny).Format(time.RFC3339); got != c.want {
			t.Errorf("%v in New York is %s, want %s", c.at, got, c.want)
		}
	}
	if ny.String() != "America/New_York" {
		t.Errorf("the zone is named %q", ny)
	}
	for _, bad := range []string{"", "Local", "Not/A/Zone", "america/new_york", "../zoneinfo.zip", "/etc/localtime", "America/"} {
		if _, err := Load(bad); err == nil {
			t.Errorf("%q loaded", bad)
		}
	}
}
