package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
)

// Tolerances of the README's scoring rule, in seconds.
const (
	CrossingTolerance = 1.5
	AlertTolerance    = 2.0
)

// EvalRule is the window rule of the presence checks (read-only):
// absent_after 5 s as in the README, resolve_confirm 1 s (the service
// default of 5 s would merge z2's absences, which are separated by 2.4 s of
// presence).
var EvalRule = PresenceRule{MinStaff: 1, AbsentAfter: 5, ResolveConfirm: 1}

// Options selects what Run evaluates.
type Options struct {
	TestdataDir string   // default TestdataDir()
	Detectors   []string // "yolo", "motion"; default both
	InputSize   int      // yolo input, default 416
	// FPS is the analysis rate of the clips; 0 analyses every frame.
	FPS      float64
	Out      io.Writer // the tables
	Progress io.Writer // per-clip progress lines; nil for none
	// Cases limits the evaluation to some of "demo", "pets" (counting and
	// zones) and "still" (pasted still people); default all. The demo
	// needs no test data.
	Cases []string
}

// Report is the outcome for one detector.
type Report struct {
	Detector     string
	PETSCrossing Score
	TUDCrossing  Score
	// Z2 is the README's zone, OwnZones ours (PETSOwnZones), all scored
	// by EvalRule.
	Z2       ZoneReport
	OwnZones []ZoneReport
	// BusyAlerts are alerts raised on the always-occupied zone (all false).
	BusyAlerts int
	// BusyServices are services counted in the busy zone drawn as a
	// service zone (all false: people walk through it).
	BusyServices int
	// Blocked counts camera_blocked alerts raised on the clips (all false).
	Blocked int
	// Still is the pasted still people's zones.
	Still   []ZoneReport
	Demo    []DemoReport // the simulated hall
	Frames  int          // frames analysed over all clips
	Elapsed time.Duration
}

// FPS is the analysis throughput over all clips.
func (r Report) FPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Frames) / r.Elapsed.Seconds()
}

