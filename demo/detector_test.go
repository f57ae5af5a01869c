package demo

import (
	"image"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
)

// TestShippedDetectorFindsPeople runs the person model hallwatch ships over
// the rendered hall and matches its boxes with the people drawn: the demo
// must exercise the detector real halls run, so it must find seated
// clerks behind the counter and visitors standing, sitting and walking,
// and nobody in an empty chair.
func TestShippedDetectorFindsPeople(t *testing.T) {
	s := newScene(t, SceneOptions{Seed: 11, VisitorInterval: Range{3 * time.Second, 6 * time.Second},
		ClerkAwayInterval: Range{20 * time.Second, 40 * time.Second}, ClerkAway: Range{10 * time.Second, 20 * time.Second}})
	y, err := analytics.NewYOLO(analytics.YOLOOptions{Model: analytics.ShippedModel(), InputSize: 416, ScoreThreshold: 0.2, NMSThreshold: 0.45})
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	type tally struct{ people, found int }
	kinds := map[string]*tally{}
	emptyChairs, chairFalse := 0, 0
	for f := 1; f <= 15*120; f++ {
		img, _ := s.Step()
		if f%10 != 0 {
			continue
		}
		m, err := gocv.NewMatFromBytes(img.Height, img.Width, gocv.MatTypeCV8UC3, img.Data)
		if err != nil {
			t.Fatal(err)
		}
		dets, err := y.Detect(m)
		m.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range s.people {
			kind := ""
			switch {
			case p.state == clerkSeated:
				kind = "seated clerk"
			case p.state == visitorWaiting:
				kind = "visitor sitting"
			case p.state == visitorServed:
				kind = "visitor standing"
			case len(p.path) > 0 && !p.behindCounter():
				kind = "visitor walking"
			}
			x0, y0, x1, y1 := s.box(p)
			b := image.Rect(x0, y0, x1, y1).Intersect(image.Rect(0, 0, img.Width, img.Height))
			if kind == "" || b.Dy() < b.Dx() || s.hidden(p, b) {
				continue // away, on the staff side walking, leaving the picture, or behind someone
			}
			k := kinds[kind]
			if k == nil {
				k = &tally{}
				kinds[kind] = k
			}
			k.people++
			for _, d := range dets {
				if d.Score >= 0.4 && analytics.IoU(b, d.Box) >= 0.4 {
					k.found++
					break
				}
			}
		}
		for i, c := range s.people[:s.opts.Windows] {
			if c.state != clerkAway {
				continue
			}
			emptyChairs++
			for _, d := range dets {
				feet := image.Pt((d.Box.Min.X+d.Box.Max.X)/2, d.Box.Max.Y)
				if d.Score >= 0.4 && s.zones[i].Contains(s.norm(feet)) {
					chairFalse++
					break
				}
			}
		}
	}
	for kind, k := range kinds {
		recall := float64(k.found) / float64(k.people)
		t.Logf("%s: found %d of %d (%.3f)", kind, k.found, k.people, recall)
		if k.people < 20 || recall < 0.9 {
			t.Errorf("%s: the shipped detector finds %d of %d", kind, k.found, k.people)
		}
	}
	if len(kinds) != 4 {
		t.Errorf("only %d kinds of people seen", len(kinds))
	}
	t.Logf("empty chairs: %d, taken for a person %d times", emptyChairs, chairFalse)
	if emptyChairs < 20 || chairFalse > 0 {
		t.Errorf("empty chairs %d, taken for a person %d times", emptyChairs, chairFalse)
	}
}
