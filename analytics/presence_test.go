package analytics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// noDetector stands in for a detector: these tests feed detections to
// Analyzer.Observe directly.
type noDetector struct{}

func (noDetector) Detect(gocv.Mat) ([]Detection, error) { return nil, nil }
func (noDetector) Close() error                         { return nil }

// counter1 is window w1's zone: pixels 154..384 x 144..288 of 768x576.
var counter1 = geom.Polygon{{0.2, 0.25}, {0.5, 0.25}, {0.5, 0.5}, {0.2, 0.5}}

// clerk is seated with the feet point at (300, 250) px, inside counter1.
func clerk(rng *rand.Rand) Detection {
	return person(300+rng.Float64()*4-2, 250+rng.Float64()*4-2)
}

type stream struct {
	t     *testing.T
	an    *Analyzer
	fps   float64
	frame int
	start time.Time
	log   []events.Event
}

func newStream(t *testing.T, w config.Window, confirm time.Duration, open func(time.Time) bool) *stream {
	t.Helper()
	if w.Zone == nil {
		w.Zone = counter1
	}
	o := AnalyzerOptions{
		Camera:         "hall1",
		Analytics:      &config.Analytics{Windows: []config.Window{w}},
		Detector:       noDetector{},
		Tracker:        TrackerOptions{BirthScore: 0.5},
		ResolveConfirm: confirm,
	}
	if open != nil {
		o.Open = map[string]func(time.Time) bool{w.ID: open}
	}
	an, err := NewAnalyzer(o)
	if err != nil {
		t.Fatal(err)
	}
	return &stream{t: t, an: an, fps: 5, start: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)}
}

// next feeds one frame and returns its events.
func (s *stream) next(dets ...Detection) []events.Event {
	s.frame++
	tt := float64(s.frame-1) / s.fps
	evs := s.an.Observe(dets, frameSize, s.frame, tt, s.start.Add(time.Duration(tt*float64(time.Second))))
	s.log = append(s.log, evs...)
	return evs
}

// summary writes window and alert events as "state@seconds".
func summary(evs []events.Event) string {
	var parts []string
	for _, e := range evs {
		switch e.Type {
		case events.TypeWindow:
			parts = append(parts, fmt.Sprintf("%s(%d)@%g", e.State, *e.Count, e.T))
		case events.TypeAlert:
			parts = append(parts, fmt.Sprintf("alert-%s@%g", e.State, e.T))
		}
	}
	return strings.Join(parts, " ")
}

func TestStillClerkStaysStaffedForAnHour(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(60 * time.Second), MinStaff: 1}, 5*time.Second, nil)
	hour := int(3600 * s.fps)
	for i := 0; i < hour; i++ {
		sec := float64(i) / s.fps
		// The detector misses 10 % of frames; for 20 s every 5 minutes a
		// visitor stands in front of the clerk, who is not detected then.
		visitor := int(sec)%300 >= 280
		switch {
		case visitor:
			s.next(person(304+rng.Float64()*4-2, 300))
		case rng.Float64() < 0.1:
			s.next()
		default:
			s.next(clerk(rng))
		}
	}
	if got := summary(s.log); got != "checking(0)@0 staffed(1)@0.4" {
		t.Fatalf("events over an hour: %s, want only staffed at the start", got)
	}
	if st := s.an.Windows()[0]; st.State != events.StateStaffed || st.Count != 1 || st.Alerting {
		t.Fatalf("status %+v", st)
	}
}

// TestStillClerkWhoVanishesIsGone: a clerk sat still for ten minutes and is
// then no longer detected, nobody in front (a person pasted into the
// picture who disappears): the window is absent within about a second,
// and when they are back it is staffed once resolve_confirm has passed.
func TestStillClerkWhoVanishesIsGone(t *testing.T) {
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, 2*time.Second, nil)
	c := clerk(rand.New(rand.NewPCG(1, 2)))
	for range int(600 * s.fps) {
		s.next(c)
	}
	for range int(20 * s.fps) {
		s.next()
	}
	for range int(10 * s.fps) {
		s.next(c)
	}
	// Last seen at 599.8 s; dropped once unseen for more than a second,
	// the absence counted from when they were last seen; back at 620 s
	// where they sat, their lost track comes back with the first
	// detection (reviveLost), staffed 2 s later.
	want := "checking(0)@0 staffed(1)@0.4 absent(0)@601 alert-raised@609.8 staffed(1)@622 alert-resolved@622"
	if got := summary(s.log); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestLostClerkFoundWeaklyWasNeverAway: a seated clerk the detector loses
