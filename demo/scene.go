package demo

import (
	"image"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/geom"
)

// Scene is the simulated hall. It advances one frame per Step; it is not
// safe for concurrent use.
type Scene struct {
	opts  SceneOptions
	rng   *rand.Rand
	frame int // frames rendered so far; the last one is frame number s.frame

	people    []*person // clerks first (index = window), then visitors by arrival
	nextID    int       // next visitor number
	spawned   int
	nextSpawn int       // frame of the next arrival attempt
	benchUsed []bool    // waiting seat taken (or being walked to)
	serving   []*person // visitor assigned to each window, nil if none
	zones     []geom.Polygon
	occupied  []int   // people in each window zone at the last frame
	covered   [2]bool // AB post: backup clerk in the covered window's zone, away covering (at the last frame)
	// serviceZones are where visitors stand at each window (services).
	serviceZones []geom.Polygon

	bg, noise []byte
	img       avcodec.Image
}

type state int

const (
	clerkSeated state = iota
	clerkLeaving
	clerkAway
	clerkReturning
	// The AB post (SceneOptions.Covered): the backup clerk walks to the
	// covered window, sits there, walks back.
	clerkToCover
	clerkCovering
	clerkFromCover
	visitorToBench
	visitorWaiting
	visitorToWindow
	visitorServed
	visitorLeaving
	visitorGone
)

// person is a clerk or a visitor. Positions are feet points in pixels.
type person struct {
	id     int // visitor number from 1; 0 for clerks
	window int // clerk's window, or the window a visitor is assigned to; -1 none
	bench  int // visitor's waiting seat; -1 none
	state  state
	x, y   float64
	path   [][2]float64 // remaining waypoints, pixels
	timer  int          // frames left in a timed state
	due    int          // clerk: frame of the next absence
	arrive int          // visitor: arrival frame (queue order)
	stride float64      // distance walked, drives the legs
	waited int          // frames spent waiting for someone ahead
	still  bool         // the clerk who never fidgets
	fidget [2]int       // clerk's body and head offsets, pixels
	look   look
	sprite sprite    // the figure as last rendered
	drawn  spriteKey // what it was rendered for

	lastSide int // door line side of the last feet point off the line
	lastFeet geom.Point
	// served is the window whose service zone the visitor's feet are in
	// (-1: none), since servedSince; queue the queue zone they entered,
	// at queuedSince, last there at queuedLast, before reaching a window
	// ("": none).
	served                  int
	servedSince             float64
	queue                   string
	queuedSince, queuedLast float64
}

// NewScene builds a scene and its static background; the first Step returns
// frame 1, with the hall empty and every clerk seated (or, with
// ClerksArrive, on the way).
func NewScene(opts SceneOptions) (*Scene, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	s := &Scene{
		opts:      opts,
		rng:       rand.New(rand.NewPCG(uint64(opts.Seed), 0x68616c6c)),
		benchUsed: make([]bool, len(benchXs)),
		serving:   make([]*person, opts.Windows),
		occupied:  make([]int, opts.Windows),
		nextID:    1,
	}
	s.nextSpawn = s.frames(s.opts.VisitorInterval.Min / 2)
	for i := range opts.Windows {
		s.zones = append(s.zones, windowZone(i, opts.Windows))
		s.serviceZones = append(s.serviceZones, serviceZone(i, opts.Windows))
		c := &person{window: i, bench: -1, state: clerkSeated, look: clerkLook(s.rng)}
		c.x, c.y = s.px(windowX(i, opts.Windows), seatY)
		if opts.ClerksArrive.Max > 0 {
			c.state, c.timer = clerkAway, s.draw(opts.ClerksArrive)
			c.x, c.y = s.px(staffExitX, corridorY)
		}
		c.still = i+1 == opts.StillClerk
		iv := opts.ClerkAwayInterval.Max
		c.due = s.frames(iv/10 + time.Duration(s.rng.Int64N(int64(iv-iv/10)+1)))
		s.people = append(s.people, c)
	}
	s.img = *avcodec.NewImage(opts.Width, opts.Height)
	s.bg = drawBackground(opts, s.rng)
	if opts.Noise > 0 {
		s.noise = makeNoise(opts, s.rng)
	}
	return s, nil
}

