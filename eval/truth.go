package eval

import (
	"math"
	"sort"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geom"
)

// Crossing is a ground-truth or predicted line crossing.
type Crossing struct {
	Frame     int
	ID        int // ground-truth id or track id
	Direction string
}

// Crossings derives the crossings of line by the annotated trajectories with
// the README rule: a feet point crossing the finite segment a-b towards the
// side holding Inside is "in", the other way "out". A point exactly on the
// line keeps the side it came from. The frame is the first one on the new side.
func Crossings(tracks map[int][]FeetPoint, line config.Line) []Crossing {
	var out []Crossing
	for id, pts := range tracks {
		lastSide := 0
		var last geom.Point
		for _, fp := range pts {
			side := geom.Side(line.A, line.B, line.Inside, fp.P)
			if side == 0 {
				continue
			}
			if lastSide != 0 && side != lastSide && geom.SegmentsIntersect(last, fp.P, line.A, line.B) {
				dir := "out"
				if side > 0 {
					dir = "in"
				}
				out = append(out, Crossing{Frame: fp.Frame, ID: id, Direction: dir})
			}
			lastSide, last = side, fp.P
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Frame != out[j].Frame {
			return out[i].Frame < out[j].Frame
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Occupancy returns, for frames 1..frames (index frame-1), how many
// annotated feet points (conf ≠ 0) lie inside zone.
func Occupancy(boxes []Box, w, h, frames int, zone geom.Polygon) []int {
	counts := make([]int, frames)
	for _, b := range boxes {
		if b.Conf == 0 || b.Frame > frames {
			continue
		}
		if zone.Contains(b.Feet(w, h)) {
			counts[b.Frame-1]++
		}
	}
	return counts
}

// PresenceRule holds a window's alert parameters.
type PresenceRule struct {
	MinStaff       int
	AbsentAfter    float64 // seconds
	ResolveConfirm float64 // seconds staff must be back to resolve
}

// Alert is an unstaffed alert being raised or resolved at a frame.
type Alert struct {
	Frame int
	State string // "raised" or "resolved"
}

// ExpectedAlerts applies the window rule to per-frame head counts (index
// frame-1) of a clip played at fps: an absence (count < MinStaff) starts at
// its first frame and ends once staff has been back for ResolveConfirm; an
// alert is raised AbsentAfter into an absence and resolved when it ends.
// With ResolveConfirm 0 this is the README's rule: raise at the start of each
// empty run of at least AbsentAfter plus AbsentAfter, resolve at its end.
func ExpectedAlerts(counts []int, fps float64, r PresenceRule) []Alert {
	minStaff := max(r.MinStaff, 1)
	afterFrames := int(math.Round(r.AbsentAfter * fps))
	confirmFrames := int(math.Round(r.ResolveConfirm * fps))
	var out []Alert
	absentStart, backStart := -1, -1 // frame indexes (1-based); -1 = none
	raised := false
	for i, c := range counts {
		f := i + 1
		if c >= minStaff {
			if absentStart < 0 {
				continue
			}
			if backStart < 0 {
				backStart = f
			}
			if f-backStart >= confirmFrames {
				if raised {
					out = append(out, Alert{Frame: f, State: "resolved"})
				}
				absentStart, backStart, raised = -1, -1, false
			}
			continue
		}
		backStart = -1
		if absentStart < 0 {
			absentStart = f
		}
		if !raised && f-absentStart >= afterFrames {
			out = append(out, Alert{Frame: f, State: "raised"})
			raised = true
		}
	}
	return out
}

// longestStay is the longest time, in seconds, one person's feet stay in
// zone without a break (gt.txt), at fps frames a second.
func longestStay(s *Sequence, zone geom.Polygon, fps float64) float64 {
	type run struct{ first, last int }
	runs := map[int]*run{}
	longest := 0
	for _, b := range s.Boxes {
		if b.Conf == 0 || !zone.Contains(b.Feet(s.Width, s.Height)) {
			continue
		}
		r := runs[b.ID]
		if r == nil || b.Frame != r.last+1 {
			r = &run{b.Frame, b.Frame}
			runs[b.ID] = r
		}
		r.last = b.Frame
		longest = max(longest, r.last-r.first+1)
	}
	return float64(longest) / fps
}
