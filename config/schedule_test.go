package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	const day = 24 * time.Hour
	for in, want := range map[string]time.Duration{
		"9600h": 400 * day, "400d": 400 * day, "1d12h": 36 * time.Hour, "0": 0, "0s": 0,
		"1.5h": 90 * time.Minute, "90s": 90 * time.Second, "0d": 0,
	} {
		if got, err := parseDuration(in); err != nil || got.D() != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got.D(), err, want)
		}
	}
	for _, in := range []string{"", "d", "1.5d", "5 minutes", "-1s", "60", "1d-1h", "99999999999d", "106751d24h", "+1d", "1dd"} {
		if got, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, got.D())
		}
	}
}

func TestParseScheduleEntry(t *testing.T) {
	for in, want := range map[string]string{
		"mon-fri 09:00-12:00":         "mon-fri 09:00-12:00",
		"Sat 09:00-12:00":             "sat 09:00-12:00",
		"mon,wed,fri 13:30-17:30":     "mon,wed,fri 13:30-17:30",
		"daily 08:00-18:00":           "daily 08:00-18:00",
		"mon-sun 00:00-24:00":         "daily 00:00-24:00",
		"mon-wed,fri,sat 07:05-07:06": "mon-wed,fri-sat 07:05-07:06",
		"  sun   20:00-24:00 ":        "sun 20:00-24:00",
	} {
		e, err := parseScheduleEntry(in)
		if err != nil || e.String() != want {
			t.Errorf("parseScheduleEntry(%q) = %q, %v; want %q", in, e.String(), err, want)
		}
	}
	e, _ := parseScheduleEntry("mon,wed 09:30-24:00")
	if e.Start != 9*60+30 || e.End != 24*60 || !e.Days.Has(time.Monday) || !e.Days.Has(time.Wednesday) || e.Days.Has(time.Sunday) {
		t.Errorf("fields = %+v", e)
	}
}

// hall is a center in Shanghai (UTC+8) whose window opens on weekdays
// 09:00-12:00 and 13:30-17:30 (lunch break between) and Saturday mornings.
func hall(t *testing.T) (*Window, *Center) {
	cfg := mustParse(t, edit(t,
		"        name: 东华门中心", "        name: 东华门中心\n        holidays: [2026-10-01]",
		"schedule: [mon-fri 09:00-12:00]", "schedule: [mon-fri 09:00-12:00, mon-fri 13:30-17:30, sat 09:00-12:00]\n                  holidays: [2026-03-20]"))
	ref, _ := cfg.Camera("cam1")
	return &ref.Camera.Analytics.Windows[0], ref.Center
}