// for 3 s and then finds only weakly where they sat (below the birth
// score, as a network unsure about someone behind a counter) is the same
// clerk: the window turns absent when they are dropped and staffed again
// at once when they are found, without waiting resolve_confirm; a clerk
// gone for longer than absent_after still raises, and resolves only after
// resolve_confirm.
func TestLostClerkFoundWeaklyWasNeverAway(t *testing.T) {
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, 5*time.Second, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	weak := func() Detection {
		d := clerk(rng)
		d.Score = 0.3
		return d
	}
	for range int(10 * s.fps) {
		s.next(clerk(rng))
	}
	for range int(3 * s.fps) {
		s.next()
	}
	for range int(10 * s.fps) {
		s.next(weak())
	}
	for range int(15 * s.fps) {
		s.next()
	}
	for range int(10 * s.fps) {
		s.next(weak())
	}
	// Last seen at 9.8 s, dropped at 11 s, found weakly at 13 s; last
	// seen at 22.8 s, dropped at 24 s, raised 10 s after 22.8 s, found at
	// 38 s and resolved 5 s later.
	want := "checking(0)@0 staffed(1)@0.4 absent(0)@11 staffed(1)@13 absent(0)@24 alert-raised@32.8 staffed(1)@43 alert-resolved@43"
	if got := summary(s.log); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestAbsenceRaisesAfterAbsentAfterAndResolves(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, 2*time.Second, nil)
	for i := 0; i < 50; i++ { // 10 s present
		s.next(clerk(rng))
	}
	for i := 0; i < 100; i++ { // 20 s away: walks off to the right, out of sight
		if i < 20 {
			s.next(person(300+15*float64(i+1), 250))
		} else {
			s.next()
		}
	}
	for i := 0; i < 20; i++ { // back
		s.next(clerk(rng))
	}
	// The feet (median of the last 3 boxes) leave the zone at t=11.2;
	// raised 10 s later; back at t=30, confirmed as a track at t=30.4, plus
	// 2 s confirmation.
	want := "checking(0)@0 staffed(1)@0.4 absent(0)@11.2 alert-raised@21.2 staffed(1)@32.4 alert-resolved@32.4"
	if got := summary(s.log); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	for _, e := range s.log {
		if e.Camera != "hall1" || e.Window != "w1" || e.Frame != int(e.T*s.fps+1.5) {
			t.Fatalf("badly stamped event %+v", e)
		}
		if e.Type == events.TypeAlert && e.Kind != events.KindUnstaffed {
			t.Fatalf("alert kind %q", e.Kind)
		}
	}
}

// TestVisitorAtTheCounterDoesNotDelayTheAlert: a visitor stands at the
// counter, feet just outside the clerk's zone, while the clerk is away.
// The alert is raised absent_after into the absence all the same, as the
// documented rule says: at a counter, visitors always stand there.
func TestVisitorAtTheCounterDoesNotDelayTheAlert(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, 2*time.Second, nil)
	// The visitor's feet are 12-14 px below the zone.
	visitor := func() Detection { return person(300+rng.Float64()*4-2, 300+rng.Float64()*2) }
	for i := 0; i < 50; i++ { // 10 s present
		s.next(clerk(rng), visitor())
	}
	for i := 0; i < 100; i++ { // 20 s away: walks off to the right, out of sight
		if i < 20 {
			s.next(person(300+15*float64(i+1), 250), visitor())
		} else {
			s.next(visitor())
		}
	}
	want := "checking(0)@0 staffed(1)@0.4 absent(0)@11.2 alert-raised@21.2"
	if got := summary(s.log); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestShortReturnDoesNotResolveOrReset(t *testing.T) {
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, 5*time.Second, nil)
	for i := 0; i < 30; i++ { // empty 6 s
		s.next()
	}
	for i := 0; i < 10; i++ { // a visitor walks through the zone for 2 s
		s.next(person(200+18*float64(i), 250))
	}
	for i := 0; i < 50; i++ {
		s.next()
	}
	want := "checking(0)@0 absent(0)@2 alert-raised@10"
	if got := summary(s.log); got != want {
		t.Fatalf("got  %s\nwant %s (absence counted from the start, not reset by 2 s of presence)", got, want)
	}
}

