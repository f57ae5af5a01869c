package geom

import (
	"math"
	"testing"
)

func TestSide(t *testing.T) {
	a, b, in := Point{0.5, 0}, Point{0.5, 1}, Point{0.8, 0.5}
	cases := []struct {
		p    Point
		want int
	}{
		{Point{0.9, 0.1}, 1},
		{Point{0.1, 0.9}, -1},
		{Point{0.5, 0.3}, 0},
		{Point{0.6, 5}, 1}, // beyond the segment's end: side of the infinite line
	}
	for _, c := range cases {
		if got := Side(a, b, in, c.p); got != c.want {
			t.Errorf("Side(%v) = %d, want %d", c.p, got, c.want)
		}
	}
	if got := Side(a, b, Point{0.5, 0.5}, Point{0.9, 0.1}); got != 0 {
		t.Errorf("reference on the line: Side = %d, want 0", got)
	}
}

func TestRectFractionInside(t *testing.T) {
	square := Polygon{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	// An L shape (non-convex): the unit square minus its top-right quarter.
	ell := Polygon{{0, 0}, {1, 0}, {1, 0.5}, {0.5, 0.5}, {0.5, 1}, {0, 1}}
	cases := []struct {
		name     string
		pg       Polygon
		min, max Point
		want     float64
	}{
		{"fully inside", square, Point{0.2, 0.2}, Point{0.4, 0.4}, 1},
		{"fully outside", square, Point{2, 2}, Point{3, 3}, 0},
		{"half", square, Point{0.5, 0}, Point{1.5, 1}, 0.5},
		{"rect covers polygon", square, Point{-1, -1}, Point{2, 2}, 1.0 / 9},
		{"quarter corner", square, Point{0.5, 0.5}, Point{1.5, 1.5}, 0.25},
		{"L notch", ell, Point{0.5, 0}, Point{1, 1}, 0.5},
		{"L notch only", ell, Point{0.6, 0.6}, Point{0.9, 0.9}, 0},
		{"empty rect", square, Point{0.5, 0.5}, Point{0.5, 0.9}, 0},
		{"degenerate polygon", Polygon{{0, 0}, {1, 1}}, Point{0, 0}, Point{1, 1}, 0},
	}
	for _, c := range cases {
		if got := c.pg.RectFractionInside(c.min, c.max); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
