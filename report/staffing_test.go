package report

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/store"
)

const cfgYAML = `
districts:
  - id: d1
    name: 东城区
    centers:
      - id: c1
        name: 景山
        holidays: [2026-11-28]
        cameras:
          - id: hall
            name: 大厅
            url: rtsp://127.0.0.1/x
            analytics:
              windows:
                - id: w1
                  name: 1号窗口
                  zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]
                  schedule: ["mon-fri 09:00-12:00", "mon-fri 13:30-17:30"]
`

func TestStaffingMinutes(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(cfgYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, center, _ := cfg.Center("c1")
	loc := center.Location()
	at := func(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, loc) }
	win := func(tm time.Time, state string) store.StoredEvent {
		return store.StoredEvent{Event: events.Event{Type: events.TypeWindow, Camera: "hall", Window: "w1", State: state, Time: tm.UTC()}}
	}
	in := StaffingInput{
		Center: center, From: at(26, 10, 0), To: at(28, 10, 0), Now: at(30, 0, 0),
		Since: map[string]time.Time{"hall": at(20, 9, 0)},
		// Staffed since the day before; on the 26th absent 10:00-10:30
		// and 11:50-14:00 (over the lunch break), unknown 16:00-16:15.
		Before: []store.StoredEvent{win(at(25, 17, 0), events.StateStaffed)},
		Events: []store.StoredEvent{
			win(at(26, 10, 0), events.StateAbsent), win(at(26, 10, 30), events.StateStaffed),
			win(at(26, 11, 50), events.StateAbsent), win(at(26, 14, 0), events.StateStaffed),
			win(at(26, 16, 0), events.StateUnknown), win(at(26, 16, 15), events.StateChecking), win(at(26, 16, 16), events.StateStaffed),
		},
		Alerts: []store.Alert{
			{Kind: events.KindUnstaffed, Camera: "hall", Window: "w1", RaisedAt: at(26, 10, 1).UTC(), Verdict: store.VerdictConfirmed},
			{Kind: events.KindUnstaffed, Camera: "hall", Window: "w1", RaisedAt: at(26, 11, 51).UTC(),
				Verdict: store.VerdictFalseAlarm, VerdictReason: store.ReasonClerkPresent},
			{Kind: events.KindUnstaffed, Camera: "hall", Window: "w1", RaisedAt: at(26, 11, 55).UTC(),
				Verdict: store.VerdictFalseAlarm, VerdictReason: store.ReasonZoneWrong},
			{Kind: events.KindUnstaffed, Camera: "hall", Window: "w1", RaisedAt: at(26, 15, 0).UTC()}, // not acknowledged
			{Kind: events.KindCameraOffline, Camera: "hall", RaisedAt: at(26, 16, 2).UTC(), Verdict: store.VerdictFalseAlarm, VerdictReason: store.ReasonOther},
			{Kind: events.KindUnstaffed, Camera: "hall", Window: "w1", RaisedAt: at(27, 9, 30).UTC(), Verdict: store.VerdictConfirmed},
		},
	}
	rows := Staffing(in)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3 days", len(rows))
	}
	// 26th (Thursday): open 3h + 4h = 420 min; absent 30 + 10 (to 12:00)
	// + 30 (13:30-14:00) = 70 min; unknown 15 min and checking 1 min.
	// Four unstaffed alerts, one confirmed and two false alarms: 2/3.
	want := []WindowDay{
		{Day: "2026-11-26", OpenMinutes: 420, UnstaffedMinutes: 70, UnknownMinutes: 16, Alerts: 4, Confirmed: 1, FalseAlarms: 2, FalseAlarmRate: 2.0 / 3},
		{Day: "2026-11-27", OpenMinutes: 420, Alerts: 1, Confirmed: 1, FalseAlarmRate: 0},
		{Day: "2026-11-28", FalseAlarmRate: -1}, // holiday (and Saturday)
	}
	for i, w := range want {
		r := rows[i]
		if r.Day != w.Day || r.OpenMinutes != w.OpenMinutes || r.UnstaffedMinutes != w.UnstaffedMinutes ||
			r.UnknownMinutes != w.UnknownMinutes || r.Alerts != w.Alerts || r.Confirmed != w.Confirmed ||
			r.FalseAlarms != w.FalseAlarms || math.Abs(r.FalseAlarmRate-w.FalseAlarmRate) > 1e-9 {
			t.Errorf("row %d = %+v, want %+v", i, r, w)
		}
	}
	// The rest of the open time the window's own clerk was there.
	if rows[0].StaffedMinutes != 420-70-16 || rows[1].StaffedMinutes != 420 || rows[0].BackupMinutes != 0 || rows[0].CoveringMinutes != 0 {
		t.Errorf("staffed minutes %v and %v, want 334 and 420, none by backup", rows[0].StaffedMinutes, rows[1].StaffedMinutes)
	}
	// Over the three days: two confirmed, two false alarms.
	if tot := Totals(rows); len(tot) != 1 || tot[0].Confirmed != 2 || tot[0].FalseAlarms != 2 || tot[0].FalseAlarmRate != 0.5 {
		t.Errorf("totals %+v, want 2 confirmed and 2 false alarms: rate 0.5", tot)
	}

	// Today is clipped at now: the afternoon has not happened yet.
	in.Now = at(27, 12, 0)
	if r := Staffing(in)[1]; r.OpenMinutes != 180 {
		t.Errorf("today's open minutes %v at noon, want 180", r.OpenMinutes)
	}
}