// Options returns the options in effect, defaults filled in.
func (s *Scene) Options() SceneOptions { return s.opts }

// Spawned returns how many visitors have arrived so far.
func (s *Scene) Spawned() int { return s.spawned }

// Visitors returns how many visitors are in the scene (not yet gone).
func (s *Scene) Visitors() int { return len(s.people) - s.opts.Windows }

// Step advances the hall by one frame and renders it. The image is reused
// by the next Step. The truth events are what changed in this frame (frame 1
// reports the initial state of every window).
func (s *Scene) Step() (*avcodec.Image, []TruthEvent) {
	s.frame++
	var events []TruthEvent
	if s.frame > 1 {
		s.update()
		events = append(s.crossings(), s.services()...)
	} else {
		for _, p := range s.people {
			p.lastSide, p.lastFeet = s.doorSide(p)
		}
	}
	events = append(events, s.windowChanges()...)
	events = append(events, s.coverChanges()...)
	s.render()
	return &s.img, events
}

// update moves everybody by one frame.
func (s *Scene) update() {
	s.arrivals()
	for _, c := range s.people[:s.opts.Windows] {
		s.updateClerk(c)
	}
	s.assignWindows()
	for _, v := range s.people[s.opts.Windows:] {
		s.updateVisitor(v)
	}
	s.people = slices.DeleteFunc(s.people, func(p *person) bool { return p.state == visitorGone })
}

// open reports whether window i can take a visitor. A backup clerk takes
// none while the window they cover is away: they finish their visitor and
// go over.
func (s *Scene) open(i int) bool {
	c := s.people[i]
	if a := s.coveredBy(c); a != nil && (a.state == clerkLeaving || a.state == clerkAway) {
		return false
	}
	return c.state == clerkSeated && (s.frame < c.due || s.coveredBy(c) != nil) && s.serving[i] == nil
}

func (s *Scene) arrivals() {
	if s.frame < s.nextSpawn || (s.opts.SpawnUntil > 0 && s.seconds(s.frame) >= s.opts.SpawnUntil.Seconds()) {
		return
	}
	v := &person{id: s.nextID, window: -1, bench: -1, served: -1, arrive: s.frame, look: visitorLook(s.rng)}
	v.x, v.y = s.px(enterX, spawnY)
	var free []int
	for i := range s.opts.Windows {
		if s.open(i) {
			free = append(free, i)
		}
	}
	if len(free) > 0 {
		s.sendToWindow(v, free[s.rng.IntN(len(free))], enterX)
	} else {
		var benches []int
		for i, used := range s.benchUsed {
			if !used {
				benches = append(benches, i)
			}
		}
		if len(benches) == 0 {
			s.nextSpawn = s.frame + s.opts.FPS // hall full: the visitor comes back later
			return
		}
		v.bench = benches[s.rng.IntN(len(benches))]
		s.benchUsed[v.bench] = true
		v.state = visitorToBench
		v.path = s.route(enterX, benchLaneY, benchXs[v.bench], benchLaneY, benchXs[v.bench], benchY)
	}
	v.lastSide, v.lastFeet = s.doorSide(v)
	s.people = append(s.people, v)
	s.nextID++
	s.spawned++
	s.nextSpawn = s.frame + s.draw(s.opts.VisitorInterval)
}

// sendToWindow walks v from aisle position x to window i.
func (s *Scene) sendToWindow(v *person, i int, x float64) {
	wx := windowX(i, s.opts.Windows)
	v.window, v.state = i, visitorToWindow
	v.path = s.route(x, laneY, wx, laneY, wx, serviceY)
	s.serving[i] = v
}

