package geom

import "testing"

func TestRect(t *testing.T) {
	b := Bounds(Polygon{{0.2, 0.5}, {0.4, 0.1}, {0.3, 0.9}})
	if b != (Rect{Min: Point{0.2, 0.1}, Max: Point{0.4, 0.9}}) {
		t.Fatalf("Bounds = %v", b)
	}
	g := b.Grow(0.15)
	want := Rect{Min: Point{0.05, 0}, Max: Point{0.55, 1}}
	for i := range 2 {
		if d := g.Min[i] - want.Min[i] + g.Max[i] - want.Max[i]; d > 1e-9 || d < -1e-9 {
			t.Fatalf("Grow = %v, want %v", g, want)
		}
	}
	for _, c := range []struct {
		s    Rect
		want bool
	}{
		{Rect{Min: Point{0.5, 0.5}, Max: Point{0.7, 0.7}}, true},
		{Rect{Min: Point{0.55, 0.5}, Max: Point{0.7, 0.7}}, false}, // touches the edge only
		{Rect{Min: Point{0, 0}, Max: Point{0.06, 0.01}}, true},
	} {
		if got := g.Overlaps(c.s); got != c.want {
			t.Errorf("%v overlaps %v = %v, want %v", g, c.s, got, c.want)
		}
	}
	for _, c := range []struct {
		p    Point
		want bool
	}{{Point{0.3, 0.5}, true}, {Point{0.2, 0.9}, true}, {Point{0.19, 0.5}, false}, {Point{0.3, 0.95}, false}} {
		if got := b.Contains(c.p); got != c.want {
			t.Errorf("%v contains %v = %v, want %v", b, c.p, got, c.want)
		}
	}
}
