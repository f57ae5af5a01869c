package analytics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/config"
)

// modelFiles returns the paths of the model shipped in the repository.
func modelFiles() (cfg, weights string) {
	dir := filepath.Join("..", "models", "yolo-fastest-1.1-body")
	return filepath.Join(dir, "yolo-fastest-1.1_body.cfg"), filepath.Join(dir, "yolo-fastest-1.1_body.weights")
}

func TestNewDetectorChoice(t *testing.T) {
	dir := t.TempDir()
	d := config.Default().Detector
	cases := []struct {
		name, kind, model, override string
		want                        string // kind chosen, or error text
		err                         bool
	}{
		{"auto without a model configured: the shipped one", "auto", "", "", KindYOLO, false},
		{"auto with missing files", "auto", filepath.Join(dir, "m.cfg"), "", KindMotion, false},
		{"yolo without a model configured: the shipped one", "yolo", "", "", KindYOLO, false},
		{"motion", "motion", "", "", KindMotion, false},
		{"camera override", "yolo", filepath.Join(dir, "m.cfg"), "motion", KindMotion, false},
		{"yolo with missing files", "yolo", filepath.Join(dir, "m.cfg"), "", "m.cfg", true},
		{"unknown kind", "cnn", "", "", `"cnn"`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d.Kind, d.Model, d.Weights = c.kind, c.model, ""
			if c.model != "" {
				d.Weights = strings.TrimSuffix(c.model, ".cfg") + ".weights"
			}
			det, choice, err := NewDetector(d, c.override)
			if c.err {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("error %v, want one naming %s", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer det.Close()
			if choice.Kind != c.want || choice.Reason == "" {
				t.Fatalf("choice %+v, want %s with a reason", choice, c.want)
			}
		})
	}
}

func TestNewDetectorAutoPicksYOLO(t *testing.T) {
	cfg, weights := modelFiles()
	d := config.Default().Detector
	d.Model, d.Weights = cfg, weights
	det, choice, err := NewDetector(d, "")
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	if choice.Kind != KindYOLO || choice.BirthScore != 0.4 || !strings.Contains(choice.Reason, "auto") {
		t.Fatalf("choice %+v", choice)
	}
	// A damaged weights file: auto falls back to motion and says why.
	bad := filepath.Join(t.TempDir(), "bad.weights")
	if err := os.WriteFile(bad, []byte("not weights"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Weights = bad
	det2, choice, err := NewDetector(d, "")
	if err != nil {
		t.Fatal(err)
	}
	defer det2.Close()
	if choice.Kind != KindMotion || !choice.Fallback || !strings.Contains(choice.Reason, "bad.weights") {
		t.Fatalf("choice %+v, want motion as a fallback with the reason naming bad.weights", choice)
	}
	// So does a missing one, naming it; kind yolo fails instead.
	d.Weights = filepath.Join(t.TempDir(), "gone.weights")
	det3, choice, err := NewDetector(d, "")
	if err != nil {
		t.Fatal(err)
	}
	defer det3.Close()
	if choice.Kind != KindMotion || !choice.Fallback || !strings.Contains(choice.Reason, "gone.weights") {
		t.Fatalf("choice %+v, want motion as a fallback with the reason naming gone.weights", choice)
	}
	d.Kind = KindYOLO
	if _, _, err := NewDetector(d, ""); err == nil || !strings.Contains(err.Error(), "gone.weights") {
		t.Fatalf("kind yolo with a missing weights file: error %v, want one naming it", err)
	}
}

func TestDetectorsRejectBadFrames(t *testing.T) {
	y, err := NewYOLO(YOLOOptions{Model: ShippedModel(), InputSize: 320, ScoreThreshold: 0.3, NMSThreshold: 0.45})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	m := NewMotion(MotionOptions{})
	defer m.Close()
	empty := gocv.NewMat()
	defer empty.Close()
	gray := gocv.NewMatWithSize(240, 320, gocv.MatTypeCV8UC1)
	defer gray.Close()
	for _, d := range []Detector{y, m} {
		for _, f := range []gocv.Mat{empty, gray} {
			if _, err := d.Detect(f); err == nil {
				t.Fatalf("%T accepted a %v frame", d, f.Type())
			}
		}
	}
	if _, err := NewYOLO(YOLOOptions{Model: ShippedModel(), InputSize: 416, ScoreThreshold: 1.5, NMSThreshold: 0.45}); err == nil {
		t.Fatal("score threshold 1.5 accepted")
	}
}

func TestAppearanceDistance(t *testing.T) {
	a := Appearance{0.5, 0.5, 0, 0}
	b := Appearance{0, 0, 0.5, 0.5}
	if d := appearanceDistance(a, a); d > 1e-9 {
		t.Fatalf("identical: %v", d)
	}
	if d := appearanceDistance(a, b); d < 1-1e-9 {
		t.Fatalf("disjoint: %v", d)
	}
	if d := appearanceDistance(a, nil); d != 0 {
		t.Fatalf("missing histogram must not weigh: %v", d)
	}
	mid := blendAppearance(append(Appearance(nil), a...), b, 0.5)
	if d1, d2 := appearanceDistance(mid, a), appearanceDistance(mid, b); d1 >= 1 || d2 >= 1 || d1-d2 > 1e-6 || d2-d1 > 1e-6 {
		t.Fatalf("blend halfway: %v %v", d1, d2)
	}
}