func TestOpenAt(t *testing.T) {
	w, c := hall(t)
	cst := time.FixedZone("CST", 8*3600)
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 3, 16, 8, 59, 59, 0, cst), false}, // Monday, before opening
		{time.Date(2026, 3, 16, 9, 0, 0, 0, cst), true},    // start is included
		{time.Date(2026, 3, 16, 11, 59, 59, 0, cst), true},
		{time.Date(2026, 3, 16, 12, 0, 0, 0, cst), false}, // end is excluded: lunch break
		{time.Date(2026, 3, 16, 13, 0, 0, 0, cst), false},
		{time.Date(2026, 3, 16, 13, 30, 0, 0, cst), true},
		{time.Date(2026, 3, 16, 17, 30, 0, 0, cst), false},
		{time.Date(2026, 3, 21, 10, 0, 0, 0, cst), true},  // Saturday morning
		{time.Date(2026, 3, 21, 14, 0, 0, 0, cst), false}, // Saturday afternoon
		{time.Date(2026, 3, 22, 10, 0, 0, 0, cst), false}, // Sunday
		{time.Date(2026, 3, 20, 10, 0, 0, 0, cst), false}, // Friday, window holiday
		{time.Date(2026, 10, 1, 10, 0, 0, 0, cst), false}, // Thursday, center holiday
		// Times in UTC are read in the center's zone: 01:30 UTC is 09:30 in Shanghai.
		{time.Date(2026, 3, 16, 1, 30, 0, 0, time.UTC), true},
		// Sunday 17:00 UTC is Monday 01:00 in Shanghai: closed, but a Monday.
		{time.Date(2026, 3, 15, 17, 0, 0, 0, time.UTC), false},
		// Sunday 20:00 in Los Angeles is Monday 11:00 in Shanghai.
		{time.Date(2026, 3, 15, 20, 0, 0, 0, mustZone(t, "America/Los_Angeles")), true},
		// 2026-09-30 16:30 UTC is 10-01 00:30 in Shanghai: the holiday.
		{time.Date(2026, 9, 30, 16, 30, 0, 0, time.UTC), false},
	} {
		if got := w.OpenAt(tc.at, c); got != tc.want {
			t.Errorf("OpenAt(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	always := &Window{}
	if !always.OpenAt(time.Date(2026, 3, 22, 3, 0, 0, 0, cst), c) {
		t.Error("empty schedule: closed, want open")
	}
	if always.OpenAt(time.Date(2026, 10, 1, 3, 0, 0, 0, cst), c) {
		t.Error("empty schedule on a center holiday: open, want closed")
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestOpenIntervals(t *testing.T) {
	w, c := hall(t)
	sh := mustZone(t, "Asia/Shanghai")
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, sh) }
	// Any instant of the local day selects it, even given in another zone:
	// 2026-03-15 18:00 UTC is Monday 16 March 02:00 in Shanghai.
	got := w.OpenIntervals(time.Date(2026, 3, 15, 18, 0, 0, 0, time.UTC), c)
	want := [][2]time.Time{{at(16, 9, 0), at(16, 12, 0)}, {at(16, 13, 30), at(16, 17, 30)}}
	if !equalIntervals(got, want) {
		t.Errorf("Monday: %v, want %v", got, want)
	}
	if got := w.OpenIntervals(at(21, 23, 0), c); !equalIntervals(got, [][2]time.Time{{at(21, 9, 0), at(21, 12, 0)}}) {
		t.Errorf("Saturday: %v", got)
	}
	for _, day := range []time.Time{at(22, 12, 0), at(20, 12, 0), time.Date(2026, 10, 1, 0, 0, 0, 0, sh)} {
		if got := w.OpenIntervals(day, c); len(got) != 0 {
			t.Errorf("%v (Sunday or holiday): %v, want none", day, got)
		}
	}
	// Touching entries merge; entries come sorted; 24:00 ends at the next midnight.
	s := &Window{Schedule: Schedule{mustEntry(t, "mon 12:00-13:00"), mustEntry(t, "mon 20:00-24:00"), mustEntry(t, "mon 09:00-12:00")}}
	got = s.OpenIntervals(at(16, 10, 0), c)
	want = [][2]time.Time{{at(16, 9, 0), at(16, 13, 0)}, {at(16, 20, 0), at(17, 0, 0)}}
	if !equalIntervals(got, want) {
		t.Errorf("merged: %v, want %v", got, want)
	}
	// Empty schedule: the whole local day.
	got = (&Window{}).OpenIntervals(at(22, 15, 0), c)
	if !equalIntervals(got, [][2]time.Time{{at(22, 0, 0), at(23, 0, 0)}}) {
		t.Errorf("always open: %v", got)
	}
}

// TestOpenIntervalsDST checks wall-clock hours on the day clocks go forward
// in Berlin (2026-03-29, 02:00 → 03:00): daily 01:00-04:00 lasts 2 hours.
func TestOpenIntervalsDST(t *testing.T) {
	cfg := mustParse(t, edit(t,
		"        name: 东华门中心", "        name: 东华门中心\n        timezone: Europe/Berlin",
		"schedule: [mon-fri 09:00-12:00]", "schedule: [daily 01:00-04:00]"))
	ref, _ := cfg.Camera("cam1")
	w := &ref.Camera.Analytics.Windows[0]
	berlin := mustZone(t, "Europe/Berlin")
	got := w.OpenIntervals(time.Date(2026, 3, 29, 12, 0, 0, 0, berlin), ref.Center)
	if len(got) != 1 || got[0][1].Sub(got[0][0]) != 2*time.Hour || got[0][0].UTC().Hour() != 0 {
		t.Errorf("DST day: %v", got)
	}
	if !w.OpenAt(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), ref.Center) { // 03:30 CEST
		t.Error("03:30 CEST: closed, want open")
	}
}

func mustEntry(t *testing.T, s string) ScheduleEntry {
	e, err := parseScheduleEntry(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func equalIntervals(a, b [][2]time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i][0].Equal(b[i][0]) || !a[i][1].Equal(b[i][1]) {
			return false
		}
	}
	return true
}
