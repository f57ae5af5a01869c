package analytics

import (
	"fmt"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/models"
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
	// Fallback is set when auto wanted the person model and could not
	// load it: Reason names the file and the fault.
	Fallback bool
	// BirthScore is the detection score that may start a track; weaker
	// detections down to the detector's threshold only extend tracks.
	BirthScore float32
}

// NewDetector builds the detector for a camera from the global detector
// config and the camera's override (analytics.detector, may be empty).
// Kind auto runs the person model (the shipped one unless detector.model
// and detector.weights name another) and falls back to motion when it
// cannot be loaded; kind yolo fails instead.
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
		y, birth, name, err := newYOLOFromConfig(d)
		if err != nil {
			return nil, DetectorChoice{}, err
		}
		return y, DetectorChoice{Kind: KindYOLO, Reason: source + " is yolo: " + name, BirthScore: birth}, nil
	case KindMotion:
		return NewMotion(MotionOptions{}), DetectorChoice{Kind: KindMotion, Reason: source + " is motion", BirthScore: motionBirthScore}, nil
	case KindAuto:
		y, birth, name, err := newYOLOFromConfig(d)
		if err != nil {
			d, choice := motionFallback(fmt.Sprintf("auto: the person model failed to load (%v)", err))
			return d, choice, nil
		}
		return y, DetectorChoice{Kind: KindYOLO, Reason: "auto: " + name, BirthScore: birth}, nil
	}
	return nil, DetectorChoice{}, fmt.Errorf("%s %q: want auto, yolo or motion", source, kind)
}

// motionFallback is the motion detector standing in for the person model,
// with why in the choice's reason.
func motionFallback(why string) (Detector, DetectorChoice) {
	return NewMotion(MotionOptions{}), DetectorChoice{Kind: KindMotion, BirthScore: motionBirthScore, Fallback: true,
		Reason: why + "; using the motion detector instead"}
}

// TrackerOptions returns the tracker settings that suit the detector: its
// birth score, and for the motion detector weak blobs that extend tentative
// tracks, the wide recovery of tracks whose blob jumped, and a long life
// for still tracks: a background model fades whoever stands still, so it
// never confirms them; in window zones its findings on the held boxes
// (Vouch) decide instead, within a second of someone leaving.
func (c DetectorChoice) TrackerOptions() TrackerOptions {
	if c.Kind != KindMotion {
		return TrackerOptions{BirthScore: c.BirthScore}
	}
	return TrackerOptions{BirthScore: c.BirthScore, WeakExtendsTentative: true, WideRecovery: true, StillAge: motionStillAge}
}

// motionStillAge is how long the motion detector's still tracks outside
// window zones live: people who pause on their way are the same people
// when they walk on.
const motionStillAge = 30 * time.Second

// motionBirthScore lets whole blobs start tracks, weak ones only extend them.
const motionBirthScore = (1 + WeakBlobScore) / 2

// newYOLOFromConfig loads the model: the shipped one when detector.model
// and detector.weights are empty, else those files. The detector keeps
// boxes down to half the configured score threshold (not below 0.2) for
// the tracker's second matching stage; the configured threshold is the
// birth score. It returns the model's name for the status.
func newYOLOFromConfig(d config.Detector) (*YOLO, float32, string, error) {
	var m Model
	var name string
	switch {
	case d.Model == "" && d.Weights == "":
		m, name = ShippedModel(), models.BodyName
	case d.Model == "" || d.Weights == "":
		return nil, 0, "", fmt.Errorf("detector.model and detector.weights name the cfg and weights of one model: set both, or neither for the shipped one")
	default:
		var err error
		if m, err = LoadModel(d.Model, d.Weights); err != nil {
			return nil, 0, "", err
		}
		name = "model " + d.Model + " + " + d.Weights
	}
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
	y, err := NewYOLO(YOLOOptions{Model: m, InputSize: size,
		ScoreThreshold: max(min(birth, 0.2), birth/2), NMSThreshold: nms})
	return y, birth, fmt.Sprintf("%s at %d px", name, size), err
}

// NewCameraAnalyzer builds the analyzer of a configured camera (see
// CameraAnalyzerOptions).
func NewCameraAnalyzer(ref config.CameraRef, det config.Detector, alerts config.Alerts) (*Analyzer, DetectorChoice, error) {
	return analyzerFrom(CameraAnalyzerOptions(ref, det, alerts))
}

// analyzerFrom builds the analyzer of options just made (or their error),
// closing their detector if it cannot.
func analyzerFrom(o AnalyzerOptions, choice DetectorChoice, err error) (*Analyzer, DetectorChoice, error) {
	if err != nil {
		return nil, DetectorChoice{}, err
	}
	a, err := NewAnalyzer(o)
	if err != nil {
		o.Detector.Close()
		return nil, DetectorChoice{}, err
	}
	return a, choice, nil
}

// NewMotionFallbackAnalyzer builds the analyzer of a configured camera
// with the motion detector, whatever the configuration asks for: the
// configured detector could not be built (again), for the reason why.
func NewMotionFallbackAnalyzer(ref config.CameraRef, alerts config.Alerts, why string) (*Analyzer, DetectorChoice, error) {
	return analyzerFrom(analyzerOptions(ref, alerts, func(string) (Detector, DetectorChoice, error) {
		d, choice := motionFallback(why)
		return d, choice, nil
	}))
}

// CameraAnalyzerOptions are the analyzer options of a configured camera:
// detector from det and the camera's override, unstaffed alert
// confirmation from alerts, opening hours from each window's schedule in
// the center's time zone. It fails when the camera has no analytics
// section. The caller owns the detector until NewAnalyzer takes it.
func CameraAnalyzerOptions(ref config.CameraRef, det config.Detector, alerts config.Alerts) (AnalyzerOptions, DetectorChoice, error) {
	return analyzerOptions(ref, alerts, func(override string) (Detector, DetectorChoice, error) { return NewDetector(det, override) })
}

// analyzerOptions is CameraAnalyzerOptions with the detector from detect,
// given the camera's override.
func analyzerOptions(ref config.CameraRef, alerts config.Alerts, detect func(override string) (Detector, DetectorChoice, error)) (AnalyzerOptions, DetectorChoice, error) {
	cam := ref.Camera
	if cam == nil || cam.Effective() == nil {
		id := ""
		if cam != nil {
			id = cam.ID
		}
		return AnalyzerOptions{}, DetectorChoice{}, fmt.Errorf("camera %q has no analytics section (lines/windows): nothing to analyse", id)
	}
	an := cam.Effective()
	d, choice, err := detect(an.Detector)
	if err != nil {
		return AnalyzerOptions{}, DetectorChoice{}, fmt.Errorf("camera %q: %w", cam.ID, err)
	}
	return AnalyzerOptions{
		Camera:         cam.ID,
		Analytics:      an,
		Detector:       d,
		Tracker:        choice.TrackerOptions(),
		ResolveConfirm: alerts.ResolveConfirm.D(),
		Open:           OpeningHours(ref.Center, an),
	}, choice, nil
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
