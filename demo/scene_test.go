package demo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/geom"
)

func newScene(t testing.TB, o SceneOptions) *Scene {
	t.Helper()
	s, err := NewScene(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func frameHash(img *avcodec.Image) uint32 { return crc32.Checksum(img.Data, castagnoli) }

func TestSceneIsDeterministic(t *testing.T) {
	run := func(seed int64) (hashes []uint32, truth []TruthEvent) {
		s := newScene(t, SceneOptions{Seed: seed, Width: 480, Height: 270, VisitorInterval: Range{2 * time.Second, 4 * time.Second}})
		for range 15 * 60 {
			img, ev := s.Step()
			hashes = append(hashes, frameHash(img))
			truth = append(truth, ev...)
		}
		return hashes, truth
	}
	h1, t1 := run(7)
	h2, t2 := run(7)
	if !reflect.DeepEqual(h1, h2) || !reflect.DeepEqual(t1, t2) {
		t.Fatal("two scenes with seed 7 differ")
	}
	h3, _ := run(8)
	if reflect.DeepEqual(h1, h3) {
		t.Fatal("seeds 7 and 8 render the same frames")
	}
	if len(t1) < 10 {
		t.Fatalf("a minute with a visitor every 2-4 s gave only %d truth events", len(t1))
	}
}

// runScenario plays a finite scenario: arrivals stop at spawnUntil, then the
// hall empties. It returns every truth event and checks each rendered frame
// with check (when not nil).
func runScenario(t *testing.T, o SceneOptions, check func(s *Scene, img *avcodec.Image, ev []TruthEvent)) (*Scene, []TruthEvent) {
	t.Helper()
	s := newScene(t, o)
	limit := s.frames(o.SpawnUntil + 10*time.Minute)
	var all []TruthEvent
	for f := 1; f <= limit; f++ {
		img, ev := s.Step()
		all = append(all, ev...)
		if check != nil {
			check(s, img, ev)
		}
		if s.seconds(f) > o.SpawnUntil.Seconds() && s.Visitors() == 0 {
			return s, all
		}
	}
	t.Fatalf("the hall did not empty within 10 minutes after arrivals stopped (%d visitors left)", s.Visitors())
	return nil, nil
}

func TestGroundTruthIsConsistent(t *testing.T) {
	o := SceneOptions{Seed: 3, SpawnUntil: 6 * time.Minute, ClerkAwayInterval: Range{time.Minute, 2 * time.Minute}}
	s, events := runScenario(t, o, nil)

	type visit struct{ in, out []int }
	visits := map[int]*visit{}
	windows := map[string][]TruthEvent{}
	served := map[int][]TruthEvent{}
	waited := map[int][]TruthEvent{}
	for _, e := range events {
		switch e.Type {
		case TruthService:
			served[e.Visitor] = append(served[e.Visitor], e)
		case TruthWait:
			waited[e.Visitor] = append(waited[e.Visitor], e)
		case TruthCrossing:
			if e.Line != "door" {
				t.Errorf("crossing of unknown line %q", e.Line)
			}
			v := visits[e.Visitor]
			if v == nil {
				v = &visit{}
				visits[e.Visitor] = v
			}
			if e.Direction == "in" {
				v.in = append(v.in, e.Frame)
			} else {
				v.out = append(v.out, e.Frame)
			}
		case TruthWindow:
			windows[e.Window] = append(windows[e.Window], e)
		default:
			t.Errorf("unknown truth event type %q", e.Type)
		}
	}
	if s.Spawned() < 20 {
		t.Fatalf("only %d visitors in 6 minutes", s.Spawned())
	}
	if len(visits) != s.Spawned() {
		t.Errorf("%d visitors crossed the door, %d were spawned", len(visits), s.Spawned())
	}
	for id := 1; id <= s.Spawned(); id++ {
		v := visits[id]
		if v == nil || len(v.in) != 1 || len(v.out) != 1 || v.in[0] >= v.out[0] {
			t.Errorf("visitor %d: crossings %+v, want one in, then one out", id, v)
		}
	}

	// Every visitor is served once, for at least the shortest service;
	// a visitor who waited reached the window their service was at, when
	// it began, after at least queueMin in the seats.
	st := s.Options().ServiceTime
	for id := 1; id <= s.Spawned(); id++ {
		sv := served[id]
		if len(sv) != 1 || sv[0].T-sv[0].Since < st.Min.Seconds() || sv[0].T-sv[0].Since > st.Max.Seconds()+2 {
			t.Errorf("visitor %d: services %+v, want one of %v-%v", id, sv, st.Min, st.Max)
			continue
		}
		for _, w := range waited[id] {
			if len(waited[id]) != 1 || w.Window != sv[0].Window || w.T != sv[0].Since || w.T-w.Since < queueMin || !strings.HasPrefix(w.Zone, "seats-") {
				t.Errorf("visitor %d: waits %+v, service %+v", id, waited[id], sv[0])
			}
		}
	}
	if len(waited) < 5 {
		t.Errorf("%d visitors waited in the seats in 6 minutes, want some", len(waited))
	}

	// Each window starts occupied and alternates; absences happen.
	absences := 0
	for i := range o.Windows {
		evs := windows[windowID(i)]
		if len(evs) == 0 || evs[0].Frame != 1 || !evs[0].Occupied {
			t.Fatalf("window %s: first events %+v, want occupied at frame 1", windowID(i), evs)
		}
		for j, e := range evs {
			if e.Occupied != (j%2 == 0) || (e.Occupied && e.Count != 1) || (!e.Occupied && e.Count != 0) {
				t.Errorf("window %s event %d: %+v breaks the occupied/empty alternation", e.Window, j, e)
			}
			if !e.Occupied {
				absences++
			}
		}
	}
	if absences < o.Windows {
		t.Errorf("%d clerk absences in %d windows over 6+ minutes, want at least one each", absences, o.Windows)
	}
}

// TestTruthMatchesPixels checks the ground truth against the rendered
// frames with a plain background difference: where a window is occupied the
// lower half of the clerk's seat region differs from the empty hall, and
// where it is empty that region is untouched. It also checks that every
// visible person stands out from the background.
func TestTruthMatchesPixels(t *testing.T) {
	o := SceneOptions{Seed: 11, SpawnUntil: 3 * time.Minute, ClerkAwayInterval: Range{40 * time.Second, 80 * time.Second}}
	type sample struct {
		frame, window int
		frac          float64
	}
	var samples []sample
	changes := map[string][]int{}   // frames at which each window's state changed
	occupied := map[string][]bool{} // the state from each change on
	_, events := runScenario(t, o, func(s *Scene, img *avcodec.Image, _ []TruthEvent) {
		if s.frame%5 != 0 {
			return
		}
		W, H := float64(s.opts.Width), float64(s.opts.Height)
		hh := standingHeight(seatY) * H
		for i := range s.opts.Windows {
			x := windowX(i, s.opts.Windows) * W
			frac := changedFraction(img, s.bg, int(x-0.08*hh), int(counterTop*H-0.25*hh), int(x+0.08*hh), int(counterTop*H))
			samples = append(samples, sample{s.frame, i, frac})
		}
		for _, p := range s.people {
			x0, y0, x1, y1 := s.box(p)
			if p.state == clerkAway || x0 < 0 || y1 > s.opts.Height || x1 > s.opts.Width {
				continue
			}
			if frac := changedFraction(img, s.bg, x0, y0, x1, y1); frac < 0.4 {
				t.Fatalf("frame %d: person %d (state %d) box %v: only %.0f%% differs from the background",
					s.frame, p.id, p.state, [4]int{x0, y0, x1, y1}, 100*frac)
			}
		}
	})
	for _, e := range events {
		if e.Type == TruthWindow {
			changes[e.Window] = append(changes[e.Window], e.Frame)
			occupied[e.Window] = append(occupied[e.Window], e.Occupied)
		}
	}
	checked, emptyChecked := 0, 0
	for _, sm := range samples {
		id := windowID(sm.window)
		state, near := false, false
		for j, f := range changes[id] {
			if f <= sm.frame {
				state = occupied[id][j]
			}
			near = near || abs(f-sm.frame) < o.FPS+15 // people in transit straddle the region
		}
		if near {
			continue
		}
		if state && sm.frac < 0.5 {
			t.Errorf("frame %d: window %s occupied in truth, but only %.0f%% of the seat region differs from the empty hall", sm.frame, id, 100*sm.frac)
		}
		if !state && sm.frac != 0 {
			t.Errorf("frame %d: window %s empty in truth, but %.0f%% of the seat region differs from the empty hall", sm.frame, id, 100*sm.frac)
		}
		checked++
		if !state {
			emptyChecked++
		}
	}
	if checked == 0 || emptyChecked == 0 {
		t.Fatalf("checked %d window states, %d of them empty: scenario too short", checked, emptyChecked)
	}
}

// changedFraction is the share of pixels in [x0,x1)×[y0,y1) whose colour
// differs from bg by more than 30 (sum over channels).
func changedFraction(img *avcodec.Image, bg []byte, x0, y0, x1, y1 int) float64 {
	changed, n := 0, 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			o := y*img.Stride + 3*x
			d := 0
			for c := range 3 {
				d += abs(int(img.Data[o+c]) - int(bg[o+c]))
			}
			if d > 30 {
				changed++
			}
			n++
		}
	}
	return float64(changed) / float64(max(n, 1))
}

