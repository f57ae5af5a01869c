package geom

import "math"

// DistToLine returns the distance from p to the infinite line through a and
// b, or to a when a and b coincide.
func DistToLine(p, a, b Point) float64 {
	l := a.Dist(b)
	if l == 0 {
		return p.Dist(a)
	}
	return math.Abs(Cross(a, b, p)) / l
}
