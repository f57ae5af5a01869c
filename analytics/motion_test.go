package analytics

import (
	"math/rand/v2"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// scene renders a 320x240 hall: a fixed random texture as background,
// sensor noise on every frame, and optionally a 16x48 px person whose feet
// are at (x, y).
type scene struct {
	bg  []byte
	rng *rand.Rand
}

const sceneW, sceneH = 320, 240

func newScene() *scene {
	rng := rand.New(rand.NewPCG(1, 1))
	bg := make([]byte, sceneW*sceneH*3)
	for y := 0; y < sceneH; y++ {
		for x := 0; x < sceneW; x++ {
			v := byte(110 + (x/8+y/8)%2*30 + rng.IntN(20)) // tiles, like a floor
			i := (y*sceneW + x) * 3
			bg[i], bg[i+1], bg[i+2] = v, v, v+10
		}
	}
	return &scene{bg: bg, rng: rng}
}

func (s *scene) frame(t *testing.T, person bool, x, y int) gocv.Mat {
	t.Helper()
	px := make([]byte, len(s.bg))
	copy(px, s.bg)
	if person {
		for py := y - 48; py < y; py++ {
			for qx := x - 8; qx < x+8; qx++ {
				if py < 0 || py >= sceneH || qx < 0 || qx >= sceneW {
					continue
				}
				i := (py*sceneW + qx) * 3
				px[i], px[i+1], px[i+2] = 150, 60, 40 // a dark blue jacket (BGR)
				if py < y-40 {
					px[i], px[i+1], px[i+2] = 120, 160, 200 // face
				}
			}
		}
	}
	for i := range px {
		n := int(px[i]) + s.rng.IntN(7) - 3
		px[i] = byte(min(255, max(0, n)))
	}
	m, err := gocv.NewMatFromBytes(sceneH, sceneW, gocv.MatTypeCV8UC3, px)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestMotionKeepsStillClerk: a clerk walks to the window and sits still for
// 2000 frames (6.7 minutes at 5 fps; MOG2 learns over 300 frames, so an
// unhelped background model absorbs them many times over), then leaves.
func TestMotionKeepsStillClerk(t *testing.T) {
	if testing.Short() {
		t.Skip("long synthetic video")
	}
	zone := geom.Polygon{{0.4, 0.4}, {0.7, 0.4}, {0.7, 0.8}, {0.4, 0.8}} // px 128..224 x 96..192
	an, err := NewAnalyzer(AnalyzerOptions{
		Camera:         "hall1",
		Analytics:      &config.Analytics{Windows: []config.Window{{ID: "w1", Zone: zone, AbsentAfter: config.Duration(20 * time.Second), MinStaff: 1}}},
		Detector:       NewMotion(MotionOptions{}),
		Tracker:        TrackerOptions{BirthScore: 0.5},
		ResolveConfirm: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer an.Close()
	bare := NewMotion(MotionOptions{}) // the same detector without hints, for contrast
	defer bare.Close()

	sc := newScene()
	const fps, still = 5, 2000
	n := 0
	var log []events.Event
	var bareSeesClerk bool
	step := func(person bool, x, y int) {
		n++
		f := sc.frame(t, person, x, y)
		defer f.Close()
		tt := float64(n-1) / fps
		evs, err := an.Process(f, n, tt, time.Unix(0, 0).Add(time.Duration(tt*float64(time.Second))))
		if err != nil {
			t.Fatal(err)
		}
		log = append(log, evs...)
		dets, err := bare.Detect(f)
		if err != nil {
			t.Fatal(err)
		}
		bareSeesClerk = len(dets) > 0
	}
	for i := 0; i < 50; i++ { // empty hall: backgrounds settle
		step(false, 0, 0)
	}
	for i := 0; i < 30; i++ { // walks in from the left
		step(true, 20+5*i, 170)
	}
	for i := 0; i < still; i++ { // seated, a pixel of sway
		step(true, 165+i%2, 170)
	}
	if bareSeesClerk {
		t.Fatal("plain MOG2 still sees the seated clerk: the scene does not exercise fading")
	}
	// The motion detector cannot tell an empty hall from one whose clerk
	// sat still before it started: unknown, never absent, until the clerk
	// is seen.
	if got := summary(log); got != "checking(0)@0 unknown(0)@2 staffed(1)@14.6" {
		t.Fatalf("events up to the end of the sitting: %s, want staffed from arrival on", got)
	}
	if st := an.Windows()[0]; st.State != events.StateStaffed || st.Count != 1 {
		t.Fatalf("after %d still frames: %+v", still, st)
	}
	leftAt := float64(n) / fps
	for i := 0; i < 30; i++ { // leaves to the right
		step(true, 170+6*i, 170)
	}
	for i := 0; i < 150; i++ {
		step(false, 0, 0)
	}
	var absentAt, raisedAt float64
	for _, e := range log {
		switch {
		case e.Type == events.TypeWindow && e.State == events.StateAbsent && e.T > leftAt:
			absentAt = e.T
		case e.Type == events.TypeAlert && e.State == events.AlertRaised:
			raisedAt = e.T
		}
	}
	if absentAt == 0 || absentAt-leftAt > 5 {
		t.Fatalf("left at %.1f s, absent at %.1f s: want within 5 s (events %s)", leftAt, absentAt, summary(log))
	}
	if raisedAt-absentAt < 19.9 || raisedAt-absentAt > 20.1 {
		t.Fatalf("absent at %.1f s, raised at %.1f s: want 20 s later", absentAt, raisedAt)
	}
}
