package eval

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
)

// DemoScenario is a run of the simulated hall (package demo) through
// analyses as the live service runs them: the scene's own analytics config,
// the configured detector (by default auto, the shipped model) and the
// service's default resolve_confirm. Several analyses may watch the same
// run, joining at different times, as a service started at opening and a
// second one started mid-day (a restart) on the same camera.
type DemoScenario struct {
	Name     string
	Scene    demo.SceneOptions
	Duration time.Duration // simulated time
	// Codec sends every frame through the demo camera's H.264 encoder and
	// the live service's analytics.Pipeline, which decodes what analysis
	// needs (key frames only while the hall is quiet, see config
	// analytics.idle_after); a late analysis starts decoding at the first
	// key frame after it joins.
	Codec bool
	// Ungated decodes every frame (idle_after 0s): the baseline gating is
	// compared with.
	Ungated bool
	// Joins are when the analyses start (none: one, at the first frame).
	Joins []time.Duration
	// Restart, when set, adds an analysis starting then from the state
	// the first analysis saved restartGap before (SaveState): the service
	// restarted, as it is after an upgrade.
	Restart time.Duration
	// Detector is the detector configuration (zero: config.Default's).
	Detector config.Detector
}

// DemoScenarios are the runs `hallwatch eval` prints and the tests hold to
// thresholds. In each, one analysis starts with the hall (clerks walk in
// after opening) and a second joins mid-day with every clerk seated, as a
// service restarted or added while the hall works.
var DemoScenarios = []DemoScenario{
	{Name: "seed 1, default timings, H.264", Duration: 4 * time.Minute, Codec: true, Joins: []time.Duration{0, 90 * time.Second},
		Scene: demo.SceneOptions{Seed: 1, ClerksArrive: demo.Range{Min: time.Second, Max: 5 * time.Second}}},
	{Name: "seed 2, frequent absences", Duration: 3 * time.Minute, Joins: []time.Duration{0, 60 * time.Second},
		Scene: demo.SceneOptions{Seed: 2,
			ClerksArrive:      demo.Range{Min: time.Second, Max: 5 * time.Second},
			ClerkAway:         demo.Range{Min: 12 * time.Second, Max: 30 * time.Second},
			ClerkAwayInterval: demo.Range{Min: 30 * time.Second, Max: 80 * time.Second}}},
	{Name: "seed 11, busy hall, noise, H.264", Duration: 150 * time.Second, Codec: true, Joins: []time.Duration{0, 45 * time.Second},
		Scene: busyHall(11)},
	// The AB post: w1's clerk leaves twice for 30-40 s and w2's clerk
	// covers (22-57 s and 75-111 s); the second analysis joins between,
	// the service restarts during the second.
	{Name: "seed 7, AB post: w2's clerk covers w1", Duration: 130 * time.Second, Joins: []time.Duration{0, 65 * time.Second}, Restart: 88 * time.Second,
		Scene: demo.SceneOptions{Seed: 7, Windows: 4, Covered: 1,
			ClerksArrive:      demo.Range{Min: time.Second, Max: 5 * time.Second},
			ServiceTime:       demo.Range{Min: 5 * time.Second, Max: 10 * time.Second},
			ClerkAway:         demo.Range{Min: 30 * time.Second, Max: 40 * time.Second},
			ClerkAwayInterval: demo.Range{Min: 5 * time.Second, Max: 15 * time.Second}}},
}

// busyHall is the compressed hall of the service's end-to-end board test:
// every clerk leaves and comes back within two minutes, a visitor every few
// seconds, a little sensor noise.
func busyHall(seed int64) demo.SceneOptions {
	return demo.SceneOptions{Seed: seed, StillClerk: 3, Noise: 3,
		ClerksArrive:      demo.Range{Min: time.Second, Max: 4 * time.Second},
		ClerkAway:         demo.Range{Min: 12 * time.Second, Max: 20 * time.Second},
		ClerkAwayInterval: demo.Range{Min: 25 * time.Second, Max: 45 * time.Second},
		VisitorInterval:   demo.Range{Min: 3 * time.Second, Max: 6 * time.Second},
		ServiceTime:       demo.Range{Min: 5 * time.Second, Max: 10 * time.Second},
	}
}