func TestMinStaffTwo(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(5 * time.Second), MinStaff: 2}, 0, nil)
	for i := 0; i < 40; i++ {
		s.next(clerk(rng), person(200, 260)) // two clerks
	}
	for i := 0; i < 40; i++ { // one walks off to the left
		s.next(clerk(rng), person(200-15*float64(i+1), 260))
	}
	want := "checking(0)@0 staffed(2)@0.4 absent(1)@8.8 alert-raised@13.8"
	if got := summary(s.log); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestClosedWindowNeverAlertsAndResolvesOnClose(t *testing.T) {
	closeAt := time.Date(2025, 3, 3, 8, 0, 30, 0, time.UTC)
	openAt := time.Date(2025, 3, 3, 8, 1, 30, 0, time.UTC)
	open := func(t time.Time) bool { return t.Before(closeAt) || !t.Before(openAt) }
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, time.Second, open)
	for i := 0; i < int(120*s.fps); i++ { // nobody for 2 minutes
		s.next()
	}
	// Raised 10 s into the empty morning, resolved when the window closes at
	// 30 s, nothing during the closed minute, checked again at the
	// reopening at 90 s and absence counted from there.
	want := "checking(0)@0 absent(0)@2 alert-raised@10 closed(0)@30 alert-resolved@30 checking(0)@90 absent(0)@92 alert-raised@100"
	if got := summary(s.log); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestOfflineCameraIsUnknownNotAbsent(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, time.Second, nil)
	for i := 0; i < 25; i++ {
		s.next(clerk(rng))
	}
	// The camera drops for 5 minutes: the pipeline reports it once.
	off := s.an.SetOffline(s.frame, float64(s.frame-1)/s.fps, s.start.Add(5*time.Second))
	if got := summary(off); got != "unknown(0)@4.8" {
		t.Fatalf("offline: %s", got)
	}
	if again := s.an.SetOffline(s.frame, 4.8, s.start); len(again) != 0 {
		t.Fatalf("second SetOffline emitted %v", again)
	}
	if st := s.an.Windows()[0]; st.State != events.StateUnknown {
		t.Fatalf("status while offline: %+v", st)
	}
	s.frame += 1500 // back 5 minutes later; the clerk is there
	var evs []events.Event
	for i := 0; i < 10; i++ {
		evs = append(evs, s.next(clerk(rng))...)
	}
	if got := summary(evs); got != "checking(0)@305 staffed(1)@305.4" {
		t.Fatalf("back online with the clerk: %s (checking, then staffed: no absence for the offline period)", got)
	}
}

