package eval

import (
	"fmt"
	"math"
	"slices"

	"github.com/hallwatch/hallwatch/events"
)

// PresenceScore compares one or more windows' reported states and
// unstaffed alerts with the truth.
type PresenceScore struct {
	// Alerts: raise and resolve events within AlertTolerance of the truth's
	// (ExpectedAlerts), same state.
	Alerts Score
	// RaisedWhileOccupied counts raises made while the truth had someone
	// in the zone for CountWithin already: the false alerts a manager sees
	// with the clerk there.
	RaisedWhileOccupied int
	// LeaveLatency holds, per truth absence, the seconds from its start
	// (the zone empties) to the window reported absent; Unnoticed counts
	// absences of at least minAbsence never reported absent.
	LeaveLatency []float64
	Unnoticed    int
	// ReturnLatency holds, per return that ended an absence reported as
	// such, the seconds from the return to the window reported staffed
	// again, less resolve_confirm: how long the detector took to count them.
	ReturnLatency []float64
}

// Add pools two scores.
func (s PresenceScore) Add(o PresenceScore) PresenceScore {
	return PresenceScore{
		Alerts:              s.Alerts.Add(o.Alerts),
		RaisedWhileOccupied: s.RaisedWhileOccupied + o.RaisedWhileOccupied,
		LeaveLatency:        append(slices.Clone(s.LeaveLatency), o.LeaveLatency...),
		Unnoticed:           s.Unnoticed + o.Unnoticed,
		ReturnLatency:       append(slices.Clone(s.ReturnLatency), o.ReturnLatency...),
	}
}

// LatencyText summarises the leave latencies, e.g. "p50 1.10 s, p95 1.30 s
// (12 absences, 0 unnoticed)".
func (s PresenceScore) LatencyText() string {
	if len(s.LeaveLatency) == 0 {
		return fmt.Sprintf("no absence noticed (%d unnoticed)", s.Unnoticed)
	}
	return fmt.Sprintf("p50 %.2f s, p95 %.2f s, max %.2f s (%d absences, %d unnoticed)",
		Percentile(s.LeaveLatency, 50), Percentile(s.LeaveLatency, 95), Percentile(s.LeaveLatency, 100), len(s.LeaveLatency), s.Unnoticed)
}

// ReturnText summarises the return latencies.
func (s PresenceScore) ReturnText() string {
	if len(s.ReturnLatency) == 0 {
		return "no return"
	}
	return fmt.Sprintf("p50 %.2f s, p95 %.2f s, max %.2f s (%d returns)",
		Percentile(s.ReturnLatency, 50), Percentile(s.ReturnLatency, 95), Percentile(s.ReturnLatency, 100), len(s.ReturnLatency))
}

// Percentile returns the p-th percentile (nearest rank) of v; NaN when empty.
func Percentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// minAbsence is the shortest truth absence whose notice is measured: a
// person stepping out of a zone for a moment need not be reported.
const minAbsence = 1.0

// windowTruth is one window's truth: head counts per frame (index
// frame-first) from frame first on, at fps frames a second.
type windowTruth struct {
	counts []int
	first  int
	fps    float64
}

func (w windowTruth) at(frame int) int {
	i := frame - w.first
	if i < 0 || i >= len(w.counts) {
		return 0
	}
	return w.counts[i]
}

// CountWithin is how soon someone who steps into a zone must be counted
// (seconds): a raise in the moment a late clerk sits down is on time by
// the rule, not a raise with the clerk there.
const CountWithin = 1.0

// occupiedSince reports whether the zone held at least staff people in
// every frame of the seconds up to frame.
func (w windowTruth) occupiedSince(frame, staff int, seconds float64) bool {
	for f := frame - int(math.Round(seconds*w.fps)); f <= frame; f++ {
		if w.at(f) < staff {
			return false
		}
	}
	return true
}

// scorePresence scores one window's reported events (window states and
// unstaffed alerts, in frame order, frames of the same clock as the
// truth) against its truth under rule. Truth alerts marked optional (nil:
// none) count when predicted and are no miss when not (see demoAlerts).
// Events after frame end (0: the truth's last) are left out of the score
// where they match nothing.
func scorePresence(tr windowTruth, evs []events.Event, rule PresenceRule, truth []Item, optional []bool, end int) (PresenceScore, []string) {
	var s PresenceScore
	if end == 0 {
		end = tr.first + len(tr.counts) - 1
	}
	var pred []Item
	for _, e := range evs {
		if e.Type != events.TypeAlert || e.Kind != events.KindUnstaffed {
			continue
		}
		pred = append(pred, Item{Frame: e.Frame, Label: e.State})
	}
	var misses []string
	s.Alerts, _, misses = matchUpTo(end, evs0Window(evs), truth, optional, pred, int(math.Round(AlertTolerance*tr.fps)), tr.fps)
	for _, p := range pred {
		if p.Label == events.AlertRaised && p.Frame <= end && tr.occupiedSince(p.Frame, max(rule.MinStaff, 1), CountWithin) {
			s.RaisedWhileOccupied++
			misses = append(misses, fmt.Sprintf("%s raised at %.1f s while %d in the zone", evs0Window(evs), float64(p.Frame-1)/tr.fps, tr.at(p.Frame)))
		}
	}

	// The reported state at each frame, from the window events.
	state := func(frame int) string {
		st := events.StateUnknown
		for _, e := range evs {
			if e.Frame > frame {
				break
			}
			if e.Type == events.TypeWindow {
				st = e.State
			}
		}
		return st
	}
	minStaff := max(rule.MinStaff, 1)
	last := tr.first + len(tr.counts) - 1
	for f := tr.first + 1; f <= last; f++ {
		if tr.at(f) >= minStaff || tr.at(f-1) < minStaff {
			continue
		}
		// The zone empties at f: how long until reported absent, and, if
		// the person returns, how long until staffed again.
		endAbs := f
		for endAbs <= last && tr.at(endAbs) < minStaff {
			endAbs++
		}
		if float64(endAbs-f)/tr.fps < minAbsence {
			continue
		}
		if st := state(f - 1); !events.Staffed(st) {
			continue // not reported staffed before: nothing to notice
		}
		noticed := -1
		for g := f; g < endAbs; g++ {
			if state(g) == events.StateAbsent {
				noticed = g
				break
			}
		}
		if noticed < 0 {
			s.Unnoticed++
			misses = append(misses, fmt.Sprintf("%s: absence at %.1f s (%.1f s long) never reported", evs0Window(evs), float64(f-1)/tr.fps, float64(endAbs-f)/tr.fps))
			continue
		}
		s.LeaveLatency = append(s.LeaveLatency, float64(noticed-f)/tr.fps)
		if endAbs > last {
			continue
		}
		// Back at endAbs; staffed again once resolve_confirm has passed.
		for g := endAbs; g <= last && tr.at(g) >= minStaff; g++ {
			if events.Staffed(state(g)) {
				s.ReturnLatency = append(s.ReturnLatency, math.Max(0, float64(g-endAbs)/tr.fps-rule.ResolveConfirm))
				break
			}
		}
	}
	return s, misses
}

// evs0Window names the window of the events, for messages.
func evs0Window(evs []events.Event) string {
	for _, e := range evs {
		if e.Window != "" {
			return e.Window
		}
	}
	return "window"
}
