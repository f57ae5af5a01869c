package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// Geometry saved in the editor takes effect at the next frame: a window
// keeps its state and alert across the change, watches its new zone, a
// removed window's alert resolves, and a line that did not move keeps
// counting a crossing under way.
func TestReconfigureKeepsWhatAnalysisKnows(t *testing.T) {
	door := config.Line{ID: "door", A: geom.Point{0.1, 0.8}, B: geom.Point{0.9, 0.8}, Inside: geom.Point{0.5, 0.6}}
	w1 := config.Window{ID: "w1", Name: "1", Zone: counter1, AbsentAfter: config.Duration(2 * time.Second), MinStaff: 1}
	w2 := config.Window{ID: "w2", Name: "2", Zone: geom.Polygon{{0.6, 0.25}, {0.9, 0.25}, {0.9, 0.5}, {0.6, 0.5}},
		AbsentAfter: config.Duration(2 * time.Second), MinStaff: 1}
	an, err := NewAnalyzer(AnalyzerOptions{Camera: "hall1", Detector: noDetector{}, Tracker: TrackerOptions{BirthScore: 0.5},
		Analytics: &config.Analytics{Lines: []config.Line{door}, Windows: []config.Window{w1, w2}}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
	frame := 0
	var log []events.Event
	step := func(dets ...Detection) {
		frame++
		tt := float64(frame-1) / 5
		log = append(log, an.Observe(dets, frameSize, frame, tt, start.Add(time.Duration(tt*float64(time.Second))))...)
	}
	stateOf := func(id string) string {
		for _, w := range an.Windows() {
			if w.Window == id {
				return w.State
			}
		}
		return "gone"
	}
	// A clerk sits in w1 (feet at 300,250 px); w2 is empty long enough
	// to raise its alert; a visitor walks down towards the door line.
	for i := range 20 {
		step(person(300, 250), person(500, 380+float64(i)*3))
	}
	if stateOf("w1") != events.StateStaffed || stateOf("w2") != events.StateAbsent || len(alertsOf(log, "w2", events.AlertRaised)) != 1 {
		t.Fatalf("before: w1 %s, w2 %s, events %v", stateOf("w1"), stateOf("w2"), log)
	}

	// Saved: w1 moves to where nobody is, w2 is removed, w3 is drawn
	// around the clerk, the door line stays.
	w1moved := w1
	w1moved.Zone = geom.Polygon{{0.05, 0.05}, {0.15, 0.05}, {0.15, 0.15}, {0.05, 0.15}}
	w3 := config.Window{ID: "w3", Name: "3", Zone: counter1, AbsentAfter: config.Duration(2 * time.Second), MinStaff: 1}
	evs := an.Reconfigure(&config.Analytics{Lines: []config.Line{door}, Windows: []config.Window{w1moved, w3}}, nil, frame, float64(frame-1)/5, start)
	if len(alertsOf(evs, "w2", events.AlertResolved)) != 1 {
		t.Fatalf("removing w2 should resolve its alert, got %v", evs)
	}
	if stateOf("w2") != "gone" || stateOf("w1") != events.StateStaffed || stateOf("w3") != events.StateUnknown {
		t.Fatalf("after reconfigure: w1 %s, w2 %s, w3 %s", stateOf("w1"), stateOf("w2"), stateOf("w3"))
	}
	log = nil
	for i := 20; i < 45; i++ {
		step(person(300, 250), person(500, 380+float64(i)*3))
	}
	if stateOf("w1") != events.StateAbsent || stateOf("w3") != events.StateStaffed {
		t.Errorf("new zones not watched: w1 %s, w3 %s", stateOf("w1"), stateOf("w3"))
	}
	if len(alertsOf(log, "w1", events.AlertRaised)) != 1 {
		t.Errorf("w1 empty in its new zone for 5 s should raise its alert: %v", log)
	}
	crossings := 0
	for _, e := range log {
		if e.Type == events.TypeCrossing && e.Line == "door" && e.Direction == events.DirectionOut {
			crossings++
		}
	}
	if crossings != 1 {
		t.Errorf("the visitor crossing the unchanged door line during the change counted %d times, want 1", crossings)
	}
}

func alertsOf(evs []events.Event, window, state string) []events.Event {
	var out []events.Event
	for _, e := range evs {
		if e.Type == events.TypeAlert && e.Window == window && e.State == state {
			out = append(out, e)
		}
	}
	return out
}

// TestReconfigureAtAnyMoment saves random geometry (windows added,
// removed, reordered, AB posts and queues changed) at random moments while
// people walk, sit and cover windows, with camera gaps between: the
// analysis never fails, and shows exactly the windows in force.
func TestReconfigureAtAnyMoment(t *testing.T) {
	seat := func(i int) geom.Polygon {
		x := 0.1 + 0.2*float64(i)
		return geom.Polygon{{x, 0.25}, {x + 0.15, 0.25}, {x + 0.15, 0.5}, {x, 0.5}}
	}
	serviceZone := func(i int) geom.Polygon {
		x := 0.1 + 0.2*float64(i)
		return geom.Polygon{{x, 0.55}, {x + 0.15, 0.55}, {x + 0.15, 0.7}, {x, 0.7}}
	}
	door := config.Line{ID: "door", A: geom.Point{0.1, 0.85}, B: geom.Point{0.9, 0.85}, Inside: geom.Point{0.5, 0.6}}
	for seed := range int64(20) {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		geometry := func() *config.Analytics {
			a := &config.Analytics{Lines: []config.Line{door}}
			for _, i := range rng.Perm(4)[:rng.IntN(5)] {
				a.Windows = append(a.Windows, config.Window{ID: fmt.Sprintf("w%d", i+1), Zone: seat(i), ServiceZone: serviceZone(i),
					AbsentAfter: config.Duration(2 * time.Second), MinStaff: 1, ServiceMin: config.Duration(time.Second)})
			}
			for i := range a.Windows {
				if j := rng.IntN(len(a.Windows) + 1); j < len(a.Windows) && j != i {
					a.Windows[i].Backup = a.Windows[j].ID
				}
			}
			if rng.IntN(2) == 0 {
				a.QueueZones = []config.QueueZone{{ID: "seats", Zone: geom.Polygon{{0.1, 0.72}, {0.9, 0.72}, {0.9, 0.8}, {0.1, 0.8}}}}
			}
			return a
		}
		an, err := NewAnalyzer(AnalyzerOptions{Camera: "hall1", Detector: noDetector{}, Tracker: TrackerOptions{BirthScore: 0.5},
			Analytics: geometry(), ResolveConfirm: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		s := &stream{t: t, an: an, fps: 5, start: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)}
		// Four people, each sitting at a seat or walking to another,
		// now and then through the door.
		type walker struct{ x, y, toX, toY float64 }
		people := make([]walker, 4)
		for i := range people {
			people[i] = walker{x: 150 + 150*float64(i), y: 250, toX: 150 + 150*float64(i), toY: 250}
		}
		next := s.frame + 5
		for range 400 {
			var dets []Detection
			for i := range people {
				p := &people[i]
				if math.Hypot(p.toX-p.x, p.toY-p.y) < 1 && rng.IntN(20) == 0 {
					p.toX, p.toY = 100+rng.Float64()*570, []float64{250, 250, 430, 520}[rng.IntN(4)]
				}
				dx, dy := p.toX-p.x, p.toY-p.y
				if d := math.Hypot(dx, dy); d > 12 {
					dx, dy = dx*12/d, dy*12/d
				}
				p.x, p.y = p.x+dx, p.y+dy
				if rng.IntN(10) > 0 { // the detector misses one in ten
					dets = append(dets, person(p.x, p.y))
				}
			}
			s.next(dets...)
			if s.frame < next {
				continue
			}
			next = s.frame + 3 + rng.IntN(20)
			if rng.IntN(4) == 0 {
				s.gap(time.Duration(rng.IntN(5)+1) * time.Second)
				continue
			}
			g := geometry()
			s.reconfigure(g)
			var want, got []string
			for _, w := range g.Windows {
				want = append(want, w.ID)
			}
			for _, w := range s.an.Windows() {
				got = append(got, w.Window)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d frame %d: windows %v after saving %v", seed, s.frame, got, want)
			}
		}
	}
}
