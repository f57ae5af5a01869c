package analytics

import (
	"image"

	"github.com/hallwatch/hallwatch/geom"
)

// Person is someone analysis counts in zones, for overlays and the
// editor's live counts: feet and box normalised to the picture.
type Person struct {
	ID   int
	Feet geom.Point
	Box  [4]float64 // x0, y0, x1, y1
}

// People returns the people a zone would count after the last frame
// (counts: those whose feet lie in it), and that frame's size.
func (a *Analyzer) People() (image.Point, []Person) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []Person
	if a.size.X == 0 || a.size.Y == 0 {
		return a.size, out
	}
	w, h := float64(a.size.X), float64(a.size.Y)
	for _, tr := range a.tracks {
		if countable(tr) {
			b := tr.Box
			out = append(out, Person{ID: tr.ID, Feet: tr.Feet,
				Box: [4]float64{float64(b.Min.X) / w, float64(b.Min.Y) / h, float64(b.Max.X) / w, float64(b.Max.Y) / h}})
		}
	}
	return a.size, out
}

// countable reports whether a track counts in a zone its feet lie in (see
// countIn): confirmed, and still, vouched for or seen moments ago.
func countable(tr Track) bool {
	return tr.Confirmed && (tr.Still || tr.Vouched || tr.Missed <= zoneGrace)
}
