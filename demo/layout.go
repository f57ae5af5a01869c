package demo

import (
	"fmt"
	"slices"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geom"
)

// The hall's floor plan in normalised image coordinates (x right, y down).
// The camera looks down the hall from above the entrance: the service
// counter runs across the upper part, clerks sit behind it, a staff corridor
// behind them leads to a staff door on the left; visitors come in through the
// door at the bottom edge, wait on benches and stand in front of a window.
// Every y below is a feet position unless it says otherwise.
const (
	wallBottom   = 0.03 // back wall, drawn above the staff area
	corridorY    = 0.19 // staff walk here to and from the staff door
	staffExitX   = -0.06
	counterTop   = 0.30 // the counter's top edge: it hides a seated clerk's body below it
	counterBot   = 0.37
	seatY        = 0.36 // a seated clerk's (hidden) feet
	serviceY     = 0.56 // visitor served in front of a window
	laneY        = 0.64 // walkway between counter and benches
	benchY       = 0.75
	benchLaneY   = 0.84 // walkway below the benches
	doorLineY    = 0.90
	spawnY       = 1.35 // out of view, beyond the door
	enterX       = 0.47 // people keep right through the door
	leaveX       = 0.53
	windowsLeft  = 0.06 // span of the counter holding the windows
	windowsRight = 0.94

	walkSpeed = 1.0 // body heights per second
	followGap = 0.8 // distance kept behind someone ahead, body heights
)

// standingHeight is the height, as a share of the frame's, of a person
// standing with their feet at y: the camera looks down the hall from above
// the door, so people near it look taller than those at the counter.
func standingHeight(y float64) float64 { return 0.17 * (y + 0.55) }

// doorLine is the counting line across the entrance, inside towards the hall.
var doorLine = config.Line{ID: "door", A: geom.Point{0.38, doorLineY}, B: geom.Point{0.62, doorLineY}, Inside: geom.Point{0.5, 0.70}}

// benchXs are the waiting seats, left and right of the central aisle.
var benchXs = []float64{0.08, 0.135, 0.19, 0.245, 0.30, 0.355, 0.645, 0.70, 0.755, 0.81, 0.865, 0.92}

// windowX is the centre of window i (0-based) of n.
func windowX(i, n int) float64 {
	return windowsLeft + (float64(i)+0.5)*(windowsRight-windowsLeft)/float64(n)
}

// windowZone is where the "feet" of window i's seated clerk lie as the
// camera sees them: the bottom of what shows above the counter, with room
// for fidgeting and for a detector's box; nobody else's feet ever enter it.
func windowZone(i, n int) geom.Polygon {
	x := windowX(i, n)
	half := min(0.4*(windowsRight-windowsLeft)/float64(n), 0.06)
	return geom.Polygon{{x - half, counterTop - 0.06}, {x + half, counterTop - 0.06}, {x + half, counterBot}, {x - half, counterBot}}
}

func windowID(i int) string { return fmt.Sprintf("w%d", i+1) }

// serviceZone is where a visitor served at window i of n stands: around
// their feet at serviceY, above the walkway (laneY), narrower than the
// window's share of the counter so that neighbours' zones never touch.
func serviceZone(i, n int) geom.Polygon {
	x := windowX(i, n)
	half := 0.4 * (windowsRight - windowsLeft) / float64(n)
	return geom.Polygon{{x - half, serviceY - 0.05}, {x + half, serviceY - 0.05}, {x + half, serviceY + 0.04}, {x - half, serviceY + 0.04}}
}

// queueZones are the two rows of waiting seats, left and right of the
// central aisle (people walking in or out through it do not wait), between
// the walkways above and below the benches.
var queueZones = []config.QueueZone{
	{ID: "seats-left", Name: "等候区（左）", Zone: geom.Polygon{{0.04, benchY - 0.05}, {0.39, benchY - 0.05}, {0.39, benchY + 0.05}, {0.04, benchY + 0.05}}},
	{ID: "seats-right", Name: "等候区（右）", Zone: geom.Polygon{{0.61, benchY - 0.05}, {0.96, benchY - 0.05}, {0.96, benchY + 0.05}, {0.61, benchY + 0.05}}},
}

// Analytics returns the analytics configuration matching the scene: the
// door counting line, one zone per service window around the seated
// clerk's feet as the camera sees them, a service zone in front of each
// window (service_min half the shortest service, so every visitor served
// is one service) and the waiting seats as queue zones. The detector is left to
// detector.kind: the people are drawn for a person detector, the shipped
// model by default.
func (s *Scene) Analytics() *config.Analytics {
	a := &config.Analytics{FPS: 5, IdleAfter: config.DefaultIdleAfter, Lines: []config.Line{doorLine},
		QueueZones: slices.Clone(queueZones)}
	for i := range s.opts.Windows {
		a.Windows = append(a.Windows, config.Window{
			ID:          windowID(i),
			Name:        fmt.Sprintf("%d号窗口", i+1),
			Zone:        windowZone(i, s.opts.Windows),
			AbsentAfter: config.Duration(10 * time.Second),
			MinStaff:    1,
			ServiceZone: serviceZone(i, s.opts.Windows),
			ServiceMin:  config.Duration(s.opts.ServiceTime.Min / 2),
		})
	}
	if i := s.opts.Covered; i > 0 {
		a.Windows[i-1].Backup = windowID(i)
	}
	return a
}
