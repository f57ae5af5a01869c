package analytics

import (
	"math"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// serviceRig runs an analyzer with one window whose service zone is the
// box x 230..540, y 300..460 px of the 768×576 test frame, at 5 fps.
type serviceRig struct {
	t     *testing.T
	an    *Analyzer
	frame int
	start time.Time
	evs   []events.Event
	cfg   *config.Analytics // newQueueRig's
}

func newServiceRig(t *testing.T, min time.Duration) *serviceRig {
	t.Helper()
	w := config.Window{ID: "w1", Name: "1", Zone: counter1, AbsentAfter: config.Duration(time.Minute), MinStaff: 1,
		ServiceZone: geom.Polygon{{0.3, 0.52}, {0.7, 0.52}, {0.7, 0.8}, {0.3, 0.8}}, ServiceMin: config.Duration(min)}
	an, err := NewAnalyzer(AnalyzerOptions{Camera: "hall1", Detector: noDetector{}, Tracker: TrackerOptions{BirthScore: 0.5},
		Analytics: &config.Analytics{Windows: []config.Window{w}}})
	if err != nil {
		t.Fatal(err)
	}
	return &serviceRig{t: t, an: an, start: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)}
}

func (r *serviceRig) now() float64 { return float64(r.frame) / 5 }

func (r *serviceRig) step(dets ...Detection) {
	r.frame++
	tt := r.now()
	r.evs = append(r.evs, r.an.Observe(dets, frameSize, r.frame, tt, r.start.Add(time.Duration(tt*float64(time.Second))))...)
}

func (r *serviceRig) services() []events.Event {
	var out []events.Event
	for _, e := range r.evs {
		if e.Type == events.TypeService {
			out = append(out, e)
		}
	}
	return out
}

// A visitor who stays in the service zone long enough is one service from
// arrival to departure, whatever a dropout of the detector; one who walks
// through, or stays shorter than service_min, is none.
func TestServicesAtAWindow(t *testing.T) {
	r := newServiceRig(t, 4*time.Second)
	// Walks in from the left (outside the zone), sits 8 s at (380, 380)
	// with a 1 s dropout in the middle, walks out to the right.
	for i := range 10 {
		r.step(person(60+float64(i)*15, 380))
	}
	arrive := -1.0
	for i := range 40 {
		if i >= 18 && i < 23 {
			r.step() // the detector misses the visitor for 1 s
			continue
		}
		r.step(person(380, 380))
		if arrive < 0 {
			arrive = r.now()
		}
	}
	leave := r.now()
	for i := range 12 {
		r.step(person(560+float64(i)*15, 380))
	}
	// A second visitor crosses the zone in 2 s; a third stays 3 s (< 4 s).
	for i := range 14 {
		r.step(person(250+float64(i)*25, 340))
	}
	for range 15 {
		r.step(person(450, 420))
	}
	for i := range 12 {
		r.step(person(560+float64(i)*15, 420))
	}
	for range 20 {
		r.step()
	}
	got := r.services()
	if len(got) != 1 {
		t.Fatalf("services %+v, want one", got)
	}
	s := got[0]
	want := leave - arrive
	if s.Window != "w1" || math.Abs(s.Duration-want) > 0.8 {
		t.Errorf("service %+v: window %s, %.1f s; want w1, %.1f s", s, s.Window, s.Duration, want)
	}
	if d := s.Time.Sub(r.start).Seconds() - leave; math.Abs(d) > 0.8 {
		t.Errorf("service ends at %.1f s, want the departure at %.1f s", s.Time.Sub(r.start).Seconds(), leave)
	}
}

// A visitor still being served when the camera goes offline is counted up
// to the last sighting; the window losing its service zone in the editor
// ends the visits there.
func TestServicesEndOnOfflineAndReconfigure(t *testing.T) {
	r := newServiceRig(t, 2*time.Second)
	for range 20 {
		r.step(person(380, 380))
	}
	r.evs = append(r.evs, r.an.SetOffline(r.frame, r.now(), r.start.Add(time.Duration(r.now()*float64(time.Second))))...)
	if got := r.services(); len(got) != 1 || got[0].Duration < 3 {
		t.Fatalf("after offline: services %+v, want one of ~4 s", got)
	}
	for range 20 {
		r.step(person(380, 380))
	}
	w := config.Window{ID: "w1", Name: "1", Zone: counter1, AbsentAfter: config.Duration(time.Minute), MinStaff: 1}
	r.evs = append(r.evs, r.an.Reconfigure(&config.Analytics{Windows: []config.Window{w}}, nil, r.frame, r.now(),
		r.start.Add(time.Duration(r.now()*float64(time.Second))))...)
	if got := r.services(); len(got) != 2 {
		t.Fatalf("after the service zone was removed: services %+v, want two", got)
	}
}
