package analytics

import (
	"image"
	"testing"
	"time"
)

var frameSize = image.Pt(768, 576)

// person returns a 30x80 px detection whose feet are at (x, y) pixels.
func person(x, y float64) Detection {
	return Detection{Box: image.Rect(int(x-15), int(y-80), int(x+15), int(y)), Score: 0.9}
}

// idNear returns the id of the live track whose feet are closest to (x, y).
func idNear(tracks []Track, x, y float64) int {
	best, id := 1e9, 0
	for _, tr := range tracks {
		dx := tr.Feet[0]*float64(frameSize.X) - x
		dy := tr.Feet[1]*float64(frameSize.Y) - y
		if d := dx*dx + dy*dy; d < best {
			best, id = d, tr.ID
		}
	}
	return id
}

func TestTrackerKeepsIDThroughOcclusion(t *testing.T) {
	tk := NewTracker(TrackerOptions{BirthScore: 0.5})
	var id int
	for i := 0; i <= 60; i++ { // 10 fps, 6 px a frame
		x := 100 + 6*float64(i)
		var dets []Detection
		if i < 20 || i >= 30 { // hidden behind a pillar for a second
			dets = []Detection{person(x, 300)}
		}
		tracks := tk.Update(float64(i)/10, dets, frameSize)
		if len(tracks) != 1 {
			t.Fatalf("frame %d: %d tracks, want 1", i, len(tracks))
		}
		if i == 10 {
			id = tracks[0].ID
		}
		if i > 10 && tracks[0].ID != id {
			t.Fatalf("frame %d: id changed from %d to %d", i, id, tracks[0].ID)
		}
	}
}

func TestTrackerTwoPeoplePassingKeepIDs(t *testing.T) {
	red := Appearance{1, 0, 0, 0}
	blue := Appearance{0, 0, 0, 1}
	for _, withLook := range []bool{false, true} {
		tk := NewTracker(TrackerOptions{BirthScore: 0.5})
		var idA, idB int
		for i := 0; i <= 40; i++ {
			xa := 200 + 8*float64(i) // A walks right
			xb := 520 - 8*float64(i) // B walks left, 10 px lower; they meet at i=20
			a, b := person(xa, 300), person(xb, 310)
			if withLook {
				a.Appearance, b.Appearance = red, blue
			}
			dets := []Detection{a, b}
			if i >= 19 && i <= 21 { // merged into one box while they overlap
				dets = []Detection{person((xa+xb)/2, 305)}
			}
			tracks := tk.Update(float64(i)/10, dets, frameSize)
			if i == 5 {
				idA, idB = idNear(tracks, xa, 300), idNear(tracks, xb, 310)
			}
			if i >= 30 {
				if got := idNear(tracks, xa, 300); got != idA {
					t.Fatalf("appearance %v, frame %d: A has id %d, want %d", withLook, i, got, idA)
				}
				if got := idNear(tracks, xb, 310); got != idB {
					t.Fatalf("appearance %v, frame %d: B has id %d, want %d", withLook, i, got, idB)
				}
			}
		}
	}
}

func TestTrackerConfirmsAfterMinHits(t *testing.T) {
	tk := NewTracker(TrackerOptions{BirthScore: 0.5, MinHits: 3})
	for i, want := range []bool{false, false, true, true} {
		tracks := tk.Update(float64(i)/5, []Detection{person(300, 300)}, frameSize)
		if len(tracks) != 1 || tracks[0].Confirmed != want {
			t.Fatalf("hit %d: tracks %+v, want one with confirmed=%v", i+1, tracks, want)
		}
	}
	// A one-frame false positive never becomes a confirmed track.
	tk = NewTracker(TrackerOptions{BirthScore: 0.5})
	tk.Update(0, []Detection{person(500, 300)}, frameSize)
	for i := 1; i < 10; i++ {
		for _, tr := range tk.Update(float64(i)/5, nil, frameSize) {
			if tr.Confirmed {
				t.Fatal("single detection confirmed")
			}
		}
	}
	if n := len(tk.Tracks()); n != 0 {
		t.Fatalf("%d tentative tracks left after 2 s", n)
	}
}

