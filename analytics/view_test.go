package analytics

import (
	"image"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// TestBlockedView covers the lens, turns the camera away, blurs and
// freezes the picture of a hall with a clerk seated in a window zone:
// each time the window becomes unknown with the reason and a
// camera_blocked alert is raised, no unstaffed alert, and once the view is
// back the alert resolves and the window is checked and staffed again.
func TestBlockedView(t *testing.T) {
	sc := newScene()
	zone := geom.Polygon{{0.4, 0.4}, {0.7, 0.4}, {0.7, 0.8}, {0.4, 0.8}}
	an, err := NewAnalyzer(AnalyzerOptions{
		Camera:    "hall1",
		Analytics: &config.Analytics{Windows: []config.Window{{ID: "w1", Zone: zone, AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}}},
		Detector:  fixedDetector{person(165, 170)}, Tracker: TrackerOptions{BirthScore: 0.5}, ResolveConfirm: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	n := 0
	var log []events.Event
	run := func(seconds float64, frame func() gocv.Mat) {
		for range int(seconds * 5) {
			n++
			f := frame()
			tt := float64(n-1) / 5
			evs, err := an.Process(f, n, tt, time.Unix(0, 0).Add(time.Duration(tt*float64(time.Second))))
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			log = append(log, evs...)
		}
	}
	normal := func() gocv.Mat { return sc.frame(t, true, 165, 170) }
	live := normal // the scene has sensor noise: no two frames alike
	still := normal()
	defer still.Close()
	frozen := func() gocv.Mat { return still.Clone() }
	// Each way of blocking the view, and the reason it must give.
	cases := []struct {
		name, reason string
		frame        func() gocv.Mat
		seconds      float64
	}{
		{"lens covered", ReasonViewDark, func() gocv.Mat {
			return gocv.NewMatWithSizeFromScalar(gocv.NewScalar(4, 3, 5, 0), sceneH, sceneW, gocv.MatTypeCV8UC3)
		}, 20},
		{"hand on the lens", ReasonViewBlurred, func() gocv.Mat {
			return gocv.NewMatWithSizeFromScalar(gocv.NewScalar(90, 110, 150, 0), sceneH, sceneW, gocv.MatTypeCV8UC3)
		}, 20},
		{"smeared lens", ReasonViewBlurred, func() gocv.Mat {
			f := normal()
			gocv.GaussianBlur(f, &f, image.Pt(0, 0), 4, 4, gocv.BorderReplicate)
			return f
		}, 20},
		{"camera turned to a wall", ReasonViewChanged, func() gocv.Mat {
			f := normal()
			wall := gocv.NewMat()
			gocv.Resize(f, &wall, image.Pt(sceneW*4, sceneH*4), 0, 0, gocv.InterpolationNearestNeighbor)
			crop := wall.Region(image.Rect(40, 30, 40+sceneW, 30+sceneH))
			out := crop.Clone()
			crop.Close()
			wall.Close()
			f.Close()
			gocv.Flip(out, &out, 1)
			return out
		}, 20},
		{"frozen picture", ReasonViewFrozen, frozen, 70},
	}
	run(30, live) // the scene is learned
	for _, c := range cases {
		log = log[:0]
		run(c.seconds, c.frame)
		st := an.Windows()[0]
		if st.State != events.StateUnknown || st.Reason != c.reason {
			t.Errorf("%s: window %+v, want unknown: %q", c.name, st, c.reason)
		}
		var raised bool
		for _, e := range log {
			switch {
			case e.Type == events.TypeAlert && e.Kind == events.KindCameraBlocked && e.State == events.AlertRaised:
				raised = true
				if e.Reason != c.reason || e.Window != "" {
					t.Errorf("%s: alert %+v", c.name, e)
				}
			case e.Type == events.TypeAlert:
				t.Errorf("%s: unexpected alert %+v", c.name, e)
			}
		}
		if !raised {
			t.Errorf("%s: no camera_blocked alert in %s", c.name, summary(log))
		}
		log = log[:0]
		run(6, live)
		if st := an.Windows()[0]; st.State != events.StateStaffed {
			t.Errorf("%s: view back for 6 s, window %+v, want staffed (events %s)", c.name, st, summary(log))
		}
		resolved := false
		for _, e := range log {
			resolved = resolved || (e.Kind == events.KindCameraBlocked && e.State == events.AlertResolved)
		}
		if !resolved {
			t.Errorf("%s: camera_blocked not resolved: %s", c.name, summary(log))
		}
	}
}

// fixedDetector finds the same person in every frame.
type fixedDetector struct{ d Detection }

func (f fixedDetector) Detect(gocv.Mat) ([]Detection, error) { return []Detection{f.d}, nil }
func (fixedDetector) Close() error                           { return nil }
