// Package tzdb is the IANA time zone database, embedded, so that deterministic code can read
// a time in any zone without host I/O. time.LoadLocation reads $ZONEINFO and the host's
// zoneinfo directories, which differ between hosts (and versions) and which the simulator
// cannot see; the embedded copy gives a real server and a simulated one the same answers.
//
// The data is Go's copy of the database (GOROOT/lib/time/zoneinfo.zip, refreshed with
// `make tzdata`; tzdata 2025c at Go 1.26): a zip of TZif files, one per zone name, stored
// uncompressed.
package tzdb

import (
	"archive/zip"
	_ "embed" // the zone data
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

//go:embed zoneinfo.zip
var zipData string

// zones finds a zone's file by name; built once from the embedded data and only read after.
var zones = index(zipData)

func index(data string) map[string]*zip.File {
	r, err := zip.NewReader(strings.NewReader(data), int64(len(data)))
	if err != nil {
		panic(fmt.Sprintf("tzdb: the embedded zone database is unreadable: %v", err))
	}
	m := make(map[string]*zip.File, len(r.File))
	for _, f := range r.File {
		m[f.Name] = f
	}
	return m
}

// Load returns the zone named name, as the IANA database spells it ("Europe/Berlin",
// "US/Eastern", "Etc/GMT+5"; case matters). "UTC" is time.UTC. The host's zone ("Local") is
// not in the database: the engine has no host zone.
func Load(name string) (*time.Location, error) {
	if name == "UTC" {
		return time.UTC, nil
	}
	f, ok := zones[name]
	if !ok {
		return nil, fmt.Errorf("time zone %q is not in the IANA database", name)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// Names lists the zones the database holds, sorted.
func Names() []string {
	return slices.Sorted(maps.Keys(zones))
}