// DemoAnalysisFPS is the rate the demo camera is analysed at (its config's
// analytics.fps): every third frame of the 15 fps scene.
const DemoAnalysisFPS = 5

// DemoResolveConfirm is the service's default alerts.resolve_confirm, which
// `hallwatch demo` runs with.
const DemoResolveConfirm = 5 * time.Second

// DemoReport is the outcome of one analysis of a scenario.
type DemoReport struct {
	Scenario string
	Join     time.Duration // when the analysis started
	// Restarted: it started from the state an earlier analysis saved.
	Restarted bool
	Detector  string
	// Crossings: door line, same direction within CrossingTolerance.
	Crossings Score
	// Presence: unstaffed raise and resolve events within AlertTolerance
	// (those of absences about absent_after long count when predicted and
	// are no miss when not, see demoAlerts), raises while a clerk sat in
	// the zone, and how soon absences and returns were noticed.
	Presence PresenceScore
	Raised   int // ground-truth raises matched (not counting optional ones)
	Truth    int // ground-truth raises (not counting optional ones)
	// MaxRaiseDelay is the largest |predicted - truth| time of a matched raise.
	MaxRaiseDelay float64
	// StartAbsent is the time, in the first 10 s of the analysis, windows
	// were reported absent while a clerk sat there since before it
	// started: what a restart costs.
	StartAbsent float64
	// WrongAbsent is the time (seconds, at the analysis rate) windows were
	// reported absent while a clerk had been seated there for longer than
	// resolve_confirm plus AlertTolerance; StillWrongAbsent is the part
	// of it at the window of the clerk who never moves.
	WrongAbsent, StillWrongAbsent float64
	// Seated is the time clerks were seated (same counting), for scale.
	Seated, StillSeated float64
	// Unseen is the time clerks sat at their windows since before the
	// analysis started without having left since, with a detector that
	// cannot see them (motion): their windows are due unknown, not absent,
	// and UnseenAbsent is the time they were reported absent anyway.
	Unseen, UnseenAbsent float64
	// Backup scores the AB post (scenes with SceneOptions.Covered).
	Backup BackupScore
	// Blocked counts camera_blocked alerts raised: the view never is.
	Blocked int
	// Queues scores the services at the windows and the waits.
	Queues QueueScore
	Frames int // frames analysed
	// Units and Decoded: access units encoded and decoded (Codec only);
	// fewer decoded when gating left quiet stretches at key frames.
	Units, Decoded int
	Elapsed        time.Duration
	// Misses describes each unmatched truth and false prediction, e.g.
	// "w2 raised at 35.2 s missed" or "door in at 80.1 s false".
	Misses []string
}

// demoTruth is the scene's ground truth per frame (index frame-1).
type demoTruth struct {
	crossings []Item
	counts    map[string][]int // window -> head count
	since     map[string][]int // window -> first frame of the current occupied run, -1 when empty
	services  []span
	waits     []span // window: the one reached
	// covered: covered window -> its backup's clerk in its zone;
	// covering: backup window -> its clerk away covering (TruthBackup).
	covered, covering map[string][]bool
}

// demoAnalysis is one analysis of a scenario.
type demoAnalysis struct {
	r    DemoReport
	an   *analytics.Analyzer
	thin *analytics.Thinner
	pipe *analytics.Pipeline
	wall time.Time // the scene's first frame
	join int       // first frame it may see
	// state is where it loads its state from before its first frame
	// (DemoScenario.Restart); "" none.
	state   string
	first   int // first frame analysed (Codec: the first key frame from join)
	prev    int
	unseen  map[string]bool // window whose clerk sat there before first, invisible to the detector, not left since
	blind   bool            // the detector cannot see people who were still before it started (motion)
	evs     []events.Event
	elapsed time.Duration
}

