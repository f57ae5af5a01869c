package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
)

// models locates the yolo model: $HALLWATCH_MODELS or ../shared/models.
type models struct{ cfg, weights string }

func findModels(dir string) (models, error) {
	if dir == "" {
		dir = os.Getenv("HALLWATCH_MODELS")
	}
	if dir == "" {
		dir = filepath.Join("..", "shared", "models")
	}
	m := models{
		cfg:     filepath.Join(dir, "yolo-fastest-1.1-body", "yolo-fastest-1.1_body.cfg"),
		weights: filepath.Join(dir, "yolo-fastest-1.1-body", "yolo-fastest-1.1_body.weights"),
	}
	for _, p := range []string{m.cfg, m.weights} {
		if _, err := os.Stat(p); err != nil {
			return models{}, fmt.Errorf("yolo model: %w (set HALLWATCH_MODELS or --models)", err)
		}
	}
	for _, p := range []*string{&m.cfg, &m.weights} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return models{}, err
		}
		*p = abs
	}
	return m, nil
}

// setDetector points cfg's detector at the model (when there is one) and
// makes motion the default for cameras without an override.
func (b *bench) setDetector(cfg *config.Config) {
	cfg.Detector.Kind = "motion"
	if b.modelErr == nil {
		cfg.Detector.Model, cfg.Detector.Weights = b.models.cfg, b.models.weights
	}
}

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
	cost := map[string]float64{} // scene/detector → cores
	for _, scene := range []string{"quiet", "busy"} {
		base, err := b.analyticsPhase(ctx, cams, scene, "")
		if err != nil {
			return rows, err
		}
		rows = append(rows, row{scenario: sc, measure: scene + ": ingest+relay only (baseline)", value: fmt.Sprintf("%.4f cores", base.cores), verdict: info,
			note: joinNotes("same camera without analytics", base.note())})
		for _, det := range []string{"motion", "yolo"} {
			measure := fmt.Sprintf("%s: %s, cores per camera", scene, det)
			if det == "yolo" && b.modelErr != nil {
				rows = append(rows, row{scenario: sc, measure: measure, value: "-", verdict: skipped, note: b.modelErr.Error()})
				continue
			}
			u, err := b.analyticsPhase(ctx, cams, scene, det)
			if err != nil {
				return rows, err
			}
			cost[scene+"/"+det] = u.cores - base.cores
			rows = append(rows, row{scenario: sc, measure: measure, value: fmt.Sprintf("%.4f", u.cores-base.cores), verdict: info,
				note: fmt.Sprintf("%.4f total − baseline; decode + analysis at %g fps; RSS %s; %s", u.cores, cams.cam.Analytics(scene).FPS, mib(u.peak), u.note())})
		}
	}
	for _, det := range []string{"motion", "yolo"} {
		quiet, ok1 := cost["quiet/"+det]
		busy, ok2 := cost["busy/"+det]
		if ok1 && ok2 && busy > 0 {
			rows = append(rows, row{scenario: sc, measure: det + ": quiet / busy", value: fmt.Sprintf("×%.2f", quiet/busy), verdict: info,
				note: "the design wants a quiet hall to cost close to nothing (motion gating)"})
		}
	}
	return rows, nil
}

// analyticsPhase runs hallwatch on one camera (analysed with det, or not
// at all when det is "") and returns its usage over the window.
func (b *bench) analyticsPhase(ctx context.Context, cams *cameraSet, scene, det string) (usage, error) {
	name := scene + "-" + det
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
	return ch.measure(ctx, b.window)
}
