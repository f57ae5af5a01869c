package eval

import (
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geom"
)

// Reference geometry on the test clips (normalised coordinates).
var (
	// PETSLineV400 is the README's counting line: pixel column 400 of PETS09-S2L1.
	PETSLineV400 = config.Line{ID: "v400", A: geom.Point{0.5208, 0}, B: geom.Point{0.5208, 1}, Inside: geom.Point{0.78125, 0.5}}
	// PETSZoneZ2 is the README's window zone (pixels 150..330 x 150..260).
	PETSZoneZ2 = geom.Polygon{{0.1953, 0.2604}, {0.4297, 0.2604}, {0.4297, 0.4514}, {0.1953, 0.4514}}
	// PETSZoneBusy is a window-sized zone on the walkway (pixels 422..653 x
	// 202..374) whose longest empty run in gt.txt is 20 frames (2 s): with
	// absent_after 5 s it must never alert, so every alert there is false.
	// Found by scanning rectangles for the shortest maximal gap; the tests
	// re-derive that property from gt.txt.
	PETSZoneBusy = geom.Polygon{{0.55, 0.35}, {0.85, 0.35}, {0.85, 0.65}, {0.55, 0.65}}
	// PETSOwnZones are window-sized zones of our choice spread over the
	// walkway, near and far, in the middle and at the picture's edge,
	// chosen for having at least three absences of absent_after in gt.txt
	// and never by what hallwatch reports there. With PETSZoneZ2 they are
	// scored by the rule of config/REFERENCE.md (EvalRule).
	PETSOwnZones = []Zone{
		{"left", rect(0.25, 0.40, 0.40, 0.52)},
		{"centre", rect(0.50, 0.40, 0.65, 0.52)},
		{"right", rect(0.70, 0.35, 0.85, 0.47)},
		{"near", rect(0.60, 0.50, 0.75, 0.62)},
		{"far", rect(0.55, 0.30, 0.70, 0.42)},
		{"edge", rect(0.85, 0.45, 1.00, 0.57)},
	}
	// TUDLineV480 is a line of our choice on TUD-Stadtmitte: pixel column 480,
	// inside to the right. gt.txt gives it 6 crossings (2 in, 4 out).
	TUDLineV480 = config.Line{ID: "v480", A: geom.Point{0.75, 0}, B: geom.Point{0.75, 1}, Inside: geom.Point{0.9, 0.5}}
)

// Zone is a named window zone of the evaluation.
type Zone struct {
	ID   string
	Zone geom.Polygon
}

func rect(x0, y0, x1, y1 float64) geom.Polygon {
	return geom.Polygon{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
}
