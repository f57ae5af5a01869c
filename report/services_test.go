package report

import (
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// The services of a center are counted and timed per window and day, per
// day and per hour, in the center's time zone; medians and p90s are of
// the durations.
func TestServicesReport(t *testing.T) {
	center := &config.Center{ID: "c1", Timezone: "Asia/Shanghai", Cameras: []config.Camera{{ID: "cam1", Analytics: &config.Analytics{
		Windows: []config.Window{{ID: "w1", Name: "1号窗口"}, {ID: "w2", Name: "2号窗口"}}}}}}
	loc := center.Location()
	at := func(day, hour, min int) time.Time { return time.Date(2026, 3, day, hour, min, 0, 0, loc) }
	svc := func(window string, start time.Time, secs int) store.Service {
		return store.Service{Center: "c1", Camera: "cam1", Window: window, Start: start.UTC(), End: start.Add(time.Duration(secs) * time.Second).UTC()}
	}
	// Day 2, w1: 60, 120, 180, 240, 600 s; w2: 30 s. Day 3 (00:30 local,
	// still the 2nd in UTC): w2 90 s.
	in := []store.Service{
		svc("w1", at(2, 9, 0), 60), svc("w1", at(2, 9, 20), 120), svc("w1", at(2, 9, 40), 180),
		svc("w1", at(2, 10, 0), 240), svc("w1", at(2, 14, 0), 600), svc("w2", at(2, 9, 5), 30),
		svc("w2", at(3, 0, 30), 90),
	}
	r := Services(center, in)
	if len(r.Windows) != 3 {
		t.Fatalf("window rows %+v, want w1 day 2, w2 day 2, w2 day 3", r.Windows)
	}
	w1 := r.Windows[0]
	if w1.Window != "w1" || w1.WindowName != "1号窗口" || w1.Start != "2026-03-02" || w1.Services != 5 || w1.MedianSec != 180 || w1.P90Sec != 456 {
		t.Errorf("w1 day 2: %+v, want 5 services, median 180 s, p90 456 s", w1)
	}
	if w2 := r.Windows[2]; w2.Window != "w2" || w2.Start != "2026-03-03" || w2.Services != 1 || w2.MedianSec != 90 {
		t.Errorf("w2 day 3: %+v", w2)
	}
	if len(r.Days) != 2 || r.Days[0].Services != 6 || r.Days[0].MedianSec != 150 || r.Days[1].Services != 1 {
		t.Errorf("days %+v, want 6 services (median 150 s) then 1", r.Days)
	}
	if len(r.Hours) != 4 || r.Hours[0].Start != "2026-03-02T09:00:00+08:00" || r.Hours[0].Services != 4 {
		t.Errorf("hours %+v, want 09:00 with 4 first of 4 hours", r.Hours)
	}
	if len(r.Totals) != 3 || r.Totals[0].Services != 5 || r.Totals[1].Window != "w2" || r.Totals[1].Services != 2 || r.Totals[1].MedianSec != 60 ||
		r.Totals[2].Window != "" || r.Totals[2].Services != 7 || r.Totals[2].MedianSec != 120 {
		t.Errorf("totals %+v, want w1 5, w2 2 (median 60 s), center 7 (median 120 s)", r.Totals)
	}
	if empty := Services(center, nil); len(empty.Totals)+len(empty.Windows)+len(empty.Days)+len(empty.Hours) != 0 {
		t.Errorf("no services: %+v", empty)
	}
}
