package eval

import (
	"context"
	"fmt"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
)

// DemoScenario is a run of the simulated hall (package demo) through the
// analyzer as the live service runs it: the scene's own analytics config,
// its detector (motion) and the service's default resolve_confirm.
type DemoScenario struct {
	Name     string
	Scene    demo.SceneOptions
	Duration time.Duration // simulated time
	// Codec sends every frame through the demo camera's H.264 encoder and
	// the live service's analytics.Pipeline, which decodes what analysis
	// needs (key frames only while the hall is quiet, see config
	// analytics.idle_after).
	Codec bool
	// Ungated decodes every frame (idle_after 0s): the baseline gating is
	// compared with.
	Ungated bool
	// Join is when analysis starts, as a live service joins a camera that
	// is already streaming (0: at the first frame).
	Join time.Duration
}

// DemoScenarios are the runs `hallwatch eval` prints and the tests hold to
// thresholds. Clerks walk in after opening as in `hallwatch demo`; in the
// "joined" ones analysis starts late, as the live service joins a camera
// after connecting, with clerks already walking in; in the last one they
// sit at their windows before it starts (see DemoReport.Unseen).
var DemoScenarios = []DemoScenario{
	{Name: "seed 1, default timings, H.264", Duration: 5 * time.Minute, Codec: true,
		Scene: demo.SceneOptions{Seed: 1, ClerksArrive: demo.Range{Min: time.Second, Max: 5 * time.Second}}},
	{Name: "seed 2, frequent absences", Duration: 4 * time.Minute, Scene: demo.SceneOptions{Seed: 2,
		ClerksArrive:      demo.Range{Min: time.Second, Max: 5 * time.Second},
		ClerkAway:         demo.Range{Min: 12 * time.Second, Max: 30 * time.Second},
		ClerkAwayInterval: demo.Range{Min: 30 * time.Second, Max: 80 * time.Second}}},
	{Name: "seed 3, frequent absences, noise", Duration: 4 * time.Minute, Scene: demo.SceneOptions{Seed: 3, Noise: 6,
		ClerksArrive:      demo.Range{Min: time.Second, Max: 5 * time.Second},
		ClerkAway:         demo.Range{Min: 12 * time.Second, Max: 30 * time.Second},
		ClerkAwayInterval: demo.Range{Min: 30 * time.Second, Max: 80 * time.Second}}},
	{Name: "seed 11, joined at 2 s, H.264", Duration: 110 * time.Second, Codec: true, Join: 2 * time.Second, Scene: busyHall(11, true)},
	{Name: "seed 12, joined at 1 s", Duration: 110 * time.Second, Join: time.Second, Scene: busyHall(12, true)},
	{Name: "seed 13, joined at 3 s", Duration: 110 * time.Second, Join: 3 * time.Second, Scene: busyHall(13, true)},
	{Name: "seed 14, joined at 2.5 s", Duration: 110 * time.Second, Join: 2500 * time.Millisecond, Scene: busyHall(14, true)},
	{Name: "seed 15, clerks seated before analysis, joined at 2 s, H.264", Duration: 110 * time.Second, Codec: true,
		Join: 2 * time.Second, Scene: busyHall(15, false)},
}

// busyHall is the compressed hall of the service's end-to-end board test:
// every clerk leaves and comes back within two minutes, a visitor every few
// seconds. Clerks walk in from the staff door from 1 s on, or, without
// arrive, sit at their windows from the first frame.
func busyHall(seed int64, arrive bool) demo.SceneOptions {
	o := demo.SceneOptions{Seed: seed, StillClerk: 3,
		ClerkAway:         demo.Range{Min: 12 * time.Second, Max: 20 * time.Second},
		ClerkAwayInterval: demo.Range{Min: 25 * time.Second, Max: 45 * time.Second},
		VisitorInterval:   demo.Range{Min: 3 * time.Second, Max: 6 * time.Second},
		ServiceTime:       demo.Range{Min: 5 * time.Second, Max: 10 * time.Second},
	}
	if arrive {
		o.ClerksArrive = demo.Range{Min: time.Second, Max: 4 * time.Second}
	}
	return o
}

