package analytics

import (
	"image"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// The AB-post rule: window w1's backup is w2, the next seat to the right.
// Pixels of 768x576: w1's zone is x 154..384 (counter1), w2's 422..653,
// the service zone in front of w2 y 346..460.
var (
	counter2  = geom.Polygon{{0.55, 0.25}, {0.85, 0.25}, {0.85, 0.5}, {0.55, 0.5}}
	service2  = geom.Polygon{{0.55, 0.6}, {0.85, 0.6}, {0.85, 0.8}, {0.55, 0.8}}
	ownSeat   = 300.0 // w1's clerk, x px at y 250
	otherSeat = 540.0 // w2's clerk
)

func backupStream(t *testing.T, backup string) *stream {
	t.Helper()
	an, err := NewAnalyzer(AnalyzerOptions{
		Camera: "hall1",
		Analytics: &config.Analytics{Windows: []config.Window{
			{ID: "w1", Zone: counter1, AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1, Backup: backup},
			{ID: "w2", Zone: counter2, ServiceZone: service2, AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1},
		}},
		Detector:       noDetector{},
		Tracker:        TrackerOptions{BirthScore: 0.5},
		ResolveConfirm: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &stream{t: t, an: an, fps: 5, start: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)}
}

// cover plays w1's clerk leaving for 40 s while w2's clerk walks over,
// sits at w1 and walks back when w1's clerk returns; visitor, when set,
// stands at w2's counter from 25 s to 45 s.
func cover(s *stream, visitor bool) { coverLosing(s, visitor, 0, 0) }

// coverLosing is cover with the walker over unseen from the walk's frame
// from to frame to (lost frames, or a detector missing them).
func coverLosing(s *stream, visitor bool, from, to int) {
	at := func(x float64) Detection { return person(x, 250) }
	var extra []Detection
	frame := func(dets ...Detection) {
		s.next(append(dets, extra...)...)
	}
	for range int(10 * s.fps) { // both seated
		frame(at(ownSeat), at(otherSeat))
	}
	for i := range 20 { // w1's clerk walks off to the left, out of sight
		frame(at(ownSeat-15*float64(i+1)), at(otherSeat))
	}
	for i := range 16 { // w2's clerk walks over behind the counter
		if i >= from && i < to {
			frame()
			continue
		}
		frame(at(otherSeat - 15*float64(i+1)))
	}
	for i := range int(30 * s.fps) { // covers w1
		if visitor && i >= 30 && i < 130 {
			extra = []Detection{person(540, 420)}
		} else {
			extra = nil
		}
		frame(at(ownSeat))
	}
	extra = nil
	for i := range 16 { // walks back as w1's clerk comes in from the left
		frame(at(ownSeat+15*float64(i+1)), at(ownSeat-240+15*float64(i+1)))
	}
	for range int(20 * s.fps) {
		frame(at(ownSeat), at(otherSeat))
	}
}

// states lists a window's successive states and its alerts, e.g.
// "staffed absent alert-raised staffed alert-resolved".
func states(log []events.Event, window string) string {
	var out []string
	for _, e := range log {
		if e.Window != window {
			continue
		}
		switch e.Type {
		case events.TypeWindow:
			s := e.State
			if e.State == events.StateCovering {
				s += "(" + e.Reason + ")"
			}
			out = append(out, s)
		case events.TypeAlert:
			out = append(out, "alert-"+e.State)
		}
	}
	return strings.Join(out, " ")
}

func wantStates(t *testing.T, log []events.Event, window, want string) {
	t.Helper()
	if got := states(log, window); got != want {
		t.Errorf("%s: %s\nwant %s", window, got, want)
	}
}

func TestBackupClerkCoversWindow(t *testing.T) {
	s := backupStream(t, "w2")
	cover(s, false)
	// w1: absent while nobody is there, staffed by backup once w2's clerk
	// has sat there resolve_confirm, absent for the handover, staffed when
	// its own clerk is back; w2: absent on the way over, covering, absent
	// on the way back, staffed. No alert though both were empty for longer
	// than absent_after.
	wantStates(t, s.log, "w1", "checking staffed absent staffed_by_backup absent staffed")
	wantStates(t, s.log, "w2", "checking staffed absent covering(w1) absent staffed")
	for _, st := range s.an.Windows() {
		if st.State != events.StateStaffed || st.Alerting {
			t.Errorf("at the end %+v, want staffed", st)
		}
	}
}

// TestBackupClerkLostOnTheWayCovers: the walker over is unseen for 2 s
// from their first steps (a busy machine lost a group of pictures), so a
// new track arrives at w1: it is w2's clerk all the same, w2 covering, no
// alert.
func TestBackupClerkLostOnTheWayCovers(t *testing.T) {
	s := backupStream(t, "w2")
	coverLosing(s, false, 2, 12)
	if n := s.an.tracker.nextID - 1; n < 4 {
		t.Fatalf("%d tracks: the walker's was not lost on the way, the test tests nothing", n)
	}
	wantStates(t, s.log, "w1", "checking staffed absent staffed_by_backup absent staffed")
	wantStates(t, s.log, "w2", "checking staffed absent covering(w1) absent staffed")
}

// standing is a detection of someone standing whose feet are at (x, y):
// taller than the seated person (see person).
func standing(x, y float64) Detection {
	return Detection{Box: image.Rect(int(x-15), int(y-120), int(x+15), int(y)), Score: 0.9}
}

// TestBackupClerkFollowedAnewFromTheSeatCovers: w2's clerk gets up (a
// standing box, too far from the seated one to be the same track) and
// leaves their seat briskly, before the new track is confirmed; at w1 they
// are w2's clerk all the same: their track was first seen in w2's zone.
func TestBackupClerkFollowedAnewFromTheSeatCovers(t *testing.T) {
	s := backupStream(t, "w2")
	w1ClerkLeaves(s)
	seated := idNear(s.an.Tracks(), otherSeat, 250)
	for _, x := range []float64{otherSeat - 20, otherSeat - 70, otherSeat - 120} { // up and out of w2's zone
		s.next(standing(x, 250))
	}
	for x := otherSeat - 135; x >= ownSeat; x -= 15 {
		s.next(standing(x, 250))
	}
	for range int(30 * s.fps) {
		s.next(person(ownSeat, 250))
	}
	if walker := idNear(s.an.Tracks(), ownSeat, 250); walker == seated {
		t.Fatalf("the seated clerk's track %d followed them: the test tests nothing", seated)
	}
	w1, w2 := states(s.log, "w1"), states(s.log, "w2")
	if !strings.HasSuffix(w1, " staffed_by_backup") || !strings.HasSuffix(w2, " covering(w1)") || strings.Contains(w2, "alert") {
		t.Errorf("w1: %s\nw2: %s\nwant w1 staffed by backup, w2 covering, no alert", w1, w2)
	}
}

// TestClerkLostLeavingIsNotACoverer: w1's clerk is away; w2's clerk gets
// up and walks off to the staff door, lost on the way, as w1's clerk comes
// back: w1 staffed by its own clerk (its alert resolved), and w2 raises.
func TestClerkLostLeavingIsNotACoverer(t *testing.T) {
	s := backupStream(t, "w2")
	w1ClerkLeaves(s)
	for range int(20 * s.fps) {
		s.next(person(otherSeat, 250))
	}
	// w2's clerk walks up towards the staff door, lost after 3 steps; w1's
	// clerk comes back once the lost track has ended.
	for i := range 24 {
		var dets []Detection
		if i < 3 {
			dets = append(dets, person(otherSeat, 250-15*float64(i+1)))
		}
		if i >= 14 {
			dets = append(dets, person(ownSeat-150+15*float64(i-13), 250))
		}
		s.next(dets...)
	}
	for range int(20 * s.fps) {
		s.next(person(ownSeat, 250))
	}
	wantStates(t, s.log, "w1", "checking staffed absent alert-raised staffed alert-resolved")
	wantStates(t, s.log, "w2", "checking staffed absent alert-raised")
}

func TestWithoutBackupTheEmptyWindowRaises(t *testing.T) {
	s := backupStream(t, "")
	cover(s, false)
	// The same scene without the rule: w2's clerk counts as w1's staff
	// and w2, empty for 30 s, raises.
	wantStates(t, s.log, "w1", "checking staffed absent staffed absent staffed")
	wantStates(t, s.log, "w2", "checking staffed absent alert-raised staffed alert-resolved")
}

// TestCoveringWindowWithVisitorWaits: a visitor stands at the backup window
// while its clerk covers: absent from the visitor's arrival, raised
// absent_after later, resolved when the visitor leaves and the window is
// covering again.
func TestCoveringWindowWithVisitorWaits(t *testing.T) {
	s := backupStream(t, "w2")
	cover(s, true)
	// The visitor leaves after 20 s; covering again (the alert resolved)
	// until the clerk walks back.
	want := "checking staffed absent covering(w1) absent alert-raised covering(w1) alert-resolved absent staffed"
	if got := states(s.log, "w2"); got != want {
		t.Fatalf("w2: %s\nwant %s", got, want)
	}
	var raised, came float64
	for _, e := range s.log {
		if e.Window == "w2" && e.Type == events.TypeAlert && e.State == events.AlertRaised {
			raised = e.T
		}
	}
	came = 10 + 20/s.fps + 16/s.fps + 30/s.fps // the visitor's first frame
	if d := raised - came; d < 10 || d > 11 {
		t.Errorf("raised %.1f s after the visitor came, want absent_after (10 s) plus confirmation", d)
	}
	if got := states(s.log, "w1"); got != "checking staffed absent staffed_by_backup absent staffed" {
		t.Errorf("w1: %s", got)
	}
}

// coverUntil plays w1's clerk leaving while w2's clerk walks over and
// covers w1 for 15 s, and stops there, w2's clerk still at w1.
func coverUntil(s *stream) {
	w1ClerkLeaves(s)
	for i := range 16 {
		s.next(person(otherSeat-15*float64(i+1), 250))
	}
	for range int(15 * s.fps) {
		s.next(person(ownSeat, 250))
	}
}

// w1ClerkLeaves plays both clerks seated for 10 s, then w1's clerk walking
// off to the left, out of sight, while w2's stays.
func w1ClerkLeaves(s *stream) {
	for range int(10 * s.fps) {
		s.next(person(ownSeat, 250), person(otherSeat, 250))
	}
	for i := range 20 { // w1's clerk walks off to the left, out of sight
		s.next(person(ownSeat-15*float64(i+1), 250), person(otherSeat, 250))
	}
}

// reconfigure puts geometry saved in the editor in force after the last
// frame.
func (s *stream) reconfigure(a *config.Analytics) {
	tt := float64(s.frame-1) / s.fps
	s.log = append(s.log, s.an.Reconfigure(a, nil, s.frame, tt, s.start.Add(time.Duration(tt*float64(time.Second))))...)
}

// gap plays the camera sending nothing for d (a reboot, the network).
func (s *stream) gap(d time.Duration) {
	s.frame++
	tt := float64(s.frame-1) / s.fps
	s.log = append(s.log, s.an.SetOffline(s.frame, tt, s.start.Add(time.Duration(tt*float64(time.Second))))...)
	s.frame += int(d.Seconds() * s.fps)
}

// TestCoveringOutlastsAGap: w2's clerk covers w1 when the camera drops out
// (or the service restarts, or another node takes the camera over);
// afterwards one person sits at w1 and w2 is empty: it is w2's clerk still
// covering, no alert at w2. Unless the gap was too long to tell, the
// newest word says nothing was covered, or w1's own clerk is back and
// w2's clerk at w2 (then w2 leaving later raises).
func TestCoveringOutlastsAGap(t *testing.T) {
	for _, tc := range []struct {
		name string
		// resume: how analysis resumes: after a camera gap, a restart
		// from this node's saved state, or on another node (failover)
		// told what the last node showed (CoveredElsewhere).
		resume string
		gap    time.Duration
		// failover: word is what the last node showed ("covering" as at
		// the stop, or "nothing" covered) and wordAt when, against the
		// stop; own is this node's saved state ("" none, "covering" as at
		// the stop, "nothing" covered) and ownAt when it was saved.
		word, own     string
		wordAt, ownAt time.Duration
		ownBack       bool
		want          string
	}{
		{name: "camera gap", resume: "gap", gap: time.Minute, want: "covering(w1)"},
		{name: "restart", resume: "restart", gap: time.Minute, want: "covering(w1)"},
		{name: "failover", resume: "failover", gap: 20 * time.Second, word: "covering", want: "covering(w1)"},
		{name: "gap too long to tell", resume: "gap", gap: 10 * time.Minute, want: "absent alert-raised"},
		{name: "restart too long ago", resume: "restart", gap: 10 * time.Minute, want: "absent alert-raised"},
		{name: "failover too long ago", resume: "failover", gap: 10 * time.Minute, word: "covering", want: "absent alert-raised"},
		{name: "own clerk back during the gap", resume: "gap", gap: time.Minute, ownBack: true, want: "staffed absent alert-raised"},
		{name: "own clerk back during the restart", resume: "restart", gap: time.Minute, ownBack: true, want: "staffed absent alert-raised"},
		{name: "own clerk back during the failover", resume: "failover", gap: 20 * time.Second, word: "covering", ownBack: true,
			want: "staffed absent alert-raised"},
		{name: "failover over an older state of this node", resume: "failover", gap: 20 * time.Second, word: "covering",
			own: "nothing", ownAt: -3 * time.Minute, want: "covering(w1)"},
		{name: "this node's state newer than the failover's word", resume: "failover", gap: 20 * time.Second,
			word: "nothing", wordAt: -time.Minute, own: "covering", want: "covering(w1)"},
		{name: "the failover's word newer: nothing covered", resume: "failover", gap: 20 * time.Second,
			word: "nothing", wordAt: time.Second, own: "covering", want: "absent alert-raised"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := backupStream(t, "w2")
			coverUntil(s)
			wantStates(t, s.log, "w2", "checking staffed absent covering(w1)")
			end := s.start.Add(time.Duration(float64(s.frame) / s.fps * float64(time.Second)))
			after := s
			switch tc.resume {
			case "gap":
				s.gap(tc.gap)
			case "restart":
				dir := t.TempDir()
				if err := s.an.SaveState(dir, end); err != nil {
					t.Fatal(err)
				}
				after = resumeAfter(t, end.Add(tc.gap), dir)
			case "failover":
				dir := t.TempDir()
				saver := map[string]*Analyzer{"covering": s.an, "nothing": backupStream(t, "w2").an}[tc.own]
				if saver != nil {
					if err := saver.SaveState(dir, end.Add(tc.ownAt)); err != nil {
						t.Fatal(err)
					}
				}
				after = resumeAfter(t, end.Add(tc.gap), dir)
				var covered []string
				if tc.word == "covering" {
					covered = events.CoveredWindows(s.an.Windows())
				}
				after.an.CoveredElsewhere(covered, end.Add(tc.wordAt))
			}
			n := len(after.log)
			if tc.ownBack {
				// w2's clerk found first: the new tracker's id 1, and w1's
				// clerk id 2, the id w2's clerk had before.
				for range int(20 * s.fps) {
					after.next(person(otherSeat, 250), person(ownSeat, 250))
				}
				for i := range 10 { // w2's clerk walks up and away
					after.next(person(otherSeat, 250-15*float64(i+1)), person(ownSeat, 250))
				}
			}
			for range int(30 * s.fps) {
				after.next(person(ownSeat, 250))
			}
			got := strings.TrimPrefix(states(after.log[n:], "w2"), "checking ")
			if got != tc.want {
				t.Errorf("w2 after the %v: %s, want %s (w1: %s)", tc.gap, got, tc.want, states(after.log[n:], "w1"))
			}
		})
	}
}

// resumeAfter starts the analysis anew at start, from the state in dir.
func resumeAfter(t *testing.T, start time.Time, dir string) *stream {
	s := backupStream(t, "w2")
	s.start = start
	if err := s.an.LoadState(dir); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWindowsRemovedWhileATrackIsNew: the editor removes w1 while someone
// at w2 is still new (seen in w2's zone, not yet counted): w2's index
// changes, and the newcomer counts at w2 from the next frames.
func TestWindowsRemovedWhileATrackIsNew(t *testing.T) {
	s := backupStream(t, "")
	s.next(person(otherSeat, 250))
	w2 := config.Window{ID: "w2", Zone: counter2, AbsentAfter: config.Duration(10 * time.Second), MinStaff: 1}
	s.reconfigure(&config.Analytics{Windows: []config.Window{w2}})
	for range int(5 * s.fps) {
		s.next(person(otherSeat, 250))
	}
	if got := events.CoveredWindows(s.an.Windows()); got != nil {
		t.Errorf("covered windows %v, want none", got)
	}
	if ws := s.an.Windows(); len(ws) != 1 || ws[0].Window != "w2" || ws[0].State != events.StateStaffed {
		t.Errorf("windows after the edit: %+v, want w2 staffed", ws)
	}
}
