// Package report derives the planners' reports from stored events: the
// daily staffing of each service window (minutes open; of them staffed by
// its own clerk, by its backup's under the AB-post rule, its clerk away
// covering another window, unstaffed and unknown; alerts raised).
package report

import (
	"sort"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/store"
)

// WindowDay is one service window's staffing on one local calendar day.
type WindowDay struct {
	Center      string  `json:"center"`
	Camera      string  `json:"camera"`
	Window      string  `json:"window"`
	WindowName  string  `json:"window_name"`
	Day         string  `json:"day"` // YYYY-MM-DD in the center's zone
	OpenMinutes float64 `json:"open_minutes"`
	// Of the open minutes: staffed by the window's own clerk, by its
	// backup window's clerk (AB post), and the window's clerk away
	// covering the window they are the backup of (not unstaffed: see
	// events.StateCovering).
	StaffedMinutes   float64 `json:"staffed_minutes"`
	BackupMinutes    float64 `json:"backup_minutes"`
	CoveringMinutes  float64 `json:"covering_minutes"`
	UnstaffedMinutes float64 `json:"unstaffed_minutes"` // absent while open
	UnknownMinutes   float64 `json:"unknown_minutes"`   // camera offline, view blocked, checking or not analysed while open
	Alerts           int     `json:"alerts"`            // unstaffed alerts raised that day
	// Confirmed and FalseAlarms count that day's alerts acknowledged with
	// each verdict; FalseAlarmRate is FalseAlarms over both, or -1 when
	// none was judged: how far a manager can trust this window's alerts.
	Confirmed      int     `json:"confirmed"`
	FalseAlarms    int     `json:"false_alarms"`
	FalseAlarmRate float64 `json:"false_alarm_rate"`
}

// StaffingInput is what the report is computed from.
type StaffingInput struct {
	Center *config.Center
	// From and To are local days (any time within them); both included.
	From, To time.Time
	// Before holds each window's last state change before From's midnight
	// (store.LastWindowStates); Events the window events from then on,
	// oldest first; Alerts the center's alerts raised in the range.
	Before, Events []store.StoredEvent
	Alerts         []store.Alert
	// Now clips today's opening hours: the future is not yet unstaffed.
	Now time.Time
	// Since is when each camera's analysis began (store.Coverage). The
	// report of a window starts there: earlier days have no row and the
	// first day's earlier hours count as nothing, not as unknown. Cameras
	// missing from it were never analysed and have no rows.
	Since map[string]time.Time
}

// Staffing computes the report, one row per window and analysed day up to
// today, in configuration order then by day.
func Staffing(in StaffingInput) []WindowDay {
	loc := in.Center.Location()
	from := midnight(in.From.In(loc))
	to := midnight(in.To.In(loc)).AddDate(0, 0, 1)
	var out []WindowDay
	for _, cam := range in.Center.Cameras {
		since, analysed := in.Since[cam.ID]
		if cam.Analytics == nil || !analysed {
			continue
		}
		for i := range cam.Analytics.Windows {
			w := &cam.Analytics.Windows[i]
			tl := newTimeline(cam.ID, w.ID, in.Before, in.Events)
			for day := from; day.Before(to) && !day.After(in.Now); day = day.AddDate(0, 0, 1) {
				if !day.AddDate(0, 0, 1).After(since) {
					continue // before the camera was analysed
				}
				row := WindowDay{Center: in.Center.ID, Camera: cam.ID, Window: w.ID, WindowName: w.Name, Day: day.Format("2006-01-02")}
				for _, iv := range w.OpenIntervals(day, in.Center) {
					start, end := iv[0], iv[1]
					if end.After(in.Now) {
						end = in.Now
					}
					if start.Before(since) {
						start = since
					}
					if !end.After(start) {
						continue
					}
					row.OpenMinutes += end.Sub(start).Minutes()
					row.StaffedMinutes += tl.time(events.StateStaffed, start, end).Minutes()
					row.BackupMinutes += tl.time(events.StateStaffedByBackup, start, end).Minutes()
					row.CoveringMinutes += tl.time(events.StateCovering, start, end).Minutes()
					row.UnstaffedMinutes += tl.time(events.StateAbsent, start, end).Minutes()
					row.UnknownMinutes += tl.time(events.StateUnknown, start, end).Minutes() + tl.time(events.StateChecking, start, end).Minutes()
				}
				next := day.AddDate(0, 0, 1)
				var v store.VerdictCount
				for _, a := range in.Alerts {
					if a.Kind == events.KindUnstaffed && a.Camera == cam.ID && a.Window == w.ID &&
						!a.RaisedAt.Before(day) && a.RaisedAt.Before(next) {
						row.Alerts++
						switch a.Verdict {
						case store.VerdictConfirmed:
							v.Confirmed++
						case store.VerdictFalseAlarm:
							v.FalseAlarms++
						}
					}
				}
				row.Confirmed, row.FalseAlarms, row.FalseAlarmRate = v.Confirmed, v.FalseAlarms, v.FalseAlarmRate()
				out = append(out, row)
			}
		}
	}
	return out
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
}