func TestStaffingUnknownBeforeAnyEvent(t *testing.T) {
	cfg, _ := config.Parse("t.yaml", []byte(cfgYAML), nil)
	_, center, _ := cfg.Center("c1")
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, center.Location())
	rows := Staffing(StaffingInput{Center: center, From: at, To: at, Now: at.AddDate(0, 0, 2), Since: map[string]time.Time{"hall": at.AddDate(0, 0, -1)}})
	if len(rows) != 1 || rows[0].UnknownMinutes != 420 || rows[0].UnstaffedMinutes != 0 {
		t.Fatalf("a window analysed without results: %+v", rows)
	}
}

// TestStaffingStartsWhenAnalysisBegan: days before a camera was analysed
// have no rows, the hours of its first day before it count as nothing, a
// camera never analysed has no rows, and days after today none either.
func TestStaffingStartsWhenAnalysisBegan(t *testing.T) {
	cfg, _ := config.Parse("t.yaml", []byte(cfgYAML), nil)
	_, center, _ := cfg.Center("c1")
	loc := center.Location()
	at := func(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, loc) }
	since := at(24, 10, 0) // a Tuesday, mid-morning
	in := StaffingInput{Center: center, From: at(20, 0, 0), To: at(30, 0, 0), Now: at(26, 23, 0),
		Since:  map[string]time.Time{"hall": since},
		Events: []store.StoredEvent{{Event: events.Event{Type: events.TypeWindow, Camera: "hall", Window: "w1", State: events.StateStaffed, Time: since.Add(30 * time.Minute).UTC()}}},
		Alerts: []store.Alert{{Kind: events.KindUnstaffed, Camera: "hall", Window: "w1", RaisedAt: at(25, 10, 0).UTC()}}}
	rows := Staffing(in)
	var days []string
	for _, r := range rows {
		days = append(days, r.Day)
	}
	if fmt.Sprint(days) != "[2026-11-24 2026-11-25 2026-11-26]" {
		t.Fatalf("days %v, want from the first analysed day to today", days)
	}
	// 24th: open 10:00-12:00 and 13:30-17:30 = 360 min, of which 30 unknown.
	if r := rows[0]; r.OpenMinutes != 360 || r.UnknownMinutes != 30 {
		t.Errorf("first day %+v, want 360 open minutes from 10:00, 30 unknown", r)
	}
	tot := Totals(rows)
	if len(tot) != 1 || tot[0].Days != 3 || tot[0].OpenMinutes != 360+420+420 || tot[0].Alerts != 1 ||
		tot[0].FirstDay != "2026-11-24" || tot[0].AlertsPerDay != 1.0/3 || tot[0].OpenPerDay != 400 {
		t.Errorf("totals %+v", tot)
	}
	in.Since = map[string]time.Time{}
	if rows := Staffing(in); len(rows) != 0 {
		t.Errorf("a camera never analysed has %d rows", len(rows))
	}
}

// TestStaffingABPost: window w1's clerk is away 10:00-10:41 and w2's clerk
// covers it 10:02-10:40: w1 is staffed by its backup then, w2 covering;
// only the handovers are unstaffed.
func TestStaffingABPost(t *testing.T) {
	yaml := cfgYAML + `                  backup: w2
                - id: w2
                  name: 2号窗口
                  zone: [[0.4, 0.1], [0.6, 0.1], [0.6, 0.3], [0.4, 0.3]]
                  schedule: ["mon-fri 09:00-12:00", "mon-fri 13:30-17:30"]
`
	cfg, err := config.Parse("t.yaml", []byte(yaml), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, center, _ := cfg.Center("c1")
	loc := center.Location()
	at := func(hh, mm int) time.Time { return time.Date(2026, 11, 26, hh, mm, 0, 0, loc) }
	win := func(w string, tm time.Time, state string) store.StoredEvent {
		return store.StoredEvent{Event: events.Event{Type: events.TypeWindow, Camera: "hall", Window: w, State: state, Time: tm.UTC()}}
	}
	rows := Staffing(StaffingInput{
		Center: center, From: at(9, 0), To: at(9, 0), Now: at(23, 0),
		Since:  map[string]time.Time{"hall": at(0, 0)},
		Before: []store.StoredEvent{win("w1", at(0, 0).Add(-time.Hour), events.StateStaffed), win("w2", at(0, 0).Add(-time.Hour), events.StateStaffed)},
		Events: []store.StoredEvent{
			win("w1", at(10, 0), events.StateAbsent), win("w1", at(10, 2), events.StateStaffedByBackup),
			win("w1", at(10, 40), events.StateAbsent), win("w1", at(10, 41), events.StateStaffed),
			win("w2", at(10, 1), events.StateAbsent), win("w2", at(10, 2), events.StateCovering),
			win("w2", at(10, 40), events.StateAbsent), win("w2", at(10, 41), events.StateStaffed),
		},
	})
	if len(rows) != 2 {
		t.Fatalf("%d rows, want one per window", len(rows))
	}
	want := map[string][4]float64{ // own, by backup, covering, unstaffed
		"w1": {420 - 41, 38, 0, 3},
		"w2": {420 - 40, 0, 38, 2},
	}
	for _, r := range rows {
		got := [4]float64{r.StaffedMinutes, r.BackupMinutes, r.CoveringMinutes, r.UnstaffedMinutes}
		if got != want[r.Window] {
			t.Errorf("%s: own, backup, covering, unstaffed = %v, want %v", r.Window, got, want[r.Window])
		}
	}
	if tot := Totals(rows); tot[0].BackupMinutes != 38 || tot[1].CoveringMinutes != 38 {
		t.Errorf("totals %+v", tot)
	}
}
