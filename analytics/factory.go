package analytics

import (
	"fmt"
	"os"
	"time"

	"github.com/hallwatch/hallwatch/config"
)

// Detector kinds.
const (
	KindAuto   = "auto"
	KindYOLO   = "yolo"
	KindMotion = "motion"
)

// DetectorChoice says which detector a camera runs and why, for the log
// and the camera status page.
type DetectorChoice struct {
	Kind   string // KindYOLO or KindMotion
	Reason string
	// BirthScore is the detection score that may start a track; weaker
	// detections down to the detector's threshold only extend tracks.
	BirthScore float32
}

// NewDetector builds the detector for a camera from the global detector
// config and the camera's override (analytics.detector, may be empty).
// Kind auto picks yolo when both model files exist and load, else motion.
func NewDetector(d config.Detector, override string) (Detector, DetectorChoice, error) {
	kind, source := d.Kind, "detector.kind"
	if override != "" {
		kind, source = override, "camera analytics.detector"
	}
	if kind == "" {
		kind = KindAuto
	}
	switch kind {
	case KindYOLO:
		y, birth, err := newYOLOFromConfig(d)
		if err != nil {
			return nil, DetectorChoice{}, err
		}
		return y, DetectorChoice{Kind: KindYOLO, Reason: source + " is yolo", BirthScore: birth}, nil
	case KindMotion:
		return NewMotion(MotionOptions{}), DetectorChoice{Kind: KindMotion, Reason: source + " is motion", BirthScore: motionBirthScore}, nil
	case KindAuto:
		for _, p := range []string{d.Model, d.Weights} {
			if p == "" {
				return NewMotion(MotionOptions{}), DetectorChoice{Kind: KindMotion, BirthScore: motionBirthScore,
					Reason: "auto: no yolo model configured (detector.model/detector.weights), using motion"}, nil
			}
			if _, err := os.Stat(p); err != nil {
				return NewMotion(MotionOptions{}), DetectorChoice{Kind: KindMotion, BirthScore: motionBirthScore,
					Reason: fmt.Sprintf("auto: yolo model file unavailable (%v), using motion", err)}, nil
			}
		}
		y, birth, err := newYOLOFromConfig(d)
		if err != nil {
			return NewMotion(MotionOptions{}), DetectorChoice{Kind: KindMotion, BirthScore: motionBirthScore,
				Reason: fmt.Sprintf("auto: yolo model does not load (%v), using motion", err)}, nil
		}
		return y, DetectorChoice{Kind: KindYOLO, Reason: fmt.Sprintf("auto: model %s found", d.Weights), BirthScore: birth}, nil
	}
	return nil, DetectorChoice{}, fmt.Errorf("%s %q: want auto, yolo or motion", source, kind)
}

// TrackerOptions returns the tracker settings that suit the detector: its
// birth score, and for the motion detector weak blobs that extend tentative
// tracks and the wide recovery of tracks whose blob jumped.
func (c DetectorChoice) TrackerOptions() TrackerOptions {
	motion := c.Kind == KindMotion
	return TrackerOptions{BirthScore: c.BirthScore, WeakExtendsTentative: motion, WideRecovery: motion}
}

// motionBirthScore lets whole blobs start tracks, weak ones only extend them.
const motionBirthScore = (1 + WeakBlobScore) / 2

// newYOLOFromConfig loads the model. The detector keeps boxes down to half
// the configured score threshold (not below 0.2) for the tracker's second
// matching stage; the configured threshold is the birth score.
func newYOLOFromConfig(d config.Detector) (*YOLO, float32, error) {
	size := d.InputSize
	if size == 0 {
		size = 416
	}
	birth := float32(d.ScoreThreshold)
	if birth <= 0 {
		birth = 0.4
	}
	nms := float32(d.NMSThreshold)
	if nms <= 0 {
		nms = 0.45
	}
	y, err := NewYOLO(YOLOOptions{Cfg: d.Model, Weights: d.Weights, InputSize: size,
		ScoreThreshold: max(min(birth, 0.2), birth/2), NMSThreshold: nms})
	return y, birth, err
}

// NewCameraAnalyzer builds the analyzer of a configured camera: detector
// from det and the camera's override, unstaffed alert confirmation from
// alerts, opening hours from each window's schedule in the center's time
// zone. It fails when the camera has no analytics section.
func NewCameraAnalyzer(ref config.CameraRef, det config.Detector, alerts config.Alerts) (*Analyzer, DetectorChoice, error) {
	cam := ref.Camera
	if cam == nil || cam.Effective() == nil {
		id := ""
		if cam != nil {
			id = cam.ID
		}
		return nil, DetectorChoice{}, fmt.Errorf("camera %q has no analytics section (lines/windows): nothing to analyse", id)
	}
	an := cam.Effective()
	d, choice, err := NewDetector(det, an.Detector)
	if err != nil {
		return nil, DetectorChoice{}, fmt.Errorf("camera %q: %w", cam.ID, err)
	}
	a, err := NewAnalyzer(AnalyzerOptions{
		Camera:         cam.ID,
		Analytics:      an,
		Detector:       d,
		Tracker:        choice.TrackerOptions(),
		ResolveConfirm: alerts.ResolveConfirm.D(),
		Open:           OpeningHours(ref.Center, an),
	})
	if err != nil {
		d.Close()
		return nil, DetectorChoice{}, err
	}
	return a, choice, nil
}

// OpeningHours returns, by window id, whether each window of an is open at
// a wall-clock time (its schedule and holidays in the center's zone).
func OpeningHours(center *config.Center, an *config.Analytics) map[string]func(time.Time) bool {
	open := map[string]func(time.Time) bool{}
	for i := range an.Windows {
		w := &an.Windows[i]
		open[w.ID] = func(t time.Time) bool { return w.OpenAt(t, center) }
	}
	return open
}