// Run evaluates each detector, printing a table per detector to o.Out:
// the simulated hall (DemoScenarios: started fresh, joined mid-day by a
// second analysis with the clerks seated, restarted from saved state),
// PETS09-S2L1 (line v400, zone
// z2, our zones, the busy zone) and TUD-Stadtmitte (line v480) through
// analytics.AnalyzeFile, and still people pasted into PETS09-S2L1.
func Run(ctx context.Context, o Options) ([]Report, error) {
	if o.TestdataDir == "" {
		o.TestdataDir = TestdataDir()
	}
	if len(o.Detectors) == 0 {
		o.Detectors = []string{analytics.KindYOLO, analytics.KindMotion}
	}
	if o.InputSize == 0 {
		o.InputSize = 416
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if len(o.Cases) == 0 {
		o.Cases = []string{"demo", "pets", "still"}
	}
	for _, c := range o.Cases {
		if c != "demo" && c != "pets" && c != "still" {
			return nil, fmt.Errorf("eval: unknown case %q: want demo, pets or still", c)
		}
	}
	var pets, tud *Sequence
	if slices.Contains(o.Cases, "pets") || slices.Contains(o.Cases, "still") {
		var err error
		if pets, err = LoadSequence(filepath.Join(o.TestdataDir, "pets09-s2l1")); err != nil {
			return nil, fmt.Errorf("eval: %w (set HALLWATCH_TESTDATA to the test data folder)", err)
		}
		if tud, err = LoadSequence(filepath.Join(o.TestdataDir, "tud-stadtmitte")); err != nil {
			return nil, fmt.Errorf("eval: %w (set HALLWATCH_TESTDATA to the test data folder)", err)
		}
	}
	var reports []Report
	for _, kind := range o.Detectors {
		r := Report{Detector: kind}
		det := config.Default().Detector // default thresholds, the shipped model
		det.Kind = kind
		det.InputSize = o.InputSize
		if slices.Contains(o.Cases, "demo") {
			for _, sc := range DemoScenarios {
				sc.Detector = det
				rs, err := RunDemo(ctx, sc)
				if err != nil {
					return reports, err
				}
				r.Demo = append(r.Demo, rs...)
			}
		}
		if slices.Contains(o.Cases, "pets") {
			if err := petsRun(ctx, o, det, pets, tud, &r); err != nil {
				return reports, err
			}
		}
		if slices.Contains(o.Cases, "still") {
			if err := stillRun(ctx, o, det, pets, &r); err != nil {
				return reports, err
			}
		}
		reports = append(reports, r)
		r.print(o.Out, o)
	}
	return reports, nil
}

// clipRun is one AnalyzeFile pass with its decoded events.
type clipRun struct {
	sum    analytics.AnalyzeSummary
	events []events.Event
}

// analyze runs `hallwatch analyze` on a clip with the given analytics (and
// frames changed by edit, if not nil) and reads back its JSON Lines, so
// the evaluation goes through the contract.
func analyze(ctx context.Context, o Options, det config.Detector, seq *Sequence, a *config.Analytics, edit func(int, *gocv.Mat)) (clipRun, error) {
	fps := o.FPS
	if fps == 0 {
		fps = 1000 // at least any file's rate: every frame
	}
	a.FPS = fps
	cfg := config.Default()
	cfg.Detector = det
	cfg.Alerts.ResolveConfirm = config.Duration(EvalRule.ResolveConfirm * float64(time.Second))
	cfg.Districts = []config.District{{ID: "eval", Name: "eval", Centers: []config.Center{{ID: "eval", Name: "eval",
		Cameras: []config.Camera{{ID: seq.Name, Analytics: a}}}}}}
	var out bytes.Buffer
	sum, err := analytics.AnalyzeFile(ctx, analytics.AnalyzeOptions{
		Config: cfg, CameraID: seq.Name, Input: seq.Video, Out: &out, Progress: o.Progress,
		Start: time.Date(2024, 1, 8, 10, 0, 0, 0, time.UTC), Edit: edit,
	})
	if err != nil {
		return clipRun{}, fmt.Errorf("eval %s with %s: %w", seq.Name, det.Kind, err)
	}
	if sum.Detector.Kind != det.Kind {
		return clipRun{}, fmt.Errorf("eval %s: asked for detector %s, got %s (%s)", seq.Name, det.Kind, sum.Detector.Kind, sum.Detector.Reason)
	}
	run := clipRun{sum: sum}
	dec := json.NewDecoder(&out)
	for dec.More() {
		var e events.Event
		if err := dec.Decode(&e); err != nil {
			return clipRun{}, fmt.Errorf("eval %s: analyze wrote invalid JSON Lines: %w", seq.Name, err)
		}
		run.events = append(run.events, e)
	}
	return run, nil
}

func (c clipRun) crossings(line string) []Item {
	var out []Item
	for _, e := range c.events {
		if e.Type == events.TypeCrossing && e.Line == line {
			out = append(out, Item{Frame: e.Frame, Label: e.Direction})
		}
	}
	return out
}

// blocked counts the camera_blocked alerts raised.
func (c clipRun) blocked() int {
	n := 0
	for _, e := range c.events {
		if e.Kind == events.KindCameraBlocked && e.State == events.AlertRaised {
			n++
		}
	}
	return n
}

// window returns a window's state events and unstaffed alerts.
func (c clipRun) window(id string) []events.Event {
	var out []events.Event
	for _, e := range c.events {
		if e.Window == id && (e.Type == events.TypeWindow || e.Kind == events.KindUnstaffed) {
			out = append(out, e)
		}
	}
	return out
}

func scoreCrossings(seq *Sequence, line config.Line, run clipRun) Score {
	var truth []Item
	for _, c := range Crossings(Trajectories(seq.Boxes, seq.Width, seq.Height), line) {
		truth = append(truth, Item{Frame: c.Frame, Label: c.Direction})
	}
	s, _ := Match(truth, run.crossings(line.ID), int(math.Round(CrossingTolerance*run.sum.FileFPS)))
	return s
}

func alertItems(alerts []Alert) []Item {
	out := make([]Item, len(alerts))
	for i, a := range alerts {
		out[i] = Item{Frame: a.Frame, Label: a.State}
	}
	return out
}

func (r Report) print(w io.Writer, o Options) {
	name := r.Detector
	if r.Detector == analytics.KindYOLO {
		name = fmt.Sprintf("yolo (Yolo-Fastest 1.1 body, shipped, input %d)", o.InputSize)
	}
	rate := "every frame"
	if o.FPS > 0 {
		rate = fmt.Sprintf("%.4g fps", o.FPS)
	}
	fmt.Fprintf(w, "\n=== detector %s\n", name)
	if len(r.Demo) > 0 {
		printDemo(w, r.Demo)
	}
	if r.PETSCrossing.TP+r.PETSCrossing.FN > 0 {
		fmt.Fprintf(w, "\nclips analysed at %s; window rule absent_after %gs, resolve_confirm %gs (config/REFERENCE.md, scoring)\n", rate, EvalRule.AbsentAfter, EvalRule.ResolveConfirm)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "counting\ttruth\tfound\tfalse\tmissed\tP\tR\tF1")
		for _, c := range []struct {
			name string
			s    Score
		}{{"PETS09-S2L1 line v400 (±1.5 s)", r.PETSCrossing}, {"TUD-Stadtmitte line v480 (±1.5 s)", r.TUDCrossing}} {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\n", c.name, c.s.TP+c.s.FN, c.s.TP, c.s.FP, c.s.FN, c.s.Precision(), c.s.Recall(), c.s.F1())
		}
		pooledLines := r.PETSCrossing.Add(r.TUDCrossing)
		fmt.Fprintf(tw, "pooled\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\n", pooledLines.TP+pooledLines.FN, pooledLines.TP, pooledLines.FP, pooledLines.FN, pooledLines.Precision(), pooledLines.Recall(), pooledLines.F1())
		tw.Flush()
		printZones(w, "PETS09-S2L1 zones", append([]ZoneReport{r.Z2}, r.OwnZones...))
		fmt.Fprintf(w, "zone busy (occupied throughout per gt.txt): %d false unstaffed alerts\n", r.BusyAlerts)
		fmt.Fprintf(w, "zone busy as a service zone (people walk through it, none stays 20 s): %d false services\n", r.BusyServices)
		fmt.Fprintf(w, "camera_blocked alerts on the clips (the view is never blocked): %d\n", r.Blocked)
	}
	if len(r.Still) > 0 {
		printZones(w, "still people pasted into PETS09-S2L1", r.Still)
	}
	fmt.Fprintf(w, "speed: %d frames analysed in %.1f s = %.1f frames/s\n", r.Frames, r.Elapsed.Seconds(), r.FPS())
}

