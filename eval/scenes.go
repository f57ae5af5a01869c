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
	// TUDLineV480 is a line of our choice on TUD-Stadtmitte: pixel column 480,
	// inside to the right. gt.txt gives it 6 crossings (2 in, 4 out).
	TUDLineV480 = config.Line{ID: "v480", A: geom.Point{0.75, 0}, B: geom.Point{0.75, 1}, Inside: geom.Point{0.9, 0.5}}
)