// DemoAnalysisFPS is the rate the demo camera is analysed at (its config's
// analytics.fps): every third frame of the 15 fps scene.
const DemoAnalysisFPS = 5

// DemoResolveConfirm is the service's default alerts.resolve_confirm, which
// `hallwatch demo` runs with.
const DemoResolveConfirm = 5 * time.Second

// DemoReport is the outcome of one scenario.
type DemoReport struct {
	Scenario  string
	Crossings Score // door line, same direction within CrossingTolerance
	// Alerts: unstaffed raise and resolve events within AlertTolerance;
	// those of absences about absent_after long count when predicted and
	// are no miss when not (see demoAlerts).
	Alerts Score
	Raised int // ground-truth raises matched (not counting optional ones)
	Truth  int // ground-truth raises (not counting optional ones)
	// MaxRaiseDelay is the largest |predicted - truth| time of a matched raise.
	MaxRaiseDelay float64
	// WrongAbsent is the time (seconds, at the analysis rate) windows were
	// reported not staffed while a clerk had been seated there for longer
	// than resolve_confirm plus AlertTolerance; StillWrongAbsent is the part
	// of it at the window of the clerk who never moves.
	WrongAbsent, StillWrongAbsent float64
	// Seated is the time clerks were seated (same counting), for scale.
	Seated, StillSeated float64
	// Unseen is the time clerks sat at their windows since before the
	// first analysed frame, without having left since: a motion detector
	// learns them as background and cannot know them, so the scoring takes
	// those windows as empty until the clerk first leaves (an unstaffed
	// alert is due there, resolved once the clerk is back).
	Unseen float64
	Frames int // frames analysed
	// Units and Decoded: access units encoded and decoded (Codec only);
	// fewer decoded when gating left quiet stretches at key frames.
	Units, Decoded int
	Elapsed        time.Duration
	// Misses describes each unmatched truth and false prediction, e.g.
	// "w2 raised at 35.2 s missed" or "door in at 80.1 s false".
	Misses []string
}

