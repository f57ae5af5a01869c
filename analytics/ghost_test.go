package analytics

import (
	"image"
	"image/color"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// ghostRig is the analyzer of the synthetic hall of motion_test.go with one
// window zone (px 128..224 x 96..192), as the service builds it.
type ghostRig struct {
	t     *testing.T
	an    *Analyzer
	sc    *scene
	n     int
	log   []events.Event
	shift int // px the camera is turned by: the picture moves left
}

func newGhostRig(t *testing.T) *ghostRig {
	t.Helper()
	zone := geom.Polygon{{0.4, 0.4}, {0.7, 0.4}, {0.7, 0.8}, {0.4, 0.8}}
	an, err := NewAnalyzer(AnalyzerOptions{
		Camera:         "hall1",
		Analytics:      &config.Analytics{Windows: []config.Window{{ID: "w1", Zone: zone, AbsentAfter: config.Duration(20 * time.Second), MinStaff: 1}}},
		Detector:       NewMotion(MotionOptions{}),
		Tracker:        DetectorChoice{Kind: KindMotion, BirthScore: motionBirthScore}.TrackerOptions(),
		ResolveConfirm: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { an.Close() })
	return &ghostRig{t: t, an: an, sc: newScene()}
}

// step analyses one 5 fps frame, with the person's feet at (x, y) if person.
func (r *ghostRig) step(person bool, x, y int) {
	r.t.Helper()
	r.n++
	f := r.sc.frame(r.t, person, x, y)
	defer f.Close()
	if r.shift != 0 {
		m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
		defer m.Close()
		m.SetDoubleAt(0, 0, 1)
		m.SetDoubleAt(0, 2, -float64(r.shift))
		m.SetDoubleAt(1, 1, 1)
		gocv.WarpAffineWithParams(f, &f, m, image.Pt(f.Cols(), f.Rows()), gocv.InterpolationLinear, gocv.BorderReflect, color.RGBA{})
	}
	tt := r.now()
	evs, err := r.an.Process(f, r.n, tt, time.Unix(0, 0).Add(time.Duration(tt*float64(time.Second))))
	if err != nil {
		r.t.Fatal(err)
	}
	r.log = append(r.log, evs...)
}

func (r *ghostRig) now() float64 { return float64(r.n-1) / 5 }

// states returns the window states entered after time from.
func (r *ghostRig) states(from float64) []string {
	var out []string
	for _, e := range r.log {
		if e.Type == events.TypeWindow && e.T > from {
			out = append(out, e.State)
		}
	}
	return out
}

// TestMotionGhostOfClerkSeatedBeforeStart: analysis starts with the clerk
// already seated, motionless. The background model learns them, so the
// window cannot be known, staffed or empty: it is unknown. When they
// leave, they are seen walking out (staffed, then absent), and the place
// they sat looks like a person to a model that holds them (a ghost). The
// ghost must not keep the window staffed, and when the clerk comes back to
// the very same place (the background model's old picture of it), they
// are seen again.
func TestMotionGhostOfClerkSeatedBeforeStart(t *testing.T) {
	r := newGhostRig(t)
	for i := 0; i < 60; i++ { // seated before the first frame, 12 s
		r.step(true, 165, 170)
	}
	if st := r.an.Windows()[0]; st.State != events.StateUnknown || st.Reason == "" {
		t.Fatalf("the detector never saw the clerk: %+v, want unknown with the reason", st)
	}
	for i := 1; i <= 10; i++ { // gets up and leaves to the right
		r.step(true, 165+6*i, 170)
	}
	up := r.now() // out of the zone
	for i := 11; i <= 30; i++ {
		r.step(true, 165+6*i, 170)
	}
	for i := 0; i < 100; i++ { // away for 20 s
		r.step(false, 0, 0)
	}
	for _, s := range r.states(up) {
		if s == events.StateStaffed {
			t.Fatalf("staffed while the clerk was away (a ghost): events %s", summary(r.log))
		}
	}
	if st := r.an.Windows()[0]; st.State != events.StateAbsent || !st.Alerting {
		t.Fatalf("after 20 s away: %+v, want absent and alerting", st)
	}
	for i := 30; i >= 1; i-- { // back to the same chair
		r.step(true, 165+6*i, 170)
	}
	seated := r.now()
	for i := 0; i < 50; i++ {
		r.step(true, 165, 170)
	}
	var staffedAt float64
	for _, e := range r.log {
		if e.Type == events.TypeWindow && e.State == events.StateStaffed && e.T > seated-2 {
			staffedAt = e.T
			break
		}
	}
	if staffedAt == 0 || staffedAt-seated > 2+3 {
		t.Fatalf("seated again at %.1f s, staffed at %.1f s: want within resolve_confirm + 3 s (events %s)", seated, staffedAt, summary(r.log))
	}
	if st := r.an.Windows()[0]; st.State != events.StateStaffed || st.Alerting {
		t.Fatalf("10 s after coming back: %+v", st)
	}
}

// TestMotionPersonAppearingInPlaceIsNoGhost: someone first seen where they
// stay (they sat down hidden behind a visitor) is born where they stand,
// like a ghost, and is checked as one for as long as they sit: they must
// never be taken for one.
func TestMotionPersonAppearingInPlaceIsNoGhost(t *testing.T) {
	if testing.Short() {
		t.Skip("long synthetic video")
	}
	r := newGhostRig(t)
	for i := 0; i < 50; i++ { // empty hall
		r.step(false, 0, 0)
	}
	for i := 0; i < 600; i++ { // there, 2 minutes
		r.step(true, 165+i%2, 170)
	}
	appeared := 10.0
	if got := r.states(appeared); len(got) != 1 || got[0] != events.StateStaffed {
		t.Fatalf("events %s: want staffed once from the appearance at %.0f s on", summary(r.log), appeared)
	}
	for _, e := range r.log {
		if e.Type == events.TypeWindow && e.State == events.StateStaffed && e.T-appeared > 2+1 {
			t.Fatalf("staffed at %.1f s, appeared at %.0f s: want within resolve_confirm + 1 s", e.T, appeared)
		}
	}
	if st := r.an.Windows()[0]; st.State != events.StateStaffed {
		t.Fatalf("after two minutes: %+v", st)
	}
}

// TestMotionSplitsPeopleInFile: three people walking in file towards the
// camera overlap into one blob far too tall for a person once closed; their
// parts apart, each is reported as a weak blob (it extends their tracks,
// starts none).
func TestMotionSplitsPeopleInFile(t *testing.T) {
	m := NewMotion(MotionOptions{})
	defer m.Close()
	sc := newScene()
	for i := 0; i < 50; i++ {
		f := sc.frame(t, false, 0, 0)
		if _, err := m.Detect(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	px := make([]byte, len(sc.bg))
	copy(px, sc.bg)
	feet := []int{110, 164, 218} // 48 px tall, 6 px apart: the closing joins them
	for _, y := range feet {
		for py := y - 48; py < y; py++ {
			for qx := 152; qx < 168; qx++ {
				i := (py*sceneW + qx) * 3
				px[i], px[i+1], px[i+2] = 150, 60, 40
			}
		}
	}
	f, err := gocv.NewMatFromBytes(sceneH, sceneW, gocv.MatTypeCV8UC3, px)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dets, err := m.Detect(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(dets) != len(feet) {
		t.Fatalf("%d detections %+v, want one per person", len(dets), dets)
	}
	for i, d := range dets {
		if d.Score != WeakBlobScore {
			t.Errorf("detection %v: score %v, want WeakBlobScore", d.Box, d.Score)
		}
		want := image.Rect(152, feet[len(feet)-1-i]-48, 168, feet[len(feet)-1-i])
		if IoU(d.Box, want) < 0.7 {
			t.Errorf("detection %v, want about %v", d.Box, want)
		}
	}
}

// TestMotionBlobSizeFollowsFrameHeight: the blob size limits are shares of
// a 4:3 frame of the same height, so a person as tall (as a share of the
// frame height) gets the same verdict in a 16:9 frame, which only shows
// more beside them.
func TestMotionBlobSizeFollowsFrameHeight(t *testing.T) {
	m := NewMotion(MotionOptions{})
	defer m.Close()
	for _, share := range []float64{0.03, 0.05, 0.07, 0.1, 0.3, 0.6} {
		var verdicts []float32
		for _, sh := range []int{216, 288} { // 384 wide: 16:9 and 4:3
			h := int(share * float64(sh))
			score, shape := m.judge(image.Rect(0, 0, h*10/25, h), sh)
			if shape != personShape {
				score = -1
			}
			verdicts = append(verdicts, score)
		}
		if verdicts[0] != verdicts[1] {
			t.Errorf("person %.0f %% of the frame height: 16:9 score %v, 4:3 %v", 100*share, verdicts[0], verdicts[1])
		}
	}
}
