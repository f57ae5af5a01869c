// Package geom holds the plane geometry shared by config validation and
// analytics: normalised points, segments and polygons (x right, y down).
package geom

import (
	"encoding/json"
	"fmt"
	"math"
)

// Point is [x, y].
type Point [2]float64

// UnmarshalJSON reads exactly two numbers, [x, y]: a point given with one
// coordinate or three is an error, not a guess.
func (p *Point) UnmarshalJSON(b []byte) error {
	var v []float64
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("want a point [x, y]: %w", err)
	}
	if len(v) != 2 {
		return fmt.Errorf("want a point [x, y], got %d numbers", len(v))
	}
	*p = Point{v[0], v[1]}
	return nil
}

// X returns the horizontal coordinate.
func (p Point) X() float64 { return p[0] }

// Y returns the vertical coordinate.
func (p Point) Y() float64 { return p[1] }

// Sub returns p-q.
func (p Point) Sub(q Point) Point { return Point{p[0] - q[0], p[1] - q[1]} }

// Dist returns the Euclidean distance between p and q.
func (p Point) Dist(q Point) float64 { return math.Hypot(p[0]-q[0], p[1]-q[1]) }

// Cross returns the z component of (b-a)×(c-a): positive when c lies to one
// side of the directed line a→b, negative on the other, zero on it.
func Cross(a, b, c Point) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// SegmentsIntersect reports whether the closed segments p1-p2 and q1-q2 share a point.
func SegmentsIntersect(p1, p2, q1, q2 Point) bool {
	d1 := Cross(q1, q2, p1)
	d2 := Cross(q1, q2, p2)
	d3 := Cross(p1, p2, q1)
	d4 := Cross(p1, p2, q2)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(q1, q2, p1)) || (d2 == 0 && onSegment(q1, q2, p2)) ||
		(d3 == 0 && onSegment(p1, p2, q1)) || (d4 == 0 && onSegment(p1, p2, q2))
}

// onSegment reports whether c, known to be collinear with a-b, lies within its bounding box.
func onSegment(a, b, c Point) bool {
	return math.Min(a[0], b[0]) <= c[0] && c[0] <= math.Max(a[0], b[0]) &&
		math.Min(a[1], b[1]) <= c[1] && c[1] <= math.Max(a[1], b[1])
}

// Polygon is a closed polygon; the last point connects back to the first.
type Polygon []Point

// Area returns the absolute area (shoelace formula).
func (pg Polygon) Area() float64 {
	var s float64
	for i := range pg {
		j := (i + 1) % len(pg)
		s += pg[i][0]*pg[j][1] - pg[j][0]*pg[i][1]
	}
	return math.Abs(s) / 2
}

// Contains reports whether p lies inside the polygon (even-odd rule).
func (pg Polygon) Contains(p Point) bool {
	in := false
	for i, j := 0, len(pg)-1; i < len(pg); j, i = i, i+1 {
		a, b := pg[i], pg[j]
		if (a[1] > p[1]) != (b[1] > p[1]) &&
			p[0] < (b[0]-a[0])*(p[1]-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// SelfIntersection returns the indexes of two non-adjacent edges that touch,
// edge i running from point i to point i+1; ok is false for a simple polygon.
func (pg Polygon) SelfIntersection() (i, j int, ok bool) {
	n := len(pg)
	for i = 0; i < n; i++ {
		for j = i + 1; j < n; j++ {
			if j == i+1 || (i == 0 && j == n-1) {
				continue // adjacent edges share a vertex by construction
			}
			if SegmentsIntersect(pg[i], pg[(i+1)%n], pg[j], pg[(j+1)%n]) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// Side returns +1 when p lies on the same side of the line through a and b
// as ref, -1 on the other side, and 0 when p or ref lies on the line.
func Side(a, b, ref, p Point) int {
	s := Cross(a, b, p) * Cross(a, b, ref)
	switch {
	case s > 0:
		return 1
	case s < 0:
		return -1
	}
	return 0
}
