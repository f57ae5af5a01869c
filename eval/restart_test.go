package eval

import (
	"math"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
)

// An analysis that starts while an unstaffed alert is open (a restart, or
// another node taking the camera over) continues it: the window is absent
// from the start, nothing is raised again, and the alert resolves
// resolve_confirm after the clerk is back by the truth, with either
// detector, through the live service's decoder and pipeline.
func TestRestartWithAlertOpenResolvesOnTime(t *testing.T) {
	for _, kind := range []string{analytics.KindMotion, analytics.KindYOLO} {
		t.Run(kind, func(t *testing.T) {
			left, back, resolved, raised := restartWithAlertOpen(t, kind)
			if left < 0 || back < 0 {
				t.Fatalf("the scene's clerk at w1 left at %g s and came back at %g s: the scenario needs both", left, back)
			}
			want := back + DemoResolveConfirm.Seconds()
			t.Logf("clerk left at %.1f s, back at %.1f s; the open alert resolved at %.1f s (due %.1f s)", left, back, resolved, want)
			if raised >= 0 {
				t.Errorf("w1 raised again at %.1f s while its alert was open", raised)
			}
			if math.Abs(resolved-want) > AlertTolerance {
				t.Errorf("the open alert resolved at %.1f s, want %.1f s ± %g s", resolved, want, AlertTolerance)
			}
		})
	}
}

// restartWithAlertOpen plays a small hall whose clerk at w1 leaves for
// about a minute; an analysis joins 3 s after the absence's alert would be
// due (absent_after after the clerk left), told the alert is open. It
// returns the truth's leaving and return and the analysis's resolve and
// second raise of w1 (seconds of scene time, -1: none).
func restartWithAlertOpen(t *testing.T, detector string) (left, back, resolved, raised float64) {
	scene, err := demo.NewScene(demo.SceneOptions{Seed: 41, Width: 640, Height: 360, FPS: 10, Windows: 2,
		ClerksArrive:      demo.Range{Min: 20 * time.Second, Max: 25 * time.Second},
		ClerkAwayInterval: demo.Range{Min: 15 * time.Second, Max: 30 * time.Second},
		ClerkAway:         demo.Range{Min: 50 * time.Second, Max: 60 * time.Second},
		VisitorInterval:   demo.Range{Min: 3 * time.Second, Max: 6 * time.Second},
		ServiceTime:       demo.Range{Min: 5 * time.Second, Max: 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := scene.Analytics()
	fps := scene.Options().FPS
	d, choice, err := analytics.NewDetector(config.Detector{Kind: detector}, cfg.Detector)
	if err != nil {
		t.Fatal(err)
	}
	an, err := analytics.NewAnalyzer(analytics.AnalyzerOptions{Camera: "demo", Analytics: cfg, Detector: d,
		Tracker: choice.TrackerOptions(), ResolveConfirm: DemoResolveConfirm})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	an.AlertsOpen([]string{"w1"})
	enc, err := avcodec.NewEncoder(avcodec.EncoderOptions{Width: 640, Height: 360, FPS: fps, GOP: 2 * fps, BitrateKbps: 1500, Preset: "ultrafast"})
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := avcodec.NewDecoder(avcodec.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	start := time.Date(2024, 1, 8, 9, 0, 0, 0, time.UTC)
	pipe := analytics.NewPipeline(analytics.PipelineOptions{Analyzer: an, FPS: float64(cfg.FPS), IdleAfter: config.DefaultIdleAfter.D()})
	defer pipe.Close()
	pipe.SetDecoder(&pictures{dec: dec})
	left, back, resolved, raised = -1, -1, -1, -1
	pipe.SetOnFrame(func(evs []events.Event, _ gocv.Mat, wall time.Time) {
		for _, e := range evs {
			if e.Type != events.TypeAlert || e.Window != "w1" || e.Kind != events.KindUnstaffed {
				continue
			}
			at := wall.Sub(start).Seconds()
			if e.State == events.AlertRaised && raised < 0 {
				raised = at
			} else if e.State == events.AlertResolved && resolved < 0 {
				resolved = at
			}
		}
	})
	absentAfter := cfg.Windows[0].AbsentAfter.D().Seconds()
	if absentAfter == 0 {
		absentAfter = analytics.DefaultAbsentAfter.Seconds()
	}
	join := -1.0
	for f := 1; f <= 160*fps && resolved < 0; f++ {
		img, truth := scene.Step()
		at := float64(f-1) / float64(fps)
		for _, e := range truth {
			if e.Type != demo.TruthWindow || e.Window != "w1" {
				continue
			}
			switch {
			case e.Count == 0 && at > 0 && left < 0:
				left, join = at, at+absentAfter+3
			case e.Count > 0 && left >= 0 && back < 0:
				back = at
			}
		}
		nalus, key, err := enc.Encode(img, int64(f-1))
		if err != nil {
			t.Fatal(err)
		}
		if join < 0 || at < join || len(nalus) == 0 {
			continue
		}
		if join > 0 && !key {
			continue // the subscription starts at a key frame
		}
		join = 0
		if err := pipe.Push(analytics.Unit{NALUs: nalus, Key: key, T: at, Wall: start.Add(time.Duration(at * float64(time.Second)))}); err != nil {
			t.Fatal(err)
		}
	}
	return left, back, resolved, raised
}