func abs(v int) int { return max(v, -v) }

func TestStillClerkNeverMoves(t *testing.T) {
	s := newScene(t, SceneOptions{Seed: 5, ClerkAwayInterval: Range{90 * time.Second, 2 * time.Minute}})
	still, fidgety := s.people[2], s.people[0]
	if !still.still || fidgety.still {
		t.Fatal("window 3's clerk should be the still one")
	}
	region := func(img *avcodec.Image, p *person) []byte {
		x0, y0, x1, y1 := s.box(p)
		var out []byte
		// A margin of 3 px catches any fidget.
		for y := y0 - 3; y < y1+3; y++ {
			out = append(out, img.Data[y*img.Stride+3*(x0-3):y*img.Stride+3*(x1+3)]...)
		}
		return out
	}
	var lastStill, lastFidget []byte
	stillFrames, fidgets, absences := 0, 0, 0
	for range 15 * 240 {
		img, _ := s.Step()
		if still.state != clerkSeated {
			if lastStill != nil {
				absences++
			}
			lastStill = nil
		} else {
			r := region(img, still)
			if lastStill != nil && !bytes.Equal(r, lastStill) {
				t.Fatalf("frame %d: the still clerk's pixels changed while seated", s.frame)
			}
			lastStill = r
			stillFrames++
		}
		if fidgety.state == clerkSeated {
			r := region(img, fidgety)
			if lastFidget != nil && !bytes.Equal(r, lastFidget) {
				fidgets++
			}
			lastFidget = r
		} else {
			lastFidget = nil
		}
	}
	if stillFrames < 15*60 || absences == 0 {
		t.Errorf("still clerk seated %d frames with %d absences in 4 minutes: want long still periods and an absence", stillFrames, absences)
	}
	if fidgets < 10 {
		t.Errorf("window 1's clerk moved only %d times in 4 minutes: the comparison may be blind", fidgets)
	}
}