func TestTrackerWeakDetectionsOnlyExtend(t *testing.T) {
	tk := NewTracker(TrackerOptions{BirthScore: 0.5})
	weak := person(300, 300)
	weak.Score = 0.3
	for i := 0; i < 5; i++ {
		if tracks := tk.Update(float64(i)/5, []Detection{weak}, frameSize); len(tracks) != 0 {
			t.Fatalf("weak detections started a track: %+v", tracks)
		}
	}
	for i := 5; i < 10; i++ {
		tk.Update(float64(i)/5, []Detection{person(300, 300)}, frameSize)
	}
	id := tk.Tracks()[0].ID
	for i := 10; i < 40; i++ { // the detector grows unsure for 6 s
		tracks := tk.Update(float64(i)/5, []Detection{weak}, frameSize)
		if len(tracks) != 1 || tracks[0].ID != id || !tracks[0].Seen {
			t.Fatalf("frame %d: %+v, want track %d extended by the weak detection", i, tracks, id)
		}
	}
}

func TestTrackerStillPersonSurvivesDropouts(t *testing.T) {
	tk := NewTracker(TrackerOptions{BirthScore: 0.5, StillAge: 30 * time.Second})
	now := 0.0
	step := func(dets ...Detection) []Track {
		now += 0.2
		return tk.Update(now, dets, frameSize)
	}
	for i := 0; i < 25; i++ { // 5 s seated
		step(person(300, 300))
	}
	id := tk.Tracks()[0].ID
	if !tk.Tracks()[0].Still {
		t.Fatal("seated person not marked still")
	}
	for i := 0; i < 100; i++ { // 20 s without a detection (bent over a drawer)
		if tracks := step(); len(tracks) != 1 || tracks[0].ID != id {
			t.Fatalf("after %.1f s unseen: %+v, want track %d held", float64(i+1)*0.2, tracks, id)
		}
	}
	if tracks := step(person(302, 301)); len(tracks) != 1 || tracks[0].ID != id {
		t.Fatalf("back: %+v, want track %d", tracks, id)
	}
	for i := 0; i < 155; i++ { // 31 s gone: longer than StillAge
		step()
	}
	if n := len(tk.Tracks()); n != 0 {
		t.Fatalf("%d tracks remain after 31 s without detections", n)
	}
}

// TestTrackerLostStillPersonFoundWeakly: a seated person the detector
// loses for longer than StillAge and then finds only weakly, below the
// birth score, where they sat (a clerk behind a counter the network grew
// unsure about) is the same confirmed track again at the first weak
// detection; a weak detection elsewhere starts nothing, and a lost track
// is forgotten after lostKeep.
func TestTrackerLostStillPersonFoundWeakly(t *testing.T) {
	tk := NewTracker(TrackerOptions{BirthScore: 0.5})
	now := 0.0
	step := func(dets ...Detection) []Track {
		now += 0.2
		return tk.Update(now, dets, frameSize)
	}
	for range 25 { // 5 s seated, seen surely
		step(person(300, 300))
	}
	id := tk.Tracks()[0].ID
	for range 10 { // 2 s unseen: dropped
		step()
	}
	if n := len(tk.Tracks()); n != 0 {
		t.Fatalf("%d tracks after 2 s unseen, want the still track dropped", n)
	}
	weak := person(301, 300)
	weak.Score = 0.3
	elsewhere := person(600, 300)
	elsewhere.Score = 0.3
	tracks := step(weak, elsewhere)
	if len(tracks) != 1 || tracks[0].ID != id || !tracks[0].Confirmed || !tracks[0].Seen || !tracks[0].Still {
		t.Fatalf("weak detection where they sat: %+v, want confirmed still track %d back", tracks, id)
	}
	for range 10 {
		if tracks := step(weak); len(tracks) != 1 || tracks[0].ID != id {
			t.Fatalf("%+v, want track %d extended weakly", tracks, id)
		}
	}
	for range int(lostKeep/0.2) + 10 { // gone for longer than lostKeep
		step()
	}
	if tracks := step(weak); len(tracks) != 0 {
		t.Fatalf("weak detection %v s after the track was lost: %+v, want none", lostKeep, tracks)
	}
}