// timeline is one window's states over time: state i holds from at[i]
// until at[i+1]. Before the first change the state is unknown.
type timeline struct {
	at     []time.Time
	states []string
}

func newTimeline(camera, window string, before, after []store.StoredEvent) *timeline {
	tl := &timeline{}
	var evs []store.StoredEvent
	for _, group := range [][]store.StoredEvent{before, after} {
		for _, e := range group {
			if e.Type == events.TypeWindow && e.Camera == camera && e.Window == window {
				evs = append(evs, e)
			}
		}
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	for _, e := range evs {
		tl.at = append(tl.at, e.Time)
		tl.states = append(tl.states, e.State)
	}
	return tl
}

// time returns how long the window was in state within [start, end).
func (tl *timeline) time(state string, start, end time.Time) time.Duration {
	var total time.Duration
	cur, curFrom := events.StateUnknown, start
	for i, at := range tl.at {
		if !at.After(start) {
			cur = tl.states[i]
			continue
		}
		if !at.Before(end) {
			break
		}
		if cur == state {
			total += at.Sub(curFrom)
		}
		cur, curFrom = tl.states[i], at
	}
	if cur == state {
		total += end.Sub(curFrom)
	}
	return total
}

// WindowTotal is one window's staffing added up over the days reported,
// with the averages per day a planner compares windows by.
type WindowTotal struct {
	Center           string  `json:"center"`
	Camera           string  `json:"camera"`
	Window           string  `json:"window"`
	WindowName       string  `json:"window_name"`
	FirstDay         string  `json:"first_day"` // first day reported
	Days             int     `json:"days"`
	OpenMinutes      float64 `json:"open_minutes"`
	StaffedMinutes   float64 `json:"staffed_minutes"`
	BackupMinutes    float64 `json:"backup_minutes"`
	CoveringMinutes  float64 `json:"covering_minutes"`
	UnstaffedMinutes float64 `json:"unstaffed_minutes"`
	UnknownMinutes   float64 `json:"unknown_minutes"`
	Alerts           int     `json:"alerts"`
	// Confirmed, FalseAlarms and FalseAlarmRate as in WindowDay, over all
	// the days reported.
	Confirmed      int     `json:"confirmed"`
	FalseAlarms    int     `json:"false_alarms"`
	FalseAlarmRate float64 `json:"false_alarm_rate"`
	// Per day: the totals divided by Days.
	OpenPerDay      float64 `json:"open_minutes_per_day"`
	UnstaffedPerDay float64 `json:"unstaffed_minutes_per_day"`
	AlertsPerDay    float64 `json:"alerts_per_day"`
}

// Totals adds up Staffing's rows per window, in the rows' order.
func Totals(rows []WindowDay) []WindowTotal {
	var out []WindowTotal
	at := map[[3]string]int{}
	for _, r := range rows {
		key := [3]string{r.Center, r.Camera, r.Window}
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, WindowTotal{Center: r.Center, Camera: r.Camera, Window: r.Window, WindowName: r.WindowName, FirstDay: r.Day})
		}
		t := &out[i]
		t.Days++
		t.OpenMinutes += r.OpenMinutes
		t.StaffedMinutes += r.StaffedMinutes
		t.BackupMinutes += r.BackupMinutes
		t.CoveringMinutes += r.CoveringMinutes
		t.UnstaffedMinutes += r.UnstaffedMinutes
		t.UnknownMinutes += r.UnknownMinutes
		t.Alerts += r.Alerts
		t.Confirmed += r.Confirmed
		t.FalseAlarms += r.FalseAlarms
	}
	for i := range out {
		t := &out[i]
		t.FalseAlarmRate = store.VerdictCount{Confirmed: t.Confirmed, FalseAlarms: t.FalseAlarms}.FalseAlarmRate()
		n := float64(t.Days)
		t.OpenPerDay, t.UnstaffedPerDay, t.AlertsPerDay = t.OpenMinutes/n, t.UnstaffedMinutes/n, float64(t.Alerts)/n
	}
	return out
}