func TestPeopleRarelyOverlap(t *testing.T) {
	s := newScene(t, SceneOptions{Seed: 9, VisitorInterval: Range{3 * time.Second, 8 * time.Second}})
	frames, overlaps := 15*300, 0
	for range frames {
		s.Step()
		for i, a := range s.people {
			for _, b := range s.people[i+1:] {
				if a.state == clerkAway || b.state == clerkAway {
					continue
				}
				ax0, ay0, ax1, ay1 := s.box(a)
				bx0, by0, bx1, by1 := s.box(b)
				w, h := min(ax1, bx1)-max(ax0, bx0), min(ay1, by1)-max(ay0, by0)
				small := min((ax1-ax0)*(ay1-ay0), (bx1-bx0)*(by1-by0))
				if w <= 0 || h <= 0 || w*h*2 <= small {
					continue
				}
				// People pass in front of each other in the walkways,
				// briefly; two who stand never overlap, nor do two go
				// through the door side by side.
				overlaps++
				if len(a.path) == 0 && len(b.path) == 0 {
					t.Fatalf("frame %d: two standing people (states %d, %d) overlap by half", s.frame, a.state, b.state)
				}
				if min(a.y, b.y) > (doorLineY-0.05)*float64(s.opts.Height) && len(a.path) > 0 && len(b.path) > 0 && headingOf(a) == headingOf(b) {
					t.Fatalf("frame %d: two people overlap by half at the door (y %.0f, %.0f)", s.frame, a.y, b.y)
				}
			}
		}
	}
	if overlaps*10 > frames {
		t.Errorf("%d overlaps by half in %d frames, want under 10%%", overlaps, frames)
	}
}

