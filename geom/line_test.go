package geom

import (
	"math"
	"testing"
)

func TestDistToLine(t *testing.T) {
	cases := []struct {
		p, a, b Point
		want    float64
	}{
		{Point{0.8, 0.5}, Point{0.5, 0}, Point{0.5, 1}, 0.3},
		{Point{0.5, 3}, Point{0.5, 0}, Point{0.5, 1}, 0},        // on the line beyond the segment
		{Point{0, 1}, Point{0, 0}, Point{1, 1}, math.Sqrt2 / 2}, // diagonal
		{Point{0.3, 0.4}, Point{0, 0}, Point{0, 0}, 0.5},        // degenerate line: distance to a
	}
	for _, c := range cases {
		if got := DistToLine(c.p, c.a, c.b); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("DistToLine(%v, %v, %v) = %v, want %v", c.p, c.a, c.b, got, c.want)
		}
	}
}
