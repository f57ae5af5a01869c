package eval

import (
	"fmt"
	"io"
	"math"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
)

// Scoring a demo analysis's services and waits against the scene's truth.

// ServiceTolerance is how far apart, in seconds, a predicted service (or
// wait) may start from a true one and still match it.
const ServiceTolerance = 5.0

// QueueScore is how well an analysis found the services at the windows
// and the visitors' waits.
type QueueScore struct {
	// Services: same window, start within ServiceTolerance; per window too.
	Services Score
	Windows  map[string]Score
	// ServiceErr is each matched service's relative duration error,
	// |predicted − true| / true.
	ServiceErr []float64
	// Waits: start (entering the queue zone) within ServiceTolerance.
	Waits Score
	// WaitErr is each matched wait's relative error; Estimated counts the
	// matched waits that were estimates.
	WaitErr   []float64
	Estimated int
}

// MinWindowF1 is the lowest service F1 of a window with services.
func (q QueueScore) MinWindowF1() float64 {
	low := 1.0
	for _, s := range q.Windows {
		low = min(low, s.F1())
	}
	return low
}

// span is a true service or wait: window, start and end in scene seconds.
type span struct {
	window     string
	start, end float64
}

// truthSpan reads a service or wait truth event.
func truthSpan(e demo.TruthEvent) span { return span{window: e.Window, start: e.Since, end: e.T} }

// predSpan reads a service or wait event of an analysis whose scene
// starts at start.
func predSpan(e events.Event, start time.Time) span {
	end := e.Time.Sub(start).Seconds()
	return span{window: e.Window, start: end - e.Duration, end: end}
}

// scoreQueues matches the analysis's services and waits with the truth
// that began once it was watching (from) and ended by the scenario's end.
func (a *demoAnalysis) scoreQueues(truth demoTruth, from, end, fps float64) {
	q := QueueScore{Windows: map[string]Score{}}
	in := func(s span, slack float64) bool { return s.start >= from && s.end <= end+slack }
	item := func(s span, label string) Item { return Item{Frame: int(math.Round(s.start*fps)) + 1, Label: label} }
	var predServices, predWaits []span
	for _, e := range a.evs {
		switch e.Type {
		case events.TypeService:
			predServices = append(predServices, predSpan(e, a.wall))
		case events.TypeWait:
			predWaits = append(predWaits, predSpan(e, a.wall))
			predWaits[len(predWaits)-1].window = fmt.Sprint(e.Estimated)
		}
	}
	tol := int(math.Round(ServiceTolerance * fps))
	var ts, ps []Item
	var tspans, pspans []span
	for _, s := range truth.services {
		if in(s, 0) {
			ts, tspans = append(ts, item(s, s.window)), append(tspans, s)
		}
	}
	for _, s := range predServices {
		if in(s, ServiceTolerance) {
			ps, pspans = append(ps, item(s, s.window)), append(pspans, s)
		}
	}
	var pairs []Pair
	q.Services, pairs = Match(ts, ps, tol)
	q.Services.FP -= a.unmatched("service", ts, ps, tspans, pspans, pairs, from, fps)
	for _, p := range pairs {
		t, pr := tspans[p.Truth], pspans[p.Pred]
		q.ServiceErr = append(q.ServiceErr, math.Abs((pr.end-pr.start)-(t.end-t.start))/(t.end-t.start))
	}
	for _, w := range windowsOf(tspans, pspans) {
		var tw, pw []Item
		for _, it := range ts {
			if it.Label == w {
				tw = append(tw, it)
			}
		}
		for _, it := range ps {
			if it.Label == w {
				pw = append(pw, it)
			}
		}
		sc, wpairs := Match(tw, pw, tol)
		sc.FP -= startedBefore(pw, wpairs, from+ServiceTolerance, fps)
		q.Windows[w] = sc
	}

	ts, ps, tspans, pspans = nil, nil, nil, nil
	for _, s := range truth.waits {
		if in(s, 0) {
			ts, tspans = append(ts, item(s, "wait")), append(tspans, s)
		}
	}
	for _, s := range predWaits {
		if s.start >= from-ServiceTolerance && s.end <= end+ServiceTolerance {
			ps, pspans = append(ps, item(s, "wait")), append(pspans, s)
		}
	}
	q.Waits, pairs = Match(ts, ps, tol)
	q.Waits.FP -= a.unmatched("wait", ts, ps, tspans, pspans, pairs, from, fps)
	for _, p := range pairs {
		t, pr := tspans[p.Truth], pspans[p.Pred]
		q.WaitErr = append(q.WaitErr, math.Abs((pr.end-pr.start)-(t.end-t.start))/(t.end-t.start))
		if pr.window == "true" {
			q.Estimated++
		}
	}
	a.r.Queues = q
}

