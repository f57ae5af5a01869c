package geom

import "math"

// Rect is an axis-aligned rectangle [Min, Max] in normalised coordinates.
type Rect struct{ Min, Max Point }

// Bounds returns the smallest Rect holding every point of pg.
func Bounds(pg Polygon) Rect {
	if len(pg) == 0 {
		return Rect{}
	}
	r := Rect{Min: pg[0], Max: pg[0]}
	for _, p := range pg[1:] {
		r.Min = Point{math.Min(r.Min[0], p[0]), math.Min(r.Min[1], p[1])}
		r.Max = Point{math.Max(r.Max[0], p[0]), math.Max(r.Max[1], p[1])}
	}
	return r
}

// Grow returns r widened by m on every side and clipped to 0..1.
func (r Rect) Grow(m float64) Rect {
	clip := func(v float64) float64 { return math.Min(1, math.Max(0, v)) }
	return Rect{
		Min: Point{clip(r.Min[0] - m), clip(r.Min[1] - m)},
		Max: Point{clip(r.Max[0] + m), clip(r.Max[1] + m)},
	}
}

// Contains reports whether p lies in r, edges included.
func (r Rect) Contains(p Point) bool {
	return p[0] >= r.Min[0] && p[0] <= r.Max[0] && p[1] >= r.Min[1] && p[1] <= r.Max[1]
}

// Overlaps reports whether r and s share more than an edge.
func (r Rect) Overlaps(s Rect) bool {
	return r.Min[0] < s.Max[0] && s.Min[0] < r.Max[0] && r.Min[1] < s.Max[1] && s.Min[1] < r.Max[1]
}