func TestPendingCrossingsOfUnconfirmedTracksAreDropped(t *testing.T) {
	an, err := NewAnalyzer(AnalyzerOptions{
		Camera:    "hall1",
		Analytics: &config.Analytics{Lines: []config.Line{{ID: "door", A: geom.Point{0.5, 0}, B: geom.Point{0.5, 1}, Inside: geom.Point{0.9, 0.5}}}},
		Detector:  noDetector{}, Tracker: TrackerOptions{BirthScore: 0.5, MinHits: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Frame 1-2: a blip crossing the line, never confirmed.
	var evs []events.Event
	evs = append(evs, an.Observe([]Detection{person(370, 300)}, frameSize, 1, 0, time.Time{})...)
	evs = append(evs, an.Observe([]Detection{person(410, 300)}, frameSize, 2, 0.2, time.Time{})...)
	for i := 3; i < 10; i++ {
		evs = append(evs, an.Observe(nil, frameSize, i, float64(i)/5, time.Time{})...)
	}
	if len(evs) != 0 {
		t.Fatalf("unconfirmed track produced %v", evs)
	}
	// A walker crossing right after appearing (x=400 is the line): the
	// crossing completes at frame 13 while the track is tentative and is
	// reported on confirmation at frame 14, the fifth hit.
	for i := 10; i < 20; i++ {
		x := 370 + 20*float64(i-10)
		evs = append(evs, an.Observe([]Detection{person(x, 400)}, frameSize, i, float64(i)/5, time.Time{})...)
	}
	if len(evs) != 1 || evs[0].Type != events.TypeCrossing || evs[0].Direction != events.DirectionIn || evs[0].Frame != 14 {
		t.Fatalf("got %+v, want one crossing in at frame 14 (confirmation)", evs)
	}
}

// TestBoardReadsWhileProcessing reads the live state from another goroutine
// while frames are analysed (run with -race).
func TestBoardReadsWhileProcessing(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(time.Second), MinStaff: 1}, 0, nil)
	done := make(chan struct{})
	read := make(chan int)
	started := make(chan struct{})
	go func() {
		n := len(s.an.Windows())
		close(started)
		for {
			n += len(s.an.Windows()) + len(s.an.Tracks())
			select {
			case <-done:
				read <- n
				return
			default:
			}
		}
	}()
	<-started
	for i := 0; i < 300; i++ {
		if i%50 < 25 {
			s.next(clerk(rng))
		} else {
			s.next()
		}
	}
	close(done)
	if n := <-read; n == 0 {
		t.Fatal("the reader never saw any state")
	}
}

// An alert left open by a previous run (or the node that ran the camera
// before) is the analysis's own: a clerk back when it starts resolves it
// only after resolve_confirm, and an absence goes on without a second raise.
func TestAlertOpenBeforeStartResolvesAfterConfirm(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	s := newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, 5*time.Second, nil)
	s.an.AlertsOpen([]string{"w1", "w9"})
	for i := 0; i < 50; i++ { // 10 s present from the start
		s.next(clerk(rng))
	}
	got := summary(s.log)
	if !strings.HasSuffix(got, "alert-resolved@5.4") || strings.Contains(got, "alert-raised") {
		t.Fatalf("got %s, want the open alert resolved once the clerk has been there 5 s (tracked from 0.4 s), never raised again", got)
	}

	s = newStream(t, config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}, 5*time.Second, nil)
	s.an.AlertsOpen([]string{"w1"})
	for i := 0; i < 100; i++ { // 20 s nobody
		s.next()
	}
	if got := summary(s.log); strings.Contains(got, "alert-") {
		t.Fatalf("got %s, want the open alert left open and not raised again", got)
	}
}

// A detector that misses a returning clerk in a frame or two does not
// start the return over (the alert resolves resolve_confirm after the
// return), while a gap longer than returnGap does.
func TestReturnBridgesDetectorMisses(t *testing.T) {
	run := func(missed []float64) float64 {
		p := newPresence(config.Window{ID: "w1", AbsentAfter: config.Duration(10 * time.Second)}, 5*time.Second, nil)
		p.raised = true // an alert is open
		wall := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
		for i := 0; i <= 150; i++ { // 5 fps, the clerk back from 2 s on
			tt := float64(i) / 5
			n := 0
			if tt >= 2 && !slices.ContainsFunc(missed, func(m float64) bool { return math.Abs(m-tt) < 1e-6 }) {
				n = 1
			}
			for _, e := range p.update(zoneView{count: n, seen: -1}, tt, wall.Add(time.Duration(tt*float64(time.Second)))) {
				if e.Type == events.TypeAlert && e.State == events.AlertResolved {
					return tt
				}
			}
		}
		return -1
	}
	for _, c := range []struct {
		missed []float64
		want   float64
	}{
		{nil, 7},
		{[]float64{3.6}, 7},      // one frame
		{[]float64{3.6, 3.8}, 9}, // two: the return starts again at 4.0
	} {
		if got := run(c.missed); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("clerk back at 2 s, missed at %v: resolved at %g, want %g", c.missed, got, c.want)
		}
	}
}
