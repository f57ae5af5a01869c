package config

import (
	"fmt"

	"github.com/hallwatch/hallwatch/geom"
)

// Stable codes of what can be wrong with drawn geometry. The file
// validation reports their messages at file:line; the editor's API answers
// them as the error code (pages show their own text for each).
const (
	CodeOutsidePicture   = "outside_picture"   // a point is not within 0..1
	CodeTooFewPoints     = "too_few_points"    // a zone needs 3 points
	CodeTooManyPoints    = "too_many_points"   // more than maxPolygonPoints
	CodeRepeatedPoint    = "repeated_point"    // two neighbouring points are the same
	CodeSelfIntersecting = "self_intersecting" // edges cross or fold back
	CodeAreaTooSmall     = "area_too_small"    // (nearly) zero area
	CodeLineTooShort     = "line_too_short"    // a and b (nearly) the same
	CodeInsideOnLine     = "inside_on_line"    // the inside point cannot pick a side
	CodeRequired         = "required"          // an id, name or zone is missing
	CodeInvalidID        = "invalid_id"        // not a slug
	CodeDuplicateID      = "duplicate_id"      // within the camera's lines, windows or queue zones
	CodeUnknownBackup    = "unknown_backup"    // backup names no other window of the camera
	CodeUnknownWindow    = "unknown_window"    // a queue zone feeds no window of this name
	CodeTooMany          = "too_many"          // more lines or zones than a camera may have
	CodeTooLong          = "too_long"          // a name longer than maxNameRunes
	CodeInvalidText      = "invalid_text"      // a name with control characters
)

// Geometry limits, in normalised image units.
const (
	minLineLength = 0.01   // a and b of a counting line
	minInsideDist = 0.01   // inside point from the line, so it picks a side
	minZoneArea   = 0.0005 // zones and privacy masks
)

// Size limits that keep the quadratic checks (crossing edges, overlapping
// entries) fast; real zones and schedules are far smaller.
const (
	maxPolygonPoints   = 100
	maxScheduleEntries = 100
)

// ShapeFault is what is wrong with a drawn line or zone, for the config
// loader and Geometry.Check to report: a stable code, a message, and the
// part at fault (Field: "a", "b", "inside" of a line, or a point's index
// "[2]" of a zone; empty for the whole shape).
type ShapeFault struct {
	Code  string
	Field string
	Msg   string
}

func shapeFault(code, field, format string, args ...any) *ShapeFault {
	return &ShapeFault{Code: code, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// CheckPoint checks that p lies within the picture.
func CheckPoint(p Point) *ShapeFault {
	if p[0] >= 0 && p[0] <= 1 && p[1] >= 0 && p[1] <= 1 {
		return nil
	}
	return shapeFault(CodeOutsidePicture, "", "point [%g, %g] is outside the image; coordinates must be from 0 to 1", p[0], p[1])
}

// CheckLine checks a counting line: ends inside the picture and apart, and
// an inside point clearly off the line.
func CheckLine(l Line) *ShapeFault {
	for _, p := range []struct {
		field string
		pt    Point
	}{{"a", l.A}, {"b", l.B}, {"inside", l.Inside}} {
		if e := CheckPoint(p.pt); e != nil {
			e.Field = p.field
			return e
		}
	}
	if n := l.A.Dist(l.B); n < minLineLength {
		return shapeFault(CodeLineTooShort, "b", "a and b are %.4f apart, need at least %g", n, minLineLength)
	}
	if d := geom.DistToLine(l.Inside, l.A, l.B); d < minInsideDist {
		return shapeFault(CodeInsideOnLine, "inside", "inside point is %.4f from the line through a and b, need at least %g to tell the sides apart", d, minInsideDist)
	}
	return nil
}

// CheckPolygon checks a zone or mask: enough points inside the picture, no
// repeated points, no crossing or folding edges, and a usable area.
func CheckPolygon(pg Polygon) *ShapeFault {
	if len(pg) < 3 {
		return shapeFault(CodeTooFewPoints, "", "need at least 3 points, got %d", len(pg))
	}
	if len(pg) > maxPolygonPoints {
		return shapeFault(CodeTooManyPoints, "", "too many points (%d), at most %d", len(pg), maxPolygonPoints)
	}
	for i, p := range pg {
		if e := CheckPoint(p); e != nil {
			e.Field = fmt.Sprintf("[%d]", i)
			return e
		}
	}
	n := len(pg)
	for i := range pg {
		prev, p, next := pg[(i+n-1)%n], pg[i], pg[(i+1)%n]
		if p == next {
			return shapeFault(CodeRepeatedPoint, "", "points %d and %d are the same", i, (i+1)%n)
		}
		// Adjacent edges on one line pointing the same way fold back.
		if geom.Cross(prev, p, next) == 0 && dot(prev.Sub(p), next.Sub(p)) > 0 {
			return shapeFault(CodeSelfIntersecting, "", "edges meeting at point %d fold back on each other", i)
		}
	}
	if i, j, crossed := pg.SelfIntersection(); crossed {
		return shapeFault(CodeSelfIntersecting, "", "edge %d-%d crosses edge %d-%d; the outline must not intersect itself", i, (i+1)%n, j, (j+1)%n)
	}
	if a := pg.Area(); a < minZoneArea {
		return shapeFault(CodeAreaTooSmall, "", "area %.5f is below the minimum %g", a, minZoneArea)
	}
	return nil
}

func dot(a, b Point) float64 { return a[0]*b[0] + a[1]*b[1] }
