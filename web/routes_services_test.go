package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/report"
	"github.com/hallwatch/hallwatch/store"
)

// The services report counts and times the stored services per window and
// day, per center, per hour, in JSON and CSV, within the caller's scope.
func TestServicesReportAPI(t *testing.T) {
	r := newAuthRig(t, rigOptions{analytics: cam1Analytics})
	ref, _ := r.cfg.Camera("cam1")
	loc := ref.Center.Location()
	now := time.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -1)
	var evs []store.EventRecord
	for i, secs := range []float64{60, 120, 300} {
		end := day.Add(9*time.Hour + time.Duration(i)*20*time.Minute)
		evs = append(evs, store.EventRecord{Event: events.Event{Type: events.TypeService, Camera: "cam1", Window: "w1", Track: i + 1,
			Duration: secs, Time: end}, District: "d1", Center: "c1", Loc: loc})
	}
	evs = append(evs, store.EventRecord{Event: events.Event{Type: events.TypeService, Camera: "cam2", Window: "x", Duration: 45,
		Time: day.Add(10 * time.Hour)}, District: "d2", Center: "c2", Loc: loc})
	if err := r.st.AppendEvents(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
	q := "?from=" + day.Format(time.DateOnly) + "&to=" + day.Format(time.DateOnly)

	var all serviceAnswer
	r.call(t, r.login(t, "root", passwordAdmin), "GET", "/api/reports/services"+q, "", 200, &all)
	if len(all.Windows) != 1 {
		t.Fatalf("window rows %+v, want w1's", all.Windows)
	}
	want := report.ServiceStats{Center: "c1", Camera: "cam1", Window: "w1", WindowName: "1号窗口", Start: day.Format(time.DateOnly),
		Services: 3, MedianSec: 120, P90Sec: 264}
	if all.Windows[0] != want {
		t.Errorf("w1: %+v, want %+v", all.Windows[0], want)
	}
	if len(all.Days) != 2 || all.Days[1].Center != "c2" || all.Days[1].Services != 1 {
		t.Errorf("days %+v, want c1's and c2's", all.Days)
	}
	if len(all.Hours) != 3 || all.Hours[0].Services != 1 || all.Hours[1].Services != 2 || all.Hours[2].Center != "c2" {
		t.Errorf("hours %+v, want c1's 08:00 (one start, 08:59), 09:00 (09:18, 09:35), then c2's", all.Hours)
	}

	mgr := r.login(t, "mgr", passwordMgr)
	var own serviceAnswer
	r.call(t, mgr, "GET", "/api/reports/services"+q, "", 200, &own)
	for _, d := range own.Days {
		if d.Center != "c1" {
			t.Errorf("the center manager of c1 sees %s's services", d.Center)
		}
	}
	resp, body := r.do(t, mgr, "GET", "/api/reports/services.csv"+q, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "c1,cam1,w1,1号窗口,day,"+day.Format(time.DateOnly)+",3,120.0,264.0") ||
		strings.Contains(string(body), "c2") {
		t.Errorf("CSV %d:\n%s", resp.StatusCode, body)
	}
	resp, _ = r.do(t, mgr, "GET", "/api/reports/services?center=c2", "", nil)
	if resp.StatusCode != 403 {
		t.Errorf("a center manager asking for another center: %d, want 403", resp.StatusCode)
	}
}