// RunDemo plays a scenario through the analyzer and scores it against the
// scene's ground truth.
func RunDemo(ctx context.Context, sc DemoScenario) (DemoReport, error) {
	r := DemoReport{Scenario: sc.Name}
	scene, err := demo.NewScene(sc.Scene)
	if err != nil {
		return r, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
	}
	opts := scene.Options()
	cfg := scene.Analytics()
	det, choice, err := analytics.NewDetector(config.Default().Detector, cfg.Detector)
	if err != nil {
		return r, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
	}
	an, err := analytics.NewAnalyzer(analytics.AnalyzerOptions{Camera: "demo", Analytics: cfg, Detector: det,
		Tracker:        choice.TrackerOptions(),
		ResolveConfirm: DemoResolveConfirm})
	if err != nil {
		det.Close()
		return r, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
	}
	defer an.Close()
	var enc *avcodec.Encoder
	if sc.Codec {
		// The demo camera's settings (demo.CameraSpec defaults).
		if enc, err = avcodec.NewEncoder(avcodec.EncoderOptions{Width: opts.Width, Height: opts.Height, FPS: opts.FPS,
			GOP: 2 * opts.FPS, BitrateKbps: 1500, Preset: "ultrafast"}); err != nil {
			return r, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
		}
		defer enc.Close()
	}

	// Truth counts up to the end of the scenario; the analysis runs on for
	// the matching tolerance so that events due at the end can be found.
	end := int(math.Round(sc.Duration.Seconds() * float64(opts.FPS)))
	frames := end + int(math.Ceil(math.Max(CrossingTolerance, AlertTolerance)*float64(opts.FPS)))
	every := max(1, int(math.Round(float64(opts.FPS)/DemoAnalysisFPS)))
	join := int(math.Round(sc.Join.Seconds()*float64(opts.FPS))) + 1
	first := join + (every-(join-1)%every)%every // the first analysed frame
	if sc.Codec {
		// Decoding starts at the first key frame from join on, as the
		// live service's subscription to a camera's stream does; the
		// pipeline's rate starts there.
		first = 0
	}
	fps := float64(opts.FPS)
	// The truth begins, like the service's view, at the first analysed
	// frame: per window, per frame from there (index frame-first).
	counts := map[string][]int{}
	sinceAt := map[string][]int{}   // first frame of the occupied run, -1 when empty
	unseenAt := map[string][]bool{} // seated since before the first analysed frame
	var truthCross, predCross []Item
	predAlerts := map[string][]Item{}
	seatedSince := map[string]int{} // window -> first frame of the current occupied run; absent = empty
	unseen := map[string]bool{}     // window whose clerk sat there at the first analysed frame and has not left
	settle := int(math.Round((DemoResolveConfirm.Seconds() + AlertTolerance) * fps))
	still := ""
	if opts.StillClerk > 0 {
		still = cfg.Windows[opts.StillClerk-1].ID
	}
	prev := 0 // the last analysed frame
	// analysed scores an analysed frame f: its events and its window
	// states, which hold until the next analysed frame.
	analysed := func(f int, evs []events.Event) {
		r.Frames++
		dt := float64(every) / fps
		if prev > 0 {
			dt = float64(f-prev) / fps
		}
		prev = f
		for _, e := range evs {
			switch {
			case e.Type == events.TypeCrossing:
				predCross = append(predCross, Item{Frame: f, Label: e.Direction})
			case e.Type == events.TypeAlert && e.Kind == events.KindUnstaffed:
				predAlerts[e.Window] = append(predAlerts[e.Window], Item{Frame: f, Label: e.State})
			}
		}
		if f > end {
			return
		}
		for _, st := range an.Windows() {
			since := sinceAt[st.Window][f-first]
			if unseenAt[st.Window][f-first] {
				r.Unseen += dt
				continue
			}
			if since < 0 || f-since < settle {
				continue
			}
			r.Seated += dt
			if st.Window == still {
				r.StillSeated += dt
			}
			if st.State != events.StateStaffed {
				r.WrongAbsent += dt
				if st.Window == still {
					r.StillWrongAbsent += dt
				}
			}
		}
	}
	start := time.Date(2024, 1, 8, 9, 0, 0, 0, time.UTC)
	var pipe *analytics.Pipeline
	if enc != nil {
		idle := config.DefaultIdleAfter.D()
		if sc.Ungated {
			idle = 0
		}
		pipe = analytics.NewPipeline(analytics.PipelineOptions{Analyzer: an, FPS: DemoAnalysisFPS, IdleAfter: idle})
		defer pipe.Close()
		pipe.SetOnFrame(func(evs []events.Event, _ gocv.Mat, wall time.Time) {
			analysed(int(math.Round(wall.Sub(start).Seconds()*fps))+1, evs)
		})
		dec, err := avcodec.NewDecoder(avcodec.CodecH264)
		if err != nil {
			return r, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
		}
		defer dec.Close()
		pipe.SetDecoder(&pictures{dec: dec})
	}
	mat := gocv.NewMat()
	defer mat.Close()
	began := time.Now()
	for f := 1; f <= frames; f++ {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		img, truth := scene.Step()
		var nalus [][]byte
		var key bool
		if enc != nil {
			if nalus, key, err = enc.Encode(img, int64(f-1)); err != nil {
				return r, fmt.Errorf("demo scenario %q frame %d: %w", sc.Name, f, err)
			}
			if first == 0 && f >= join && key {
				first = f
			}
		}
		for _, e := range truth {
			switch e.Type {
			case demo.TruthCrossing:
				if first > 0 && e.Frame >= first && e.Frame <= end {
					truthCross = append(truthCross, Item{Frame: e.Frame, Label: e.Direction})
				}
			case demo.TruthWindow:
				if e.Count > 0 {
					if _, ok := seatedSince[e.Window]; !ok {
						seatedSince[e.Window] = f
					}
				} else {
					delete(seatedSince, e.Window)
					delete(unseen, e.Window)
				}
			}
		}
		if f == first {
			for w := range seatedSince {
				unseen[w] = true
			}
		}
		if first > 0 && f >= first {
			for _, w := range cfg.Windows {
				since, ok := seatedSince[w.ID]
				n := 0
				if ok && !unseen[w.ID] {
					n = 1
				}
				if !ok {
					since = -1
				}
				counts[w.ID] = append(counts[w.ID], n)
				sinceAt[w.ID] = append(sinceAt[w.ID], since)
				unseenAt[w.ID] = append(unseenAt[w.ID], unseen[w.ID])
			}
		}
		t := float64(f-1) / fps
		wall := start.Add(time.Duration(t * float64(time.Second)))
		if pipe != nil {
			if first == 0 || len(nalus) == 0 {
				continue
			}
			if err := pipe.Push(analytics.Unit{NALUs: nalus, Key: key, T: t, Wall: wall}); err != nil {
				return r, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
			}
			continue
		}
		if (f-1)%every != 0 || f < join {
			continue
		}
		if err := toMat(img, &mat); err != nil {
			return r, fmt.Errorf("demo scenario %q frame %d: %w", sc.Name, f, err)
		}
		evs, err := an.Process(mat, f, t, wall)
		if err != nil {
			return r, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
		}
		analysed(f, evs)
	}
	if pipe != nil {
		st := pipe.Stats()
		r.Units, r.Decoded = int(st.Units), int(st.Decoded)
	}
	r.Elapsed = time.Since(began)

	r.Crossings, _, r.Misses = matchUpTo(end, "door", truthCross, nil, predCross, int(math.Round(CrossingTolerance*fps)), fps)
	rule := PresenceRule{MinStaff: 1, ResolveConfirm: DemoResolveConfirm.Seconds()}
	tol := int(math.Round(AlertTolerance * fps))
	for _, w := range cfg.Windows {
		rule.AbsentAfter = w.AbsentAfter.D().Seconds()
		truth, optional := demoAlerts(counts[w.ID][:end-first+1], first, fps, rule)
		pred := predAlerts[w.ID]
		s, pairs, m := matchUpTo(end, w.ID, truth, optional, pred, tol, fps)
		r.Alerts = r.Alerts.Add(s)
		r.Misses = append(r.Misses, m...)
		for _, p := range pairs {
			if truth[p.Truth].Label == events.AlertRaised && !optional[p.Truth] {
				r.Raised++
				r.MaxRaiseDelay = math.Max(r.MaxRaiseDelay, math.Abs(float64(pred[p.Pred].Frame-truth[p.Truth].Frame))/fps)
			}
		}
		for i, t := range truth {
			if t.Label == events.AlertRaised && !optional[i] {
				r.Truth++
			}
		}
	}
	return r, nil
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

// toMat copies a packed BGR image into mat.
func toMat(img *avcodec.Image, mat *gocv.Mat) error {
	if img.Stride != 3*img.Width {
		return fmt.Errorf("image stride %d: want packed rows (%d)", img.Stride, 3*img.Width)
	}
	m, err := gocv.NewMatFromBytes(img.Height, img.Width, gocv.MatTypeCV8UC3, img.Data)
	if err != nil {
		return err
	}
	defer m.Close()
	m.CopyTo(mat)
	return nil
}

// pictures is the pipeline's view of the decoder.
type pictures struct {
	dec *avcodec.Decoder
	img avcodec.Image
}

func (p *pictures) Decode(nalus [][]byte) (bool, error) { return p.dec.Decode(nalus) }

func (p *pictures) Picture(dst *gocv.Mat) error {
	if err := p.dec.Frame(&p.img); err != nil {
		return err
	}
	return toMat(&p.img, dst)
}
