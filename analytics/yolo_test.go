package analytics

import (
	"image"
	"image/color"
	"slices"
	"testing"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/demo"
)

// TestYOLOLooksAgainOnlyWhenThePictureChanged: the network runs again when
// someone moved or the picture's size changed, not for sensor noise, and
// an unchanged picture gets the findings of the last look.
func TestYOLOLooksAgainOnlyWhenThePictureChanged(t *testing.T) {
	scene, err := demo.NewScene(demo.SceneOptions{Seed: 7, Width: 960, Height: 540})
	if err != nil {
		t.Fatal(err)
	}
	img, _ := scene.Step()
	still, err := gocv.NewMatFromBytes(img.Height, img.Width, gocv.MatTypeCV8UC3, img.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer still.Close()
	y, err := NewYOLO(YOLOOptions{Model: ShippedModel(), InputSize: 416, ScoreThreshold: 0.4, NMSThreshold: 0.45})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()

	first, err := y.Detect(still)
	if err != nil || len(first) < 3 {
		t.Fatalf("seated clerks of the demo hall: %d found (%v), want at least 3", len(first), err)
	}

	noisy := still.Clone()
	defer noisy.Close()
	noise := gocv.NewMatWithSize(still.Rows(), still.Cols(), gocv.MatTypeCV8UC3)
	defer noise.Close()
	gocv.RandU(&noise, gocv.NewScalar(0, 0, 0, 0), gocv.NewScalar(4, 4, 4, 0))
	gocv.Add(noisy, noise, &noisy)
	again, err := y.Detect(noisy)
	if err != nil || y.Looks() != 1 || !slices.EqualFunc(again, first, sameBox) {
		t.Errorf("sensor noise: %d network runs (want 1), %v, found %v, want %v", y.Looks(), err, again, first)
	}

	// Someone walks in: a person-sized patch in the middle of the hall.
	moved := still.Clone()
	defer moved.Close()
	gocv.Rectangle(&moved, image.Rect(450, 250, 490, 350), color.RGBA{R: 200, G: 40, B: 40}, -1)
	if _, err := y.Detect(moved); err != nil || y.Looks() != 2 {
		t.Errorf("someone new: %d network runs (%v), want 2", y.Looks(), err)
	}
	if _, err := y.Detect(moved); err != nil || y.Looks() != 2 {
		t.Errorf("the same picture again: %d network runs (%v), want 2", y.Looks(), err)
	}

	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(moved, &small, image.Pt(640, 360), 0, 0, gocv.InterpolationArea)
	if _, err := y.Detect(small); err != nil || y.Looks() != 3 {
		t.Errorf("a smaller picture (camera reconnected at another size): %d network runs (%v), want 3", y.Looks(), err)
	}
}

func sameBox(a, b Detection) bool { return a.Box == b.Box && a.Score == b.Score }