// RunDemo plays a scenario through its analyses and scores each against
// the scene's ground truth.
func RunDemo(ctx context.Context, sc DemoScenario) ([]DemoReport, error) {
	scene, err := demo.NewScene(sc.Scene)
	if err != nil {
		return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
	}
	opts := scene.Options()
	cfg := scene.Analytics()
	det := sc.Detector
	if det.Kind == "" {
		det = config.Default().Detector
	}
	fps := float64(opts.FPS)
	joins := sc.Joins
	if len(joins) == 0 {
		joins = []time.Duration{0}
	}
	var state string // the first analysis's state, saved for the restart
	saveAt := -1     // at this frame
	if sc.Restart > 0 {
		if state, err = os.MkdirTemp("", "hallwatch-eval-state-"); err != nil {
			return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
		}
		defer os.RemoveAll(state)
		saveAt = int(math.Round((sc.Restart-restartGap).Seconds()*fps)) + 1
		joins = append(slices.Clone(joins), sc.Restart)
	}
	var enc *avcodec.Encoder
	if sc.Codec {
		// The demo camera's settings (demo.CameraSpec defaults).
		if enc, err = avcodec.NewEncoder(avcodec.EncoderOptions{Width: opts.Width, Height: opts.Height, FPS: opts.FPS,
			GOP: 2 * opts.FPS, BitrateKbps: 1500, Preset: "ultrafast"}); err != nil {
			return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
		}
		defer enc.Close()
	}
	start := time.Date(2024, 1, 8, 9, 0, 0, 0, time.UTC)
	var runs []*demoAnalysis
	defer func() {
		for _, a := range runs {
			if a.pipe != nil {
				a.pipe.Close()
			}
			a.an.Close()
		}
	}()
	for _, j := range joins {
		d, choice, err := analytics.NewDetector(det, cfg.Detector)
		if err != nil {
			return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
		}
		an, err := analytics.NewAnalyzer(analytics.AnalyzerOptions{Camera: "demo", Analytics: cfg, Detector: d,
			Tracker: choice.TrackerOptions(), ResolveConfirm: DemoResolveConfirm})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
		}
		a := &demoAnalysis{wall: start, an: an, thin: analytics.NewThinner(DemoAnalysisFPS), join: int(math.Round(j.Seconds()*fps)) + 1,
			unseen: map[string]bool{}, blind: choice.Kind == analytics.KindMotion,
			r: DemoReport{Scenario: sc.Name, Join: j, Detector: choice.Kind}}
		if sc.Restart > 0 && len(runs) == len(joins)-1 {
			a.state, a.r.Restarted = state, true
		}
		runs = append(runs, a)
		if enc != nil {
			idle := config.DefaultIdleAfter.D()
			if sc.Ungated {
				idle = 0
			}
			a.pipe = analytics.NewPipeline(analytics.PipelineOptions{Analyzer: an, FPS: DemoAnalysisFPS, IdleAfter: idle})
			a.pipe.SetOnFrame(func(evs []events.Event, _ gocv.Mat, wall time.Time) {
				a.analysed(int(math.Round(wall.Sub(start).Seconds()*fps))+1, evs, fps)
			})
			dec, err := avcodec.NewDecoder(avcodec.CodecH264)
			if err != nil {
				return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
			}
			defer dec.Close()
			a.pipe.SetDecoder(&pictures{dec: dec})
		}
	}

	// Truth counts up to the end of the scenario; the analysis runs on for
	// the matching tolerance so that events due at the end can be found.
	end := int(math.Round(sc.Duration.Seconds() * fps))
	frames := end + int(math.Ceil(math.Max(CrossingTolerance, AlertTolerance)*fps))
	truth := demoTruth{counts: map[string][]int{}, since: map[string][]int{}, covered: map[string][]bool{}, covering: map[string][]bool{}}
	var cover demo.TruthEvent       // the AB post's last change
	seatedSince := map[string]int{} // window -> first frame of the current occupied run; absent = empty
	mat := gocv.NewMat()
	defer mat.Close()
	for f := 1; f <= frames; f++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		img, tev := scene.Step()
		for _, e := range tev {
			switch e.Type {
			case demo.TruthCrossing:
				truth.crossings = append(truth.crossings, Item{Frame: e.Frame, Label: e.Direction})
			case demo.TruthService:
				truth.services = append(truth.services, truthSpan(e))
			case demo.TruthWait:
				truth.waits = append(truth.waits, truthSpan(e))
			case demo.TruthBackup:
				cover = e
			case demo.TruthWindow:
				if e.Count > 0 {
					if _, ok := seatedSince[e.Window]; !ok {
						seatedSince[e.Window] = f
					}
				} else {
					delete(seatedSince, e.Window)
					for _, a := range runs {
						delete(a.unseen, e.Window)
					}
				}
			}
		}
		for _, w := range cfg.Windows {
			since, ok := seatedSince[w.ID]
			n := 0
			if !ok {
				since = -1
			} else {
				n = 1
			}
			truth.counts[w.ID] = append(truth.counts[w.ID], n)
			truth.since[w.ID] = append(truth.since[w.ID], since)
			truth.covered[w.ID] = append(truth.covered[w.ID], cover.Window == w.ID && cover.Covered)
			truth.covering[w.ID] = append(truth.covering[w.ID], cover.Backup == w.ID && cover.Covering)
		}
		t := float64(f-1) / fps
		wall := start.Add(time.Duration(t * float64(time.Second)))
		var nalus [][]byte
		var key bool
		if enc != nil {
			if nalus, key, err = enc.Encode(img, int64(f-1)); err != nil {
				return nil, fmt.Errorf("demo scenario %q frame %d: %w", sc.Name, f, err)
			}
		} else if err := toMat(img, &mat); err != nil {
			return nil, fmt.Errorf("demo scenario %q frame %d: %w", sc.Name, f, err)
		}
		if f == saveAt {
			if err := runs[0].an.SaveState(state, wall); err != nil {
				return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
			}
		}
		for _, a := range runs {
			if f < a.join {
				continue
			}
			began := time.Now()
			if a.pipe != nil {
				// Decoding starts at the first key frame from the join on,
				// as the live service's subscription to a camera does.
				if a.first == 0 && key && len(nalus) > 0 {
					if err := a.start(f, seatedSince); err != nil {
						return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
					}
				}
				if a.first > 0 && len(nalus) > 0 {
					if err := a.pipe.Push(analytics.Unit{NALUs: nalus, Key: key, T: t, Wall: wall}); err != nil {
						return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
					}
				}
			} else if a.thin.Due(t) {
				if a.first == 0 {
					if err := a.start(f, seatedSince); err != nil {
						return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
					}
				}
				evs, err := a.an.Process(mat, f, t, wall)
				if err != nil {
					return nil, fmt.Errorf("demo scenario %q: %w", sc.Name, err)
				}
				a.analysed(f, evs, fps)
			}
			a.elapsed += time.Since(began)
		}
	}
	var out []DemoReport
	for _, a := range runs {
		a.score(truth, cfg, opts, end, fps)
		out = append(out, a.r)
	}
	return out, nil
}