// headingOf is the sign of p's vertical heading: -1 into the hall, 1 out.
func headingOf(p *person) int {
	_, hy := heading(p)
	if hy < 0 {
		return -1
	}
	return 1
}

func TestAnalyticsMatchesScene(t *testing.T) {
	for _, n := range []int{1, 6, 12} {
		s := newScene(t, SceneOptions{Windows: n})
		a := s.Analytics()
		if len(a.Lines) != 1 || a.Lines[0].ID != "door" || len(a.Windows) != n || a.Detector != "" {
			t.Fatalf("%d windows: analytics %+v", n, a)
		}
		for i, w := range a.Windows {
			if w.ID != windowID(i) || w.MinStaff != 1 || w.AbsentAfter.D() != 10*time.Second || len(w.Schedule) != 0 {
				t.Errorf("window %d: %+v", i, w)
			}
			clerk := s.feet(s.people[i])
			if !w.Zone.Contains(clerk) {
				t.Errorf("%d windows: zone %s does not hold its seated clerk's feet %v", n, w.ID, clerk)
			}
			for j, other := range a.Windows {
				if j != i && other.Zone.Contains(clerk) {
					t.Errorf("%d windows: zone %s holds window %s's clerk", n, other.ID, w.ID)
				}
			}
			if spot := (geom.Point{windowX(i, n), serviceY}); w.Zone.Contains(spot) {
				t.Errorf("zone %s holds the visitor's service spot", w.ID)
			}
		}
	}
}

func TestSceneOptionErrors(t *testing.T) {
	for _, c := range []struct {
		o    SceneOptions
		want string
	}{
		{SceneOptions{Width: 961}, "961x540"},
		{SceneOptions{FPS: 100}, "FPS"},
		{SceneOptions{Windows: 13}, "windows 13"},
		{SceneOptions{Windows: 2, StillClerk: 3}, "still clerk"},
		{SceneOptions{ServiceTime: Range{5 * time.Second, time.Second}}, "ServiceTime"},
		{SceneOptions{Noise: 50}, "noise"},
		{SceneOptions{Windows: 2, Covered: 2}, "covered window 2"},
	} {
		if _, err := NewScene(c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewScene(%+v) error = %v, want one containing %q", c.o, err, c.want)
		}
	}
}

func TestNoiseIsBounded(t *testing.T) {
	s := newScene(t, SceneOptions{Seed: 1, Width: 320, Height: 180, Noise: 4})
	img, _ := s.Step()
	first := append([]byte(nil), img.Data...)
	img, _ = s.Step()
	differ := 0
	for i := range first {
		if first[i] != img.Data[i] {
			differ++
		}
		if d := abs(int(img.Data[i]) - int(s.bg[i])); d > 4 && i < img.Stride {
			t.Fatalf("byte %d of the top row differs from the background by %d, noise is 4", i, d)
		}
	}
	if differ < len(first)/2 {
		t.Errorf("only %d of %d bytes changed between two noisy frames", differ, len(first))
	}
}

