package eval

import (
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
)

// Scoring a demo analysis against the scene's ground truth.

// score compares the analysis's events with the truth.
func (a *demoAnalysis) score(truth demoTruth, cfg *config.Analytics, opts demo.SceneOptions, end int, fps float64) {
	r := &a.r
	r.Elapsed = a.elapsed
	if a.pipe != nil {
		st := a.pipe.Stats()
		r.Units, r.Decoded = int(st.Units), int(st.Decoded)
	}
	if a.first == 0 {
		return
	}
	a.scoreQueues(truth, float64(a.first-1)/fps, float64(end-1)/fps, fps)
	var truthCross, predCross []Item
	for _, c := range truth.crossings {
		if c.Frame >= a.first && c.Frame <= end {
			truthCross = append(truthCross, c)
		}
	}
	for _, e := range a.evs {
		switch {
		case e.Type == events.TypeCrossing:
			predCross = append(predCross, Item{Frame: e.Frame, Label: e.Direction})
		case e.Kind == events.KindCameraBlocked && e.State == events.AlertRaised:
			r.Blocked++
			r.Misses = append(r.Misses, fmt.Sprintf("camera_blocked raised at %.1f s: %s", float64(e.Frame-1)/fps, e.Reason))
		}
	}
	var misses []string
	r.Crossings, _, misses = matchUpTo(end, "door", truthCross, nil, predCross, int(math.Round(CrossingTolerance*fps)), fps)
	r.Misses = append(r.Misses, misses...)

	still := ""
	if opts.StillClerk > 0 {
		still = cfg.Windows[opts.StillClerk-1].ID
	}
	settle := int(math.Round((DemoResolveConfirm.Seconds() + AlertTolerance) * fps))
	rule := PresenceRule{MinStaff: 1, ResolveConfirm: DemoResolveConfirm.Seconds()}
	tol := int(math.Round(AlertTolerance * fps))
	for _, w := range cfg.Windows {
		counts := truth.counts[w.ID][a.first-1 : end]
		var wevs []events.Event
		prevState, prevF := "", 0
		unseenAt := map[int]bool{}
		for _, e := range a.evs {
			if e.Window != w.ID {
				continue
			}
			switch e.Type {
			case "unseen":
				unseenAt[e.Frame] = true
			case "state":
				if prevF > 0 && prevF <= end {
					a.scoreState(w.ID, prevState, prevF, e.Frame, truth, settle, still, unseenAt[prevF], fps)
				}
				prevState, prevF = e.State, e.Frame
			default:
				wevs = append(wevs, e)
			}
		}
		if prevF > 0 && prevF <= end {
			a.scoreState(w.ID, prevState, prevF, prevF+int(fps)/DemoAnalysisFPS, truth, settle, still, unseenAt[prevF], fps)
		}
		rule.AbsentAfter = w.AbsentAfter.D().Seconds()
		// A backup window whose clerk covers another (the AB post) is
		// due no alert meanwhile: its clerk counts as there.
		excused := slices.Clone(counts)
		for i, c := range truth.covering[w.ID][a.first-1 : end] {
			if c {
				excused[i] = max(excused[i], 1)
			}
		}
		counts = excused
		items, optional := demoAlerts(counts, a.first, fps, rule)
		ps, misses := scorePresence(windowTruth{counts: counts, first: a.first, fps: fps}, wevs, rule, items, optional, end)
		r.Presence = r.Presence.Add(ps)
		r.Misses = append(r.Misses, misses...)
		var pred []Item
		for _, e := range wevs {
			if e.Type == events.TypeAlert {
				pred = append(pred, Item{Frame: e.Frame, Label: e.State})
			}
		}
		_, pairs := Match(items, pred, tol)
		for _, p := range pairs {
			if items[p.Truth].Label == events.AlertRaised && !optional[p.Truth] {
				r.Raised++
				r.MaxRaiseDelay = math.Max(r.MaxRaiseDelay, math.Abs(float64(pred[p.Pred].Frame-items[p.Truth].Frame))/fps)
			}
		}
		for i, it := range items {
			if it.Label == events.AlertRaised && !optional[i] {
				r.Truth++
			}
		}
	}
	a.scoreBackup(truth, cfg, end, settle, tol, fps)
}

// scoreState accounts a window's reported state from frame f to next.
func (a *demoAnalysis) scoreState(window, state string, f, next int, truth demoTruth, settle int, still string, unseen bool, fps float64) {
	r := &a.r
	dt := float64(next-f) / fps
	since := truth.since[window][f-1]
	absent := state == events.StateAbsent
	if unseen {
		r.Unseen += dt
		if absent {
			r.UnseenAbsent += dt
		}
		return
	}
	if truth.covering[window][f-1] {
		return // away covering (scoreBackup)
	}
	if since >= 0 && since < a.first && absent && f < a.first+int(10*fps) {
		r.StartAbsent += dt
	}
	if since < 0 || f-since < settle {
		return
	}
	r.Seated += dt
	if window == still {
		r.StillSeated += dt
	}
	if !events.Staffed(state) { // by whom: scoreBackup
		r.WrongAbsent += dt
		if window == still {
			r.StillWrongAbsent += dt
		}
	}
}