// assignWindows calls the longest-waiting visitor to each open window.
func (s *Scene) assignWindows() {
	for _, i := range s.rng.Perm(s.opts.Windows) {
		if !s.open(i) {
			continue
		}
		var next *person
		for _, v := range s.people[s.opts.Windows:] {
			if v.state == visitorWaiting && (next == nil || v.arrive < next.arrive) {
				next = v
			}
		}
		if next == nil {
			return
		}
		s.benchUsed[next.bench] = false
		bx := benchXs[next.bench]
		next.bench = -1
		s.sendToWindow(next, i, bx)
	}
}

func (s *Scene) updateClerk(c *person) {
	wx := windowX(c.window, s.opts.Windows)
	switch c.state {
	case clerkSeated:
		if a := s.coveredBy(c); a != nil && (a.state == clerkLeaving || a.state == clerkAway) && s.serving[c.window] == nil {
			// The backup clerk, free, covers: behind the counter at seat
			// level (no other seat between).
			c.state, c.fidget = clerkToCover, [2]int{}
			c.path = s.route(windowX(a.window, s.opts.Windows), seatY)
			return
		}
		if s.frame >= c.due && s.serving[c.window] == nil && s.coveredBy(c) == nil {
			c.state, c.fidget = clerkLeaving, [2]int{}
			c.path = s.route(wx, corridorY, staffExitX, corridorY)
			return
		}
		if !c.still && s.rng.IntN(s.opts.FPS*3/2+1) == 0 {
			c.fidget = [2]int{s.rng.IntN(5) - 2, s.rng.IntN(3) - 1}
		}
	case clerkLeaving:
		if s.walk(c) {
			c.state, c.timer = clerkAway, s.draw(s.opts.ClerkAway)
		}
	case clerkAway:
		if c.timer--; c.timer <= 0 {
			c.state = clerkReturning
			c.path = s.route(wx, corridorY, wx, seatY)
			if b := s.backupOf(c); b != nil && (b.state == clerkToCover || b.state == clerkCovering) {
				// The covering clerk hands back as the clerk comes in.
				b.state, b.fidget = clerkFromCover, [2]int{}
				b.path = s.route(windowX(b.window, s.opts.Windows), seatY)
			}
		}
	case clerkReturning:
		if s.walk(c) {
			c.state, c.due = clerkSeated, s.frame+s.draw(s.opts.ClerkAwayInterval)
		}
	case clerkToCover:
		if s.walk(c) {
			c.state = clerkCovering
		}
	case clerkFromCover:
		if s.walk(c) {
			c.state, c.due = clerkSeated, max(c.due, s.frame+s.draw(s.opts.ClerkAwayInterval)/2)
		}
	}
}

// coveredBy returns the clerk whose window c's clerk is the backup of
// (SceneOptions.Covered), nil when none.
func (s *Scene) coveredBy(c *person) *person {
	if s.opts.Covered == 0 || c.id != 0 || c.window != s.opts.Covered {
		return nil
	}
	return s.people[c.window-1]
}

// backupOf returns the clerk who covers c's window (SceneOptions.Covered),
// nil when it has none.
func (s *Scene) backupOf(c *person) *person {
	if s.opts.Covered == 0 || c.id != 0 || c.window != s.opts.Covered-1 {
		return nil
	}
	return s.people[c.window+1]
}

func (s *Scene) updateVisitor(v *person) {
	switch v.state {
	case visitorToBench:
		if s.walk(v) {
			v.state = visitorWaiting
		}
	case visitorToWindow:
		if s.walk(v) {
			v.state, v.timer = visitorServed, s.draw(s.opts.ServiceTime)
		}
	case visitorServed:
		if v.timer--; v.timer <= 0 {
			wx := windowX(v.window, s.opts.Windows)
			s.serving[v.window], v.window = nil, -1
			v.state = visitorLeaving
			v.path = s.route(wx, laneY, leaveX, laneY, leaveX, spawnY)
		}
	case visitorLeaving:
		if s.walk(v) {
			v.state = visitorGone
		}
	}
}

