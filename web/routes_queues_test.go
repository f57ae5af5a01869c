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

// cam1Queues is cam1Analytics with a queue zone feeding w1.
const cam1Queues = cam1Analytics + `              queue_zones:
                - id: seats
                  name: 等候区
                  zone: [[0.1, 0.6], [0.9, 0.6], [0.9, 0.75], [0.1, 0.75]]
                  windows: [w1]
`

// queueRecords are yesterday's queue minutes and waits at c1 (and one of
// c2's): 3 then 6 people waiting in the 9:00 hour, 2 in the 10:00 hour;
// waits of 5, 10 and 20 minutes, the last estimated.
func queueRecords(day time.Time, loc *time.Location) []store.EventRecord {
	var evs []store.EventRecord
	minute := func(center string, at time.Time, most int, mean float64) {
		evs = append(evs, store.EventRecord{Event: events.Event{Type: events.TypeQueue, Camera: "cam1", Zone: "seats", Count: &most,
			Mean: mean, Time: at}, District: "d1", Center: center, Loc: loc})
	}
	minute("c1", day.Add(9*time.Hour), 3, 2)
	minute("c1", day.Add(9*time.Hour+time.Minute), 6, 5)
	minute("c1", day.Add(10*time.Hour), 2, 1)
	minute("c2", day.Add(10*time.Hour), 9, 9)
	for i, w := range []struct {
		mins      int
		window    string
		estimated bool
	}{{5, "w1", false}, {10, "w1", false}, {20, "", true}} {
		reached := day.Add(9*time.Hour + time.Duration(30+i)*time.Minute)
		evs = append(evs, store.EventRecord{Event: events.Event{Type: events.TypeWait, Camera: "cam1", Zone: "seats", Window: w.window,
			Track: i + 1, Duration: float64(w.mins * 60), Estimated: w.estimated, Time: reached}, District: "d1", Center: "c1", Loc: loc})
	}
	return evs
}

// The queues report gives each day's people waiting, busiest hour, waits
// (estimates counted apart) and longest waits, per hour too, in JSON and
// CSV, within the caller's scope: planners see their centers' reports, a
// center manager only their own center's.
func TestQueuesReportAPI(t *testing.T) {
	r := newAuthRig(t, rigOptions{analytics: cam1Queues})
	ref, _ := r.cfg.Camera("cam1")
	loc := ref.Center.Location()
	now := time.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -1)
	if err := r.st.AppendEvents(context.Background(), queueRecords(day, loc)); err != nil {
		t.Fatal(err)
	}
	q := "?from=" + day.Format(time.DateOnly) + "&to=" + day.Format(time.DateOnly)

	var all, planned queueAnswer
	r.call(t, r.login(t, "root", passwordAdmin), "GET", "/api/reports/queues"+q, "", 200, &all)
	r.call(t, r.login(t, "plan", passwordPlanner), "GET", "/api/reports/queues"+q, "", 200, &planned)
	if len(planned.Days) == 0 || planned.Days[0].Center != "c1" || planned.Days[0].Waits != 3 {
		t.Errorf("the planner sees %+v", planned.Days)
	}
	nine := day.Add(9 * time.Hour).Format(time.RFC3339)
	want := report.QueueStats{Center: "c1", Start: day.Format(time.DateOnly), MaxPeople: 6, MeanPeople: 2.7, Waits: 3, Estimated: 1,
		MedianWait: 600, P90Wait: 1080, MaxWait: 1200, BusiestHour: nine}
	if len(all.Days) != 2 || all.Days[0] != want || all.Days[1].Center != "c2" || all.Days[1].MaxPeople != 9 {
		t.Fatalf("days %+v, want %+v then c2's", all.Days, want)
	}
	if len(all.Hours) != 3 || all.Hours[0].Start != nine || all.Hours[0].MaxPeople != 6 || all.Hours[0].MeanPeople != 3.5 || all.Hours[0].Waits != 3 ||
		all.Hours[1].MaxPeople != 2 || all.Hours[1].Waits != 0 {
		t.Errorf("hours %+v", all.Hours)
	}
	if len(all.Longest) != 3 || all.Longest[0].Seconds != 1200 || !all.Longest[0].Estimated || all.Longest[0].ZoneName != "等候区" ||
		all.Longest[1].Seconds != 600 || all.Longest[1].Window != "w1" || all.Longest[1].WindowName != "1号窗口" {
		t.Errorf("longest waits %+v", all.Longest)
	}

	mgr := r.login(t, "mgr", passwordMgr)
	var own queueAnswer
	r.call(t, mgr, "GET", "/api/reports/queues"+q, "", 200, &own)
	if len(own.Days) != 1 || own.Days[0].Center != "c1" {
		t.Errorf("the center manager of c1 sees %+v", own.Days)
	}
	resp, body := r.do(t, mgr, "GET", "/api/reports/queues.csv"+q, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "c1,day,"+day.Format(time.DateOnly)+",6,2.7,3,1,600.0,1080.0,1200.0,"+nine) ||
		!strings.Contains(string(body), ",1200.0,,cam1,seats,\n") || strings.Contains(string(body), "c2") {
		t.Errorf("CSV %d:\n%s", resp.StatusCode, body)
	}
	resp, _ = r.do(t, mgr, "GET", "/api/reports/queues?center=c2", "", nil)
	if resp.StatusCode != 403 {
		t.Errorf("a center manager asking for another center: %d, want 403", resp.StatusCode)
	}
}
