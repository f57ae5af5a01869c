package analytics

import (
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// DefaultLineBand is the half-width of the hysteresis band around a counting
// line, in normalised units (about 8 px on a 768 px wide image): wider than
// the jitter of a smoothed feet point, narrow enough that someone who stops
// just past the line is still counted in time.
const DefaultLineBand = 0.01

// LineCounter counts tracks whose feet cross a finite segment. A crossing is
// counted when a track, last seen clearly on one side (farther than the band
// from the line), is next seen clearly on the other side and its path went
// through the segment. Wobbling inside the band counts nothing; the same
// track can count again only after it was clearly on the other side, so a
// track that comes back yields in then out.
type LineCounter struct {
	line   config.Line
	band   float64
	tracks map[int]*lineState
}

type lineState struct {
	clear    int        // side the track was last clearly on: +1 inside, -1 outside, 0 unknown
	last     geom.Point // previous feet position
	lastSide int        // side of last, 0 when on the line
	through  bool       // since leaving the clear side, the path crossed the segment
}

// NewLineCounter returns a counter for l; band ≤ 0 takes DefaultLineBand.
func NewLineCounter(l config.Line, band float64) *LineCounter {
	if band <= 0 {
		band = DefaultLineBand
	}
	return &LineCounter{line: l, band: band, tracks: map[int]*lineState{}}
}

// Observe feeds a track's feet position and returns the direction
// (events.DirectionIn or events.DirectionOut) when this observation completes a crossing.
func (c *LineCounter) Observe(trackID int, feet geom.Point) (string, bool) {
	a, b := c.line.A, c.line.B
	side := geom.Side(a, b, c.line.Inside, feet)
	clear := 0
	if geom.DistToLine(feet, a, b) > c.band {
		clear = side
	}
	st, ok := c.tracks[trackID]
	if !ok {
		c.tracks[trackID] = &lineState{clear: clear, last: feet, lastSide: side}
		return "", false
	}
	if side != 0 && st.lastSide != 0 && side != st.lastSide {
		// The step changed sides of the infinite line: it counts only if it
		// went through the segment itself, not past one of its ends.
		st.through = geom.SegmentsIntersect(st.last, feet, a, b)
	}
	if side != 0 {
		st.lastSide = side
	}
	st.last = feet
	if clear == 0 || clear == st.clear {
		if clear != 0 {
			st.through = false
		}
		return "", false
	}
	prev, through := st.clear, st.through
	st.clear, st.through = clear, false
	if prev == 0 || !through {
		// Entered the picture near the line, or went round the segment's
		// end: this side becomes the reference without counting.
		return "", false
	}
	if clear > 0 {
		return events.DirectionIn, true
	}
	return events.DirectionOut, true
}

// Retain drops the state of tracks not in alive (finished tracks).
func (c *LineCounter) Retain(alive map[int]bool) {
	for id := range c.tracks {
		if !alive[id] {
			delete(c.tracks, id)
		}
	}
}