// restartGap is how long a restarted service was down.
const restartGap = 5 * time.Second

// start notes the analysis's first frame and the clerks seated then, and
// loads its state if it resumes one.
func (a *demoAnalysis) start(f int, seated map[string]int) error {
	a.first = f
	if a.blind {
		for w := range seated {
			a.unseen[w] = true
		}
	}
	if a.state != "" {
		return a.an.LoadState(a.state)
	}
	return nil
}

// Started says when the analysis started, and how.
func (d DemoReport) Started() string {
	if d.Restarted {
		return d.Join.String() + " (restart)"
	}
	return d.Join.String()
}

// analysed records an analysed frame's events and the windows' states,
// which hold until the next analysed frame.
func (a *demoAnalysis) analysed(f int, evs []events.Event, fps float64) {
	a.r.Frames++
	a.prev = f
	for _, e := range evs {
		e.Frame = f // the scene's frame (a pipeline numbers the units it was given)
		a.evs = append(a.evs, e)
	}
	for _, st := range a.an.Windows() {
		a.evs = append(a.evs, events.Event{Type: "state", Window: st.Window, State: st.State, Frame: f})
	}
	for w := range a.unseen {
		a.evs = append(a.evs, events.Event{Type: "unseen", Window: w, Frame: f})
	}
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
