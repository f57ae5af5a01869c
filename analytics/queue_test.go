package analytics

import (
	"math"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// queueZone1 is the seats row at y 472..564 px of the 768×576 test frame,
// below the service zone of newQueueRig's window (y 300..460 px).
var queueZone1 = geom.Polygon{{0.05, 0.82}, {0.95, 0.82}, {0.95, 0.98}, {0.05, 0.98}}

// newQueueRig is a serviceRig (service_min 4 s) whose camera has a queue
// zone feeding its window and, if alert is set, a queue alert.
func newQueueRig(t *testing.T, alert *config.QueueAlert) *serviceRig {
	t.Helper()
	r := newServiceRig(t, 4*time.Second)
	an := &config.Analytics{Windows: []config.Window{{ID: "w1", Name: "1", Zone: counter1, AbsentAfter: config.Duration(time.Minute), MinStaff: 1,
		ServiceZone: geom.Polygon{{0.3, 0.52}, {0.7, 0.52}, {0.7, 0.8}, {0.3, 0.8}}, ServiceMin: config.Duration(4 * time.Second)}},
		QueueZones: []config.QueueZone{{ID: "q1", Zone: queueZone1, Windows: []string{"w1"}}}, QueueAlert: alert}
	an2, err := NewAnalyzer(AnalyzerOptions{Camera: "hall1", Detector: noDetector{}, Tracker: TrackerOptions{BirthScore: 0.5}, Analytics: an})
	if err != nil {
		t.Fatal(err)
	}
	r.an, r.cfg = an2, an
	return r
}

func (r *serviceRig) of(typ string) []events.Event {
	var out []events.Event
	for _, e := range r.evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// walk steps the rig while one person walks from (x0, y0) to (x1, y1) px
// in n frames, others standing at the given points.
func (r *serviceRig) walk(x0, y0, x1, y1 float64, n int, others ...Detection) {
	for i := 1; i <= n; i++ {
		f := float64(i) / float64(n)
		r.step(append([]Detection{person(x0+(x1-x0)*f, y0+(y1-y0)*f)}, others...)...)
	}
}

// A visitor followed from the seats to the window waits from entering the
// queue zone to arriving in the service zone; the minute's sample counts
// them; someone walking past the seats is no one waiting.
func TestQueueWaitFollowed(t *testing.T) {
	r := newQueueRig(t, nil)
	// Walks past the seats in 2 s (under queueMin), then out of view.
	r.walk(60, 520, 700, 520, 10)
	for range 40 {
		r.step()
	}
	// Walks into the seats (enters the zone at y 472), sits 30 s, walks
	// to the window, is served 10 s, leaves.
	r.step(person(380, 520))
	enter := r.now()
	for range 150 {
		r.step(person(380, 520))
	}
	r.walk(380, 520, 380, 380, 10)
	reached := -1.0
	for range 50 {
		r.step(person(380, 380))
		if reached < 0 {
			reached = r.now()
		}
	}
	r.walk(380, 380, 760, 380, 15)
	for range 300 { // past the next minute
		r.step()
	}
	waits := r.of(events.TypeWait)
	if len(waits) != 1 {
		t.Fatalf("waits %+v, want one", waits)
	}
	w := waits[0]
	want := reached - enter
	if w.Estimated || w.Zone != "q1" || w.Window != "w1" || math.Abs(w.Duration-want) > 2.5 {
		t.Errorf("wait %+v, want %.1f s followed from q1 to w1", w, want)
	}
	if got, wantAt := w.Time, r.start.Add(time.Duration(reached*float64(time.Second))); got.Sub(wantAt).Abs() > 2500*time.Millisecond {
		t.Errorf("wait ends at %v, the arrival at the window was %v", got, wantAt)
	}
	qs := r.of(events.TypeQueue)
	if len(qs) == 0 {
		t.Fatal("no queue samples")
	}
	peak := 0
	for _, q := range qs {
		if q.Zone != "q1" || q.Count == nil || q.Time.Second() != 0 {
			t.Fatalf("queue sample %+v", q)
		}
		peak = max(peak, *q.Count)
	}
	if peak != 1 {
		t.Errorf("peak queue %d, want 1 (the passer-by does not wait): %+v", peak, qs)
	}
}

// A visitor whose track is lost while waiting gets an estimated wait; the
// estimate is the people ahead over the windows' service rate when that
// is longer than the time they were seen waiting.
func TestQueueWaitEstimated(t *testing.T) {
	r := newQueueRig(t, nil)
	for range 5 {
		r.step(person(300, 520))
	}
	for range 50 { // 10 s seen waiting, then gone for good
		r.step(person(300, 520))
	}
	for range 100 {
		r.step()
	}
	waits := r.of(events.TypeWait)
	if len(waits) != 1 || !waits[0].Estimated || waits[0].Window != "" || math.Abs(waits[0].Duration-11) > 1.5 {
		t.Fatalf("waits %+v, want one estimated of about 11 s (the time seen waiting)", waits)
	}

	q := newQueueWatch(&config.Analytics{Windows: []config.Window{{ID: "w1", ServiceZone: queueZone1}, {ID: "w2", ServiceZone: queueZone1}, {ID: "w3"}},
		QueueZones: []config.QueueZone{{ID: "q1", Zone: queueZone1}}})
	q.served["w1"] = []float64{100, 200}
	q.served["w2"] = []float64{300}
	start := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)
	q.entries[7] = &queueEntry{zone: "q1", enter: start, ahead: 4, last: 30}
	e := q.estimate(7, 40, start.Add(40*time.Second))
	// Seen 30 s; 4 ahead × mean 200 s over 2 windows with service zones = 400 s.
	if !e.Estimated || e.Duration != 400 || !e.Time.Equal(start.Add(400*time.Second)) || len(q.entries) != 0 {
		t.Fatalf("estimate %+v, want 400 s", e)
	}
	// Nobody ahead: the 30 s seen waiting and the followed visitors' mean
	// walk to a window.
	q.walks = []float64{3, 5}
	q.entries[8] = &queueEntry{zone: "q1", enter: start, last: 30}
	if e := q.estimate(8, 40, start.Add(40*time.Second)); e.Duration != 34 {
		t.Fatalf("estimate %+v, want 34 s", e)
	}
}

// The queue alert is raised once more than people wait for its time, and
// resolved once they did not for as long.
func TestQueueAlert(t *testing.T) {
	r := newQueueRig(t, &config.QueueAlert{People: 1, For: config.Duration(5 * time.Second)})
	two := []Detection{person(200, 520), person(600, 520)}
	for range 20 { // 4 s: under queueMin + For
		r.step(two...)
	}
	if n := len(r.of(events.TypeAlert)); n != 0 {
		t.Fatalf("%d alerts after 4 s", n)
	}
	for range 30 {
		r.step(two...)
	}
	for range 20 { // one left: 4 s
		r.step(person(200, 520))
	}
	for range 30 {
		r.step(person(200, 520))
	}
	// Two wait from 3 s (queueMin), once the tracker confirmed them (up
	// to 1 s): raised at 8-9 s; one from 10 s, the other counted up to
	// zoneGrace longer: resolved at 15-16 s.
	as := r.of(events.TypeAlert)
	if len(as) != 2 || as[0].State != events.AlertRaised || as[1].State != events.AlertResolved ||
		as[0].T < 8 || as[0].T > 9.2 || as[1].T < 15 || as[1].T > 16.2 {
		t.Fatalf("alerts %+v, want raised at 8-9 s and resolved at 15-16 s", as)
	}
	for _, e := range as {
		if e.Kind != events.KindQueueLong || e.Window != "" || e.Camera != "hall1" {
			t.Fatalf("alert %+v", e)
		}
	}
}

// The wait alert counts the visitors still waiting: one who waited long
// and is then served is not waiting any more.
func TestQueueAlertWait(t *testing.T) {
	r := newQueueRig(t, &config.QueueAlert{Wait: config.Duration(10 * time.Second), For: config.Duration(2 * time.Second)})
	for range 40 { // 8 s in the seats
		r.step(person(380, 520))
	}
	r.walk(380, 520, 380, 380, 5)
	for range 100 { // served 20 s
		r.step(person(380, 380))
	}
	if as := r.of(events.TypeAlert); len(as) != 0 {
		t.Fatalf("alerts %+v: nobody waited 10 s", as)
	}
	came := r.now()
	for range 75 { // someone waits 15 s
		r.step(person(200, 520))
	}
	// Over 10 s from entering (once confirmed, up to 1 s), for 2 s.
	if as := r.of(events.TypeAlert); len(as) != 1 || as[0].State != events.AlertRaised || as[0].T-came < 12 || as[0].T-came > 13.2 {
		t.Fatalf("alerts %+v, want raised 12-13 s into the wait from %.1f s", as, came)
	}
}

// New geometry keeps the waits in progress of the queue zones that stay
// and resolves the queue alert it removes.
func TestQueueReconfigure(t *testing.T) {
	alert := &config.QueueAlert{People: 1, For: config.Duration(time.Second)}
	r := newQueueRig(t, alert)
	two := []Detection{person(200, 520), person(600, 520)}
	for range 30 {
		r.step(two...)
	}
	if as := r.of(events.TypeAlert); len(as) != 1 || as[0].State != events.AlertRaised {
		t.Fatalf("alerts %+v, want one raised", as)
	}
	an := *r.cfg
	an.QueueAlert = nil
	evs := r.an.Reconfigure(&an, nil, r.frame, r.now(), r.start.Add(time.Duration(r.now()*float64(time.Second))))
	if len(evs) != 1 || evs[0].Kind != events.KindQueueLong || evs[0].State != events.AlertResolved {
		t.Fatalf("reconfigured without the alert: %+v, want its resolution", evs)
	}
	if n := len(r.an.queue.entries); n != 2 {
		t.Fatalf("%d waits in progress after the new geometry, want 2", n)
	}
	an.QueueZones = nil
	r.an.Reconfigure(&an, nil, r.frame, r.now(), r.start.Add(time.Duration(r.now()*float64(time.Second))))
	if r.an.queue != nil {
		t.Fatal("queue zones removed, still watched")
	}
}
