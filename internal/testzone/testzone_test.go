package testzone

import (
	"testing"
	"time"
	_ "time/tzdata" // as config links it: the zones load without system tzdata
)

// TestZonesAllDay checks both zones at every minute of a UTC day.
func TestZonesAllDay(t *testing.T) {
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for now := day; now.Before(day.AddDate(0, 0, 1)); now = now.Add(time.Minute) {
		utcDay := now.Format(time.DateOnly)
		mid, err := time.LoadLocation(midday(now))
		if err != nil {
			t.Fatal(err)
		}
		local := now.In(mid)
		if m := local.Hour()*60 + local.Minute(); m < 11*60+30 || m > 12*60+30 || local.Format(time.DateOnly) != utcDay {
			t.Errorf("at %s UTC, midday zone %s: %s there", now.Format("15:04"), midday(now), local.Format(time.DateTime))
		}
		other, err := time.LoadLocation(notOnUTCDay(now))
		if err != nil {
			t.Fatal(err)
		}
		there := now.In(other)
		if h := there.Hour(); there.Format(time.DateOnly) == utcDay || h < 1 || h >= 23 {
			t.Errorf("at %s UTC, zone off UTC's day %s: %s there", now.Format("15:04"), notOnUTCDay(now), there.Format(time.DateTime))
		}
	}
}
