package geom

import "testing"

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