// demoAlerts returns a window's ground-truth alerts from its head counts
// (index frame-first) by ExpectedAlerts, in frame order, and which of them
// are optional: those of an absence that lasted absent_after give or take
// AlertTolerance. An alert raised on time for them is right and none is
// wrong, since timing within the tolerance decides (the service's
// end-to-end board test judges them the same way).
func demoAlerts(counts []int, first int, fps float64, rule PresenceRule) ([]Item, []bool) {
	shifted := func(by float64) []Item {
		r := rule
		r.AbsentAfter += by
		items := alertItems(ExpectedAlerts(counts, fps, r))
		for i := range items {
			items[i].Frame += first - 1
			if items[i].Label == events.AlertRaised {
				items[i].Frame -= int(math.Round(by * fps)) // raised absent_after into the absence
			}
		}
		return items
	}
	due := map[Item]bool{}
	for _, it := range shifted(AlertTolerance) {
		due[it] = true
	}
	all := shifted(-AlertTolerance)
	optional := make([]bool, len(all))
	for i, it := range all {
		optional[i] = !due[it]
	}
	return all, optional
}

// matchUpTo matches truth (all up to frame end) with pred (which may go on
// past end), leaving out of the score the predictions after end that match
// nothing and the optional truths (nil: none) that nothing matched, and
// describes each miss, e.g. "w2 raised at 35.2 s missed" or "door in at
// 80.1 s false".
func matchUpTo(end int, what string, truth []Item, optional []bool, pred []Item, tolerance int, fps float64) (Score, []Pair, []string) {
	s, pairs := Match(truth, pred, tolerance)
	usedT := make([]bool, len(truth))
	usedP := make([]bool, len(pred))
	for _, p := range pairs {
		usedT[p.Truth], usedP[p.Pred] = true, true
	}
	var out []string
	for i, t := range truth {
		switch {
		case usedT[i]:
		case optional != nil && optional[i]:
			s.FN--
		default:
			out = append(out, fmt.Sprintf("%s %s at %.1f s missed", what, t.Label, float64(t.Frame-1)/fps))
		}
	}
	for i, p := range pred {
		switch {
		case usedP[i]:
		case p.Frame > end:
			s.FP--
		default:
			out = append(out, fmt.Sprintf("%s %s at %.1f s false", what, p.Label, float64(p.Frame-1)/fps))
		}
	}
	return s, pairs, out
}

// printDemo writes the simulated hall's table.
func printDemo(w io.Writer, demos []DemoReport) {
	fmt.Fprintf(w, "\nsimulated hall (demo package), analysed at %d fps, resolve_confirm %v; each scenario started fresh and joined mid-day by a second analysis, the AB-post hall also restarted from the state the first saved %v before\n", DemoAnalysisFPS, DemoResolveConfirm, restartGap)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tjoined\tdoor F1\talert events\tfound\tfalse\tmissed\tF1\traised occupied\tabsent at start\tabsence noticed p50/p95\treturn counted p50/p95\twrongly absent")
	for _, d := range demos {
		s := d.Presence
		fmt.Fprintf(tw, "%s\t%v\t%.3f\t%d\t%d\t%d\t%d\t%.3f\t%d\t%.1f s\t%s\t%s\t%.1f of %.1f s\n", d.Scenario, d.Started(), d.Crossings.F1(),
			s.Alerts.TP+s.Alerts.FN, s.Alerts.TP, s.Alerts.FP, s.Alerts.FN, s.Alerts.F1(), s.RaisedWhileOccupied, d.StartAbsent,
			pct(s.LeaveLatency), pct(s.ReturnLatency), d.WrongAbsent, d.Seated)
	}
	tw.Flush()
	for _, d := range demos {
		if d.Backup.Episodes > 0 || d.Backup.FalseByBackup > 0 {
			fmt.Fprintf(w, "%s, joined at %s: AB post: %s\n", d.Scenario, d.Started(), d.Backup)
		}
		if d.Unseen > 0 {
			fmt.Fprintf(w, "%s, joined at %s: %.1f s seated unseen by %s (due unknown), reported absent %.1f s of it\n", d.Scenario, d.Started(), d.Unseen, d.Detector, d.UnseenAbsent)
		}
		for _, m := range d.Misses {
			fmt.Fprintf(w, "  %s, joined at %s: %s\n", d.Scenario, d.Started(), m)
		}
	}
	printQueues(w, demos)
}