// printZones writes a table of zones with their pooled score.
func printZones(w io.Writer, title string, zs []ZoneReport) {
	fmt.Fprintf(w, "\n%s: unstaffed alerts raise+resolve (±2 s), raises while someone is in the zone, absence noticed after (zone empties → absent)\n", title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "zone\traises\tevents\tfound\tfalse\tmissed\tF1\traised occupied\tabsence noticed p50/p95\treturn counted p50/p95")
	row := func(name string, raises int, s PresenceScore) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%d\t%s\t%s\n", name, raises, s.Alerts.TP+s.Alerts.FN, s.Alerts.TP, s.Alerts.FP, s.Alerts.FN,
			s.Alerts.F1(), s.RaisedWhileOccupied, pct(s.LeaveLatency), pct(s.ReturnLatency))
	}
	raises := 0
	for _, z := range zs {
		row(z.Zone, z.Truth, z.Score)
		raises += z.Truth
	}
	row("pooled", raises, pooled(zs))
	tw.Flush()
	for _, z := range zs {
		for _, m := range z.Misses {
			fmt.Fprintf(w, "  %s: %s\n", z.Zone, m)
		}
	}
}

// pct formats the p50 and p95 of latencies in seconds.
func pct(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f/%.2f s (n %d)", Percentile(v, 50), Percentile(v, 95), len(v))
}
