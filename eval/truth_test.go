package eval

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallwatch/hallwatch/geom"
)

// loadSeq loads a test clip's ground truth or skips when the folder is absent.
func loadSeq(t *testing.T, name string) *Sequence {
	t.Helper()
	dir := filepath.Join(TestdataDir(), name)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("test data %s absent (set HALLWATCH_TESTDATA): %v", dir, err)
	}
	s, err := LoadSequence(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPETSCrossingsMatchREADME(t *testing.T) {
	s := loadSeq(t, "pets09-s2l1")
	got := Crossings(Trajectories(s.Boxes, s.Width, s.Height), PETSLineV400)
	in := 0
	for _, c := range got {
		if c.Direction == "in" {
			in++
		}
	}
	if len(got) != 31 || in != 13 {
		t.Fatalf("got %d crossings, %d in; README says 31, 13 in / 18 out", len(got), in)
	}
	first := []Crossing{{28, 9, "out"}, {34, 15, "in"}, {58, 19, "out"}, {106, 19, "in"}, {147, 9, "in"}}
	for i, want := range first {
		if got[i] != want {
			t.Errorf("crossing %d = %+v, README says %+v", i, got[i], want)
		}
	}
}

func TestPETSZ2AlertsMatchREADME(t *testing.T) {
	s := loadSeq(t, "pets09-s2l1")
	counts := Occupancy(s.Boxes, s.Width, s.Height, s.Frames, PETSZoneZ2)
	got := ExpectedAlerts(counts, 10, PresenceRule{MinStaff: 1, AbsentAfter: 5})
	want := []Alert{{51, "raised"}, {68, "resolved"}, {142, "raised"}, {166, "resolved"}, {436, "raised"}, {509, "resolved"}}
	if len(got) != len(want) {
		t.Fatalf("got %v, README says %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("alert %d = %v, README says %v", i, got[i], want[i])
		}
	}
}

func TestPETSBusyZoneNeverAlerts(t *testing.T) {
	s := loadSeq(t, "pets09-s2l1")
	counts := Occupancy(s.Boxes, s.Width, s.Height, s.Frames, PETSZoneBusy)
	longest, run := 0, 0
	for _, c := range counts {
		if c == 0 {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if longest >= 50 {
		t.Fatalf("busy zone is empty for %d frames in a row; it must stay under 5 s", longest)
	}
	if a := ExpectedAlerts(counts, 10, PresenceRule{MinStaff: 1, AbsentAfter: 5, ResolveConfirm: 1}); len(a) != 0 {
		t.Fatalf("busy zone expects alerts %v", a)
	}
}

func TestTUDLineHasCrossings(t *testing.T) {
	s := loadSeq(t, "tud-stadtmitte")
	got := Crossings(Trajectories(s.Boxes, s.Width, s.Height), TUDLineV480)
	if len(got) != 6 {
		t.Fatalf("TUD-Stadtmitte v480: %d crossings %v, want the 6 the scene comment documents", len(got), got)
	}
}

func TestCrossingsRule(t *testing.T) {
	line := PETSLineV400
	line.A, line.B = geom.Point{0.5, 0.2}, geom.Point{0.5, 0.8} // finite segment
	line.Inside = geom.Point{0.9, 0.5}
	path := func(pts ...geom.Point) []FeetPoint {
		out := make([]FeetPoint, len(pts))
		for i, p := range pts {
			out[i] = FeetPoint{Frame: i + 1, P: p}
		}
		return out
	}
	cases := []struct {
		name string
		pts  []FeetPoint
		want string
	}{
		{"in", path(geom.Point{0.4, 0.5}, geom.Point{0.6, 0.5}), "in@2"},
		{"out", path(geom.Point{0.6, 0.5}, geom.Point{0.4, 0.5}), "out@2"},
		{"past the end", path(geom.Point{0.4, 0.9}, geom.Point{0.6, 0.9}), ""},
		{"through an endpoint", path(geom.Point{0.4, 0.2}, geom.Point{0.6, 0.2}), "in@2"},
		{"stop on the line and go on", path(geom.Point{0.4, 0.5}, geom.Point{0.5, 0.5}, geom.Point{0.6, 0.5}), "in@3"},
		{"touch and go back", path(geom.Point{0.4, 0.5}, geom.Point{0.5, 0.5}, geom.Point{0.4, 0.5}), ""},
		{"parallel", path(geom.Point{0.4, 0.3}, geom.Point{0.4, 0.7}), ""},
		{"in and out", path(geom.Point{0.4, 0.5}, geom.Point{0.6, 0.5}, geom.Point{0.4, 0.5}), "in@2 out@3"},
	}
	for _, c := range cases {
		var got []string
		for _, x := range Crossings(map[int][]FeetPoint{1: c.pts}, line) {
			got = append(got, x.Direction+"@"+string(rune('0'+x.Frame)))
		}
		if s := strings.Join(got, " "); s != c.want {
			t.Errorf("%s: got %q, want %q", c.name, s, c.want)
		}
	}
}

func TestExpectedAlertsConfirm(t *testing.T) {
	// 10 fps: 6 s empty, back for 0.5 s, empty 1 s, back for good.
	var counts []int
	add := func(n, c int) {
		for i := 0; i < n; i++ {
			counts = append(counts, c)
		}
	}
	add(60, 0)
	add(5, 1)
	add(10, 0)
	add(30, 1)
	got := ExpectedAlerts(counts, 10, PresenceRule{AbsentAfter: 5, ResolveConfirm: 1})
	want := []Alert{{51, "raised"}, {86, "resolved"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %v, want %v (a 0.5 s return does not end the absence)", got, want)
	}
}

func TestMatch(t *testing.T) {
	truth := []Item{{10, "in"}, {30, "out"}, {100, "in"}}
	pred := []Item{{12, "in"}, {31, "in"}, {44, "out"}, {200, "in"}}
	s, pairs := Match(truth, pred, 15)
	if s != (Score{TP: 2, FP: 2, FN: 1}) || len(pairs) != 2 {
		t.Fatalf("got %+v %v", s, pairs)
	}
	if s.Precision() != 0.5 || s.Recall() != 2.0/3 {
		t.Fatalf("P %v R %v", s.Precision(), s.Recall())
	}
}

func FuzzParseMOT(f *testing.F) {
	f.Add("1,9,499,158,31.03,75.17,1,-4.1,-7.3,0\n")
	f.Add("1,2,3\n")
	f.Add("x,1,1,1,1,1,1\n")
	f.Fuzz(func(t *testing.T, s string) {
		boxes, err := ParseMOT("fuzz", strings.NewReader(s))
		if err != nil {
			return
		}
		for _, b := range boxes {
			if b.Frame < 1 || b.Width <= 0 || b.Height <= 0 {
				t.Fatalf("accepted invalid box %+v", b)
			}
		}
	})
}

// TestPETSBusyZoneWalkersOnly: by gt.txt nobody stays in the busy zone
// for service_min (the default 20 s) — people walk through it — so a
// service zone drawn there must count no services (TestRunAccuracy holds
// the analysis to that).
func TestPETSBusyZoneWalkersOnly(t *testing.T) {
	s := loadSeq(t, "pets09-s2l1")
	longest := longestStay(s, PETSZoneBusy, 10) // the MP4's rate (README)
	t.Logf("longest stay in the busy zone: %.1f s", longest)
	if longest >= 20 || longest < 2 {
		t.Fatalf("longest stay in the busy zone %.1f s: want people walking through (2-20 s)", longest)
	}
}