// walk moves p along its path by one frame's worth and reports arrival.
// Walkers keep their distance from someone ahead going the same way, as
// people do in a queue through a door, but give up waiting after two seconds
// so that nobody is stuck for good.
func (s *Scene) walk(p *person) bool {
	if s.blocked(p) && p.waited < 2*s.opts.FPS {
		p.waited++
		return false
	}
	p.waited = 0
	step := walkSpeed * s.height(p) / float64(s.opts.FPS)
	for step > 0 && len(p.path) > 0 {
		dx, dy := p.path[0][0]-p.x, p.path[0][1]-p.y
		d := math.Hypot(dx, dy)
		if d <= step {
			p.x, p.y = p.path[0][0], p.path[0][1]
			p.path = p.path[1:]
			p.stride += d
			step -= d
			continue
		}
		p.x += dx / d * step
		p.y += dy / d * step
		p.stride += step
		step = 0
	}
	return len(p.path) == 0
}

// blocked reports whether someone walking p's way is just ahead of p.
func (s *Scene) blocked(p *person) bool {
	hx, hy := heading(p)
	gap := followGap * s.height(p)
	for _, q := range s.people {
		if q == p || q.state == clerkAway {
			continue
		}
		qx, qy := heading(q)
		ax, ay := q.x-p.x, q.y-p.y
		if hx*qx+hy*qy > 0.9 && ax*hx+ay*hy > 0 && math.Hypot(ax, ay) < gap {
			return true
		}
	}
	return false
}

// heading is the unit vector towards p's next waypoint, zero when p stands.
func heading(p *person) (float64, float64) {
	if len(p.path) == 0 {
		return 0, 0
	}
	dx, dy := p.path[0][0]-p.x, p.path[0][1]-p.y
	d := math.Hypot(dx, dy)
	if d == 0 {
		return 0, 0
	}
	return dx / d, dy / d
}

// route turns normalised (x, y) pairs into a pixel path.
func (s *Scene) route(xy ...float64) [][2]float64 {
	path := make([][2]float64, 0, len(xy)/2)
	for i := 0; i+1 < len(xy); i += 2 {
		x, y := s.px(xy[i], xy[i+1])
		path = append(path, [2]float64{x, y})
	}
	return path
}

func (s *Scene) px(x, y float64) (float64, float64) {
	return x * float64(s.opts.Width), y * float64(s.opts.Height)
}

// feet returns p's feet point, normalised: the bottom centre of its figure
// as the camera sees it, for a clerk at most the counter top.
func (s *Scene) feet(p *person) geom.Point {
	y := p.y / float64(s.opts.Height)
	if p.behindCounter() {
		y = min(y, counterTop)
	}
	return geom.Point{(p.x + float64(p.fidget[0])) / float64(s.opts.Width), y}
}

// norm converts a pixel point to normalised coordinates.
func (s *Scene) norm(p image.Point) geom.Point {
	return geom.Point{float64(p.X) / float64(s.opts.Width), float64(p.Y) / float64(s.opts.Height)}
}

// hidden reports whether someone nearer the camera covers a quarter or
// more of p's box b.
func (s *Scene) hidden(p *person, b image.Rectangle) bool {
	for _, q := range s.people {
		if q == p || q.state == clerkAway || q.y <= p.y {
			continue
		}
		x0, y0, x1, y1 := s.box(q)
		in := b.Intersect(image.Rect(x0, y0, x1, y1))
		if 4*in.Dx()*in.Dy() >= b.Dx()*b.Dy() {
			return true
		}
	}
	return false
}

// frames converts a duration to a whole number of frames.
func (s *Scene) frames(d time.Duration) int {
	return int(math.Round(d.Seconds() * float64(s.opts.FPS)))
}

// draw picks a uniform number of frames from r.
func (s *Scene) draw(r Range) int {
	lo, hi := s.frames(r.Min), s.frames(r.Max)
	return lo + s.rng.IntN(hi-lo+1)
}

// seconds is the scene time of frame n (frame 1 is at 0), to the millisecond.
func (s *Scene) seconds(n int) float64 {
	return math.Round(float64(n-1)*1000/float64(s.opts.FPS)) / 1000
}