// unmatched describes each unmatched truth and prediction in the
// report's misses, and returns how many predictions nothing matched that
// started within ServiceTolerance of the analysis's start: a service or
// wait already under way when it began, whose truth is left out.
func (a *demoAnalysis) unmatched(what string, ts, ps []Item, tspans, pspans []span, pairs []Pair, from, fps float64) int {
	usedT, usedP := make([]bool, len(ts)), make([]bool, len(ps))
	for _, p := range pairs {
		usedT[p.Truth], usedP[p.Pred] = true, true
	}
	for i, s := range tspans {
		if !usedT[i] {
			a.r.Misses = append(a.r.Misses, fmt.Sprintf("%s %s %.1f-%.1f s missed", what, ts[i].Label, s.start, s.end))
		}
	}
	early := startedBefore(ps, pairs, from+ServiceTolerance, fps)
	for i, s := range pspans {
		if !usedP[i] && s.start >= from+ServiceTolerance {
			a.r.Misses = append(a.r.Misses, fmt.Sprintf("%s %s %.1f-%.1f s false", what, ps[i].Label, s.start, s.end))
		}
	}
	return early
}

// startedBefore counts the unmatched predictions that start before t.
func startedBefore(ps []Item, pairs []Pair, t, fps float64) int {
	used := make([]bool, len(ps))
	for _, p := range pairs {
		used[p.Pred] = true
	}
	n := 0
	for i, p := range ps {
		if !used[i] && float64(p.Frame-1)/fps < t {
			n++
		}
	}
	return n
}

// windowsOf lists the windows of the spans, sorted.
func windowsOf(lists ...[]span) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if !slices.Contains(out, s.window) {
				out = append(out, s.window)
			}
		}
	}
	slices.Sort(out)
	return out
}

// median of values (0 for none).
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	return Percentile(values, 50)
}

// printQueues writes the services and waits table of the simulated hall.
func printQueues(w io.Writer, demos []DemoReport) {
	fmt.Fprintf(w, "\nservices at the windows (same window, start within %.0f s) and waits in the queue zones (start within %.0f s)\n", ServiceTolerance, ServiceTolerance)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tjoined\tservices\tfound\tfalse\tF1\tlowest window F1\tservice time error p50\twaits\tfound\tfalse\tF1\twait error p50\testimated")
	for _, d := range demos {
		q := d.Queues
		fmt.Fprintf(tw, "%s\t%v\t%d\t%d\t%d\t%.3f\t%.3f\t%.1f %%\t%d\t%d\t%d\t%.3f\t%.1f %%\t%d\n", d.Scenario, d.Started(),
			q.Services.TP+q.Services.FN, q.Services.TP, q.Services.FP, q.Services.F1(), q.MinWindowF1(), 100*median(q.ServiceErr),
			q.Waits.TP+q.Waits.FN, q.Waits.TP, q.Waits.FP, q.Waits.F1(), 100*median(q.WaitErr), q.Estimated)
	}
	tw.Flush()
}