func TestTruthJSON(t *testing.T) {
	var buf bytes.Buffer
	wall := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	err := WriteTruth(&buf,
		TruthEvent{Type: TruthCrossing, Line: "door", Direction: "in", Visitor: 7, Frame: 123, T: 8.133},
		TruthEvent{Type: TruthWindow, Window: "w3", Occupied: false, Frame: 9, T: 0.533, Camera: "hall", Wall: wall})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"crossing","line":"door","direction":"in","visitor":7,"frame":123,"t":8.133}
{"type":"window","window":"w3","occupied":false,"count":0,"camera":"hall","frame":9,"t":0.533,"wall":"2025-03-01T09:00:00Z"}
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	var m map[string]any
	if err := json.Unmarshal(bytes.SplitN(buf.Bytes(), []byte("\n"), 2)[0], &m); err != nil || m["visitor"] != 7.0 {
		t.Errorf("first line does not parse back: %v %v", m, err)
	}
}

func TestClerksArriveOpensTheHall(t *testing.T) {
	s, err := NewScene(SceneOptions{Seed: 7, ClerksArrive: Range{time.Second, 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	occupied := map[string]bool{}
	for frame := 1; frame <= 15*30; frame++ {
		_, truth := s.Step()
		for _, ev := range truth {
			if ev.Type != TruthWindow {
				continue
			}
			if frame == 1 && ev.Occupied {
				t.Fatalf("window %s occupied at frame 1 although clerks arrive later", ev.Window)
			}
			occupied[ev.Window] = ev.Occupied
		}
	}
	for i := 1; i <= 6; i++ {
		if w := fmt.Sprintf("w%d", i); !occupied[w] {
			t.Errorf("window %s still empty 30 s after opening", w)
		}
	}
	if _, err := NewScene(SceneOptions{ClerksArrive: Range{5 * time.Second, time.Second}}); err == nil {
		t.Error("ClerksArrive with min > max accepted")
	}
}

// TestBackupClerkCovers: with window 1 covered by window 2 (the AB post),
// whenever window 1's clerk leaves while window 2's sits free, window 2's
// clerk walks over, sits in window 1's zone until its clerk comes back and
// walks home; the truth says so, and window 1's zone is occupied by them.
func TestBackupClerkCovers(t *testing.T) {
	s := newScene(t, SceneOptions{Seed: 3, Windows: 4, Covered: 1, StillClerk: -1,
		ClerkAway: Range{30 * time.Second, 40 * time.Second}, ClerkAwayInterval: Range{20 * time.Second, 40 * time.Second}})
	if an := s.Analytics(); an.Windows[0].Backup != "w2" || an.Windows[1].Backup != "" {
		t.Fatalf("analytics backups %q, %q: want w1's backup w2", an.Windows[0].Backup, an.Windows[1].Backup)
	}
	var covered, covering, bothEmpty int // frames
	var episodes int
	cov, away := false, false
	occupied := map[string]bool{}
	for range 15 * 180 {
		_, evs := s.Step()
		for _, e := range evs {
			switch e.Type {
			case TruthBackup:
				if e.Window != "w1" || e.Backup != "w2" || (e.Covered && !e.Covering) {
					t.Fatalf("backup truth %+v", e)
				}
				if e.Covered && !cov {
					episodes++
				}
				cov, away = e.Covered, e.Covering
			case TruthWindow:
				occupied[e.Window] = e.Occupied
			}
		}
		if cov {
			covered++
			if !occupied["w1"] {
				t.Fatalf("frame %d: covered but w1's zone is empty", s.frame)
			}
		}
		if away {
			covering++
		}
		if !occupied["w1"] && !occupied["w2"] {
			bothEmpty++
		}
	}
	// Window 1's clerk is away for 30-40 s every 20-40 s: several
	// coverings, each most of an absence long.
	if episodes < 2 || covered < episodes*15*25 || covering < covered {
		t.Errorf("%d coverings, %d frames covered, %d away covering: want ≥ 2 of ≥ 25 s", episodes, covered, covering)
	}
	t.Logf("%d coverings, %.0f s covered, %.0f s both windows empty", episodes, float64(covered)/15, float64(bothEmpty)/15)
}
