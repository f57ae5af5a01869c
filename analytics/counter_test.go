package analytics

import (
	"strings"
	"testing"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// door is a vertical segment x=0.5 from y=0.2 to y=0.8, inside to the right.
var door = config.Line{ID: "door", A: geom.Point{0.5, 0.2}, B: geom.Point{0.5, 0.8}, Inside: geom.Point{0.9, 0.5}}

// walk feeds a path of feet points to a fresh counter as one track and
// returns the directions counted, with the index of the point that counted.
func walk(line config.Line, pts ...geom.Point) string {
	c := NewLineCounter(line, 0.02)
	var got []string
	for i, p := range pts {
		if dir, ok := c.Observe(7, p); ok {
			got = append(got, dir+"@"+string(rune('0'+i)))
		}
	}
	return strings.Join(got, " ")
}

// path returns n+1 points evenly spaced from a to b.
func path(a, b geom.Point, n int) []geom.Point {
	pts := make([]geom.Point, n+1)
	for i := range pts {
		f := float64(i) / float64(n)
		pts[i] = geom.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}
	}
	return pts
}

func TestLineCounter(t *testing.T) {
	p := func(x, y float64) geom.Point { return geom.Point{x, y} }
	cases := []struct {
		name string
		pts  []geom.Point
		want string
	}{
		{"in", path(p(0.3, 0.5), p(0.7, 0.5), 8), "in@5"},
		{"out", path(p(0.7, 0.5), p(0.3, 0.5), 8), "out@5"},
		{"diagonal in", path(p(0.3, 0.3), p(0.7, 0.7), 8), "in@5"},
		{"through the end point", path(p(0.3, 0.2), p(0.7, 0.2), 8), "in@5"},
		{"past the end of the segment", path(p(0.3, 0.9), p(0.7, 0.9), 8), ""},
		{"past the other end", path(p(0.7, 0.1), p(0.3, 0.1), 8), ""},
		{"parallel to the line", path(p(0.45, 0.1), p(0.45, 0.9), 8), ""},
		{"along the line itself", path(p(0.5, 0.1), p(0.5, 0.9), 8), ""},
		{"in, then back out", append(path(p(0.3, 0.5), p(0.7, 0.5), 4), path(p(0.7, 0.5), p(0.3, 0.5), 4)...), "in@3 out@8"},
		{"to the line and back", append(path(p(0.3, 0.5), p(0.5, 0.5), 4), path(p(0.5, 0.5), p(0.3, 0.5), 4)...), ""},
		{"step into the band and back", []geom.Point{p(0.3, 0.5), p(0.49, 0.5), p(0.515, 0.5), p(0.3, 0.5)}, ""},
		{"round the end, then through", []geom.Point{p(0.3, 0.5), p(0.3, 0.95), p(0.7, 0.95), p(0.7, 0.5), p(0.3, 0.5)}, "out@4"},
		{"appears on the line, walks in", path(p(0.5, 0.5), p(0.7, 0.5), 4), ""},
	}
	for _, c := range cases {
		if got := walk(door, c.pts...); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestLineCounterJitterCountsOnce(t *testing.T) {
	c := NewLineCounter(door, 0.02)
	c.Observe(1, geom.Point{0.3, 0.5})
	n := 0
	// Stand on the line for 200 observations, wobbling ±0.015 across it.
	for i := 0; i < 200; i++ {
		x := 0.5 + 0.015*float64(1-2*(i%2))
		if _, ok := c.Observe(1, geom.Point{x, 0.5}); ok {
			n++
		}
	}
	if n != 0 {
		t.Fatalf("jitter inside the band counted %d times", n)
	}
	if dir, ok := c.Observe(1, geom.Point{0.6, 0.5}); !ok || dir != events.DirectionIn {
		t.Fatalf("leaving the band inside: got %q %v, want in", dir, ok)
	}
	// Wobbling just past the band on the inside side counts nothing more.
	for i := 0; i < 50; i++ {
		if _, ok := c.Observe(1, geom.Point{0.5 + 0.025 + 0.01*float64(i%2), 0.5}); ok {
			t.Fatal("counted again without going back out")
		}
	}
}

func TestLineCounterTracksAreIndependent(t *testing.T) {
	c := NewLineCounter(door, 0)
	c.Observe(1, geom.Point{0.3, 0.5})
	c.Observe(2, geom.Point{0.7, 0.5})
	d1, ok1 := c.Observe(1, geom.Point{0.7, 0.5})
	d2, ok2 := c.Observe(2, geom.Point{0.3, 0.5})
	if !ok1 || d1 != events.DirectionIn || !ok2 || d2 != events.DirectionOut {
		t.Fatalf("got %q %v / %q %v, want in / out", d1, ok1, d2, ok2)
	}
	c.Retain(map[int]bool{2: true})
	if _, ok := c.Observe(1, geom.Point{0.3, 0.5}); ok {
		t.Fatal("a forgotten track counted on its first observation")
	}
}
