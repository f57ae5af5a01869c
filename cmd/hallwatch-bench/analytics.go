package main

import (
	"context"
	"fmt"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
)

// setDetector makes motion the default for cameras without an override;
// yolo is the shipped model.
func (b *bench) setDetector(cfg *config.Config) { cfg.Detector.Kind = "motion" }

// runAnalytics measures what analysing one camera costs, per detector, in
// an empty hall (quiet) and in the default demo hall (busy): each phase is
// its own hallwatch with that one camera, and the camera's ingest+relay
// cost (same camera, no analytics section) is subtracted.
func (b *bench) runAnalytics(ctx context.Context) ([]row, error) {
	const sc = "analytics"
	b.logf("analytics: encoding the cameras' loops")
	p := b.profile
	p.Loop = b.analyticsLoop
	cams, err := startCameras([]demo.CameraSpec{spec("quiet", p, quietScene(3)), spec("busy", p, busyScene(4))})
	if err != nil {
		return nil, err
	}
	defer cams.Close()

	var rows []row
	for _, scene := range []string{"quiet", "busy"} {
		base, err := b.analyticsPhase(ctx, cams, scene, "", true)
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{scenario: sc, measure: scene + ": ingest+relay only (baseline)", value: fmt.Sprintf("%.4f cores", base.cores), verdict: info,
			note: joinNotes("same camera without analytics", base.note())})
		target := 0.2 // busy: decode every frame, detect at 5 fps
		if scene == "quiet" {
			target = 0.01 // quiet: key frames only
		}
		for _, det := range []string{"motion", "yolo"} {
			measure := fmt.Sprintf("%s: %s, cores per camera", scene, det)
			u, err := b.analyticsPhase(ctx, cams, scene, det, true)
			if err != nil {
				return rows, err
			}
			gated := u.cores - base.cores
			rows = append(rows, row{scenario: sc, measure: measure, value: fmt.Sprintf("%.4f", gated), target: fmt.Sprintf("< %g", target),
				verdict: check(gated < target),
				note:    fmt.Sprintf("%.4f total − baseline; analysis at %g fps, idle_after %v; RSS %s; %s", u.cores, cams.cam.Analytics(scene).FPS, config.DefaultIdleAfter, mib(u.peak), u.note())})
			if scene != "quiet" {
				continue
			}
			// The same camera with gating off: what a quiet hall would cost
			// if every frame were decoded.
			v, err := b.analyticsPhase(ctx, cams, scene, det, false)
			if err != nil {
				return rows, err
			}
			ungated := v.cores - base.cores
			rows = append(rows, row{scenario: sc, measure: fmt.Sprintf("  baseline: %s, every frame decoded", det), value: fmt.Sprintf("%.4f", ungated), verdict: info,
				note: fmt.Sprintf("idle_after 0s; gating ×%.2f of it; %s", gated/max(ungated, 1e-9), v.note())})
		}
	}
	return rows, nil
}

// analyticsPhase runs hallwatch on one camera (analysed with det, or not
// at all when det is "") and returns its usage over the window.
func (b *bench) analyticsPhase(ctx context.Context, cams *cameraSet, scene, det string, gated bool) (usage, error) {
	name := scene + "-" + det
	if !gated {
		name += "-ungated"
	}
	if det == "" {
		name = scene + "-baseline"
	}
	dir, err := b.tempDir("analytics-" + name)
	if err != nil {
		return usage{}, err
	}
	cfg, err := newConfig(dir)
	if err != nil {
		return usage{}, err
	}
	b.setDetector(cfg)
	cam := config.Camera{ID: scene, Name: scene, URL: cams.cam.URL(scene), Transport: "tcp"}
	if det != "" {
		cam.Analytics = cams.cam.Analytics(scene)
		cam.Analytics.Detector = det
		cam.Analytics.IdleAfter = 0
		if gated {
			cam.Analytics.IdleAfter = config.DefaultIdleAfter
		}
	}
	cfg.Districts = []config.District{{ID: "bench", Name: "bench", Centers: []config.Center{{ID: "hall", Name: "hall", Cameras: []config.Camera{cam}}}}}
	b.logf("analytics: %s, warm-up %v, window %v", name, b.analyticsWarmup, b.window)
	ch, err := startChild(ctx, b.binary, dir, cfg)
	if err != nil {
		return usage{}, err
	}
	defer ch.Stop()
	if err := sleep(ctx, b.analyticsWarmup); err != nil {
		return usage{}, err
	}
	profiled := b.cpuProfile(ctx, ch, "analytics-"+name+".pprof")
	defer profiled()
	return ch.measure(ctx, b.window)
}
