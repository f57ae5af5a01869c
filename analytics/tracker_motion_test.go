package analytics

import "testing"

// TestTrackerStopHasHysteresis: a seated clerk's motion blob jitters by a
// couple of pixels of the detector's small frame at its bottom, about
// stopSpread of the box height. Once stopped the track stays stopped
// through that jitter (or the analyzer would release the clerk to the
// background model for a frame, which then learns them), and a walker
// leaving the place is no longer stopped.
func TestTrackerStopHasHysteresis(t *testing.T) {
	tk := NewTracker(TrackerOptions{BirthScore: 0.5})
	now := 0.0
	step := func(d Detection) Track {
		now += 0.2
		tracks := tk.Update(now, []Detection{d}, frameSize)
		if len(tracks) != 1 {
			t.Fatalf("at %.1f s: %d tracks, want 1", now, len(tracks))
		}
		return tracks[0]
	}
	for i := 0; i < 10; i++ { // walks in, 12 px a frame
		if tr := step(person(100+12*float64(i), 300)); tr.Stopped {
			t.Fatalf("walking at %.1f s: stopped", now)
		}
	}
	for i := 0; i < 5; i++ {
		step(person(220, 300))
	}
	if tr := step(person(220, 300)); !tr.Stopped {
		t.Fatal("sat still for 1 s: not stopped")
	}
	for i := 0; i < 50; i++ { // the blob's bottom jitters by 12 % of its height
		jitter := float64(i%3-1) * 10
		if tr := step(person(220, 300+jitter)); !tr.Stopped {
			t.Fatalf("jitter at %.1f s ended the stop", now)
		}
	}
	stopped := true
	for i := 1; i <= 5 && stopped; i++ { // gets up and walks away
		stopped = step(person(220+12*float64(i), 300)).Stopped
	}
	if stopped {
		t.Fatal("walked away for a second: still stopped")
	}
}

// TestTrackerMoved: Moved tells a track that walked from one born where it
// stands (the ghost test of the motion detector applies only to those).
func TestTrackerMoved(t *testing.T) {
	tk := NewTracker(TrackerOptions{BirthScore: 0.5})
	for i := 0; i < 30; i++ {
		jitter := float64(i%3 - 1) // a pixel of sway in place
		tk.Update(float64(i)/5, []Detection{person(200+jitter, 300), person(500+8*float64(i), 300)}, frameSize)
	}
	tracks := tk.Tracks()
	if len(tracks) != 2 {
		t.Fatalf("%d tracks, want 2", len(tracks))
	}
	for _, tr := range tracks {
		walker := tr.Feet[0]*float64(frameSize.X) > 400
		if tr.Moved != walker {
			t.Errorf("track at x=%.0f: Moved %v, want %v", tr.Feet[0]*float64(frameSize.X), tr.Moved, walker)
		}
	}
}

// TestTrackerWideRecovery: a walker's motion blob jumps by more than the
// gate for a frame (the legs came back after passing for a shadow on a dark
// mat, and the box centre with them). With WideRecovery the walking track
// takes it and keeps its id; without, a new track starts.
func TestTrackerWideRecovery(t *testing.T) {
	for _, wide := range []bool{false, true} {
		tk := NewTracker(TrackerOptions{BirthScore: 0.5, WideRecovery: wide})
		var id int
		for i := 0; i < 10; i++ { // walks up the frame at 5 fps
			id = tk.Update(float64(i)/5, []Detection{person(300, 500-12*float64(i))}, frameSize)[0].ID
		}
		// Expected near y 380; the blob is 0.7 box heights lower.
		tracks := tk.Update(2, []Detection{person(300, 380+56)}, frameSize)
		kept := false
		for _, tr := range tracks {
			kept = kept || (tr.ID == id && tr.Seen)
		}
		if kept != wide {
			t.Errorf("WideRecovery %v: track %d took the blob: %v (tracks %+v)", wide, id, kept, tracks)
		}
	}
}
