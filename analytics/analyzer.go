package analytics

import (
	"fmt"
	"image"
	"slices"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// AnalyzerOptions configures one camera's analysis.
type AnalyzerOptions struct {
	Camera    string            // camera id written into events
	Analytics *config.Analytics // lines and windows; required
	// Detector finds people; the Analyzer owns it and closes it in Close.
	Detector Detector
	Tracker  TrackerOptions
	// ResolveConfirm is how long staff must be back before an unstaffed
	// alert resolves (config alerts.resolve_confirm); 0 resolves at once.
	ResolveConfirm time.Duration
	// Open reports whether a window is open at a wall-clock time, by window
	// id; a window without an entry is always open.
	Open map[string]func(time.Time) bool
	// LineBand is the counting lines' hysteresis half-width (normalised);
	// 0 takes DefaultLineBand.
	LineBand float64
	// MinBoxHeight drops detections shorter than this share of the frame
	// height; 0 takes DefaultMinBoxHeight.
	MinBoxHeight float64
}

// DefaultMinBoxHeight is the shortest detection kept, as a share of the
// frame height (23 px of 576). Smaller boxes are a few pixels at the
// network's input size and mostly objects: on PETS09 Yolo-Fastest reports a
// traffic cone 16 px tall as a person for hundreds of frames.
const DefaultMinBoxHeight = 0.04

// Analyzer turns one camera's frames into events. Process, Observe and
// SetOffline must be called from one goroutine; Windows and Tracks may be
// called from any (the live board).
type Analyzer struct {
	mu      sync.Mutex // guards everything below detection
	camera  string
	minBoxH float64
	adds    addOptions // what lines and windows added by Reconfigure take
	det     Detector
	looks   *appearanceOf
	tracker *Tracker
	lines   []*lineCount
	windows []*zoneWatch
	queue   *queueWatch            // nil: no queue zones
	pending map[int][]events.Event // crossings of tentative tracks, flushed on confirmation
	tracks  []Track
	held    []int // tracks whose boxes the detector holds, in HoldForeground order
	regions []geom.Rect
	size    image.Point // of the last frame
	offline bool
	view    *viewCheck
	blocked string // why the view is blocked; "" when clear
	// blockedAlert is set while a camera_blocked alert is raised.
	blockedAlert bool
	// pendingKnown: windows a saved background showed empty, known again
	// once the detector takes it (see LoadState).
	pendingKnown []string
	// posts: the window each track's clerk belongs to and where the track
	// was last (the AB-post rule, see coverage); born: the window (id, not
	// index: the editor may remove windows meanwhile, see Reconfigure)
	// whose zone a track not yet posted was first seen in; departed:
	// posted tracks that ended walking, kept for handoffWithin.
	posts    map[int]post
	born     map[int]string
	departed []departure
	// stopped: the windows covered by their backup's clerk when analysis
	// last stopped (a gap, a blocked view, a restart, another node's run),
	// taken up by the next frame (see resumeCovering); no windows: when a
	// saved state that covered none was saved (see CoveredElsewhere).
	stopped coveredAt
}

type lineCount struct {
	id      string
	counter *LineCounter
}

// NewAnalyzer returns an analyzer for one camera.
func NewAnalyzer(o AnalyzerOptions) (*Analyzer, error) {
	if o.Analytics == nil {
		return nil, fmt.Errorf("camera %q: no analytics configured", o.Camera)
	}
	if o.Detector == nil {
		return nil, fmt.Errorf("camera %q: no detector", o.Camera)
	}
	if o.MinBoxHeight <= 0 {
		o.MinBoxHeight = DefaultMinBoxHeight
	}
	a := &Analyzer{
		camera:  o.Camera,
		minBoxH: o.MinBoxHeight,
		adds:    addOptions{lineBand: o.LineBand, resolveConfirm: o.ResolveConfirm},
		det:     o.Detector,
		looks:   newAppearanceOf(),
		tracker: NewTracker(o.Tracker),
		pending: map[int][]events.Event{},
		regions: regionsOf(o.Analytics),
		view:    newViewCheck(),
		posts:   map[int]post{},
		born:    map[int]string{},
	}
	for _, l := range o.Analytics.Lines {
		a.lines = append(a.lines, &lineCount{id: l.ID, counter: NewLineCounter(l, o.LineBand)})
	}
	_, hinted := o.Detector.(stillHinter)
	for _, w := range o.Analytics.Windows {
		a.windows = append(a.windows, &zoneWatch{zone: w.Zone, backup: w.Backup, presence: newPresence(w, o.ResolveConfirm, o.Open[w.ID]), known: !hinted, service: newServiceWatch(w)})
	}
	a.queue = newQueueWatch(o.Analytics)
	return a, nil
}

// Process analyses one decoded BGR frame. frameIndex is the 1-based input
// frame number, t the stream time in seconds (increasing), wall the frame's
// wall-clock time (for opening hours). Events come out in a fixed order:
// crossings, then window state changes, then alerts.
func (a *Analyzer) Process(frame gocv.Mat, frameIndex int, t float64, wall time.Time) ([]events.Event, error) {
	if err := checkFrame(frame); err != nil {
		return nil, fmt.Errorf("camera %q frame %d: %w", a.camera, frameIndex, err)
	}
	// A blocked view: windows unknown and a camera_blocked alert instead
	// of looking for people; once clear, the alert resolves after this
	// frame's own events.
	var viewEvs []events.Event
	if blocked, reason := a.view.check(frame, t); blocked || a.blocked != "" {
		viewEvs = a.setBlocked(reason, frameIndex, t, wall)
		if blocked {
			return viewEvs, nil
		}
	}
	dets, err := a.det.Detect(frame)
	if err != nil {
		return nil, fmt.Errorf("camera %q frame %d: %w", a.camera, frameIndex, err)
	}
	a.looks.fill(frame, dets)
	a.takeKnown()
	var present []bool
	if h, ok := a.det.(stillHinter); ok {
		present = h.HeldPresent()
		a.learnZones(h.Ghosts(), image.Pt(frame.Cols(), frame.Rows()))
	}
	return append(a.observe(dets, present, image.Pt(frame.Cols(), frame.Rows()), frameIndex, t, wall), viewEvs...), nil
}

// dropTracks forgets everybody at wall: nothing can be followed across a
// gap. The new tracker numbers its tracks from 1 again, so nothing keyed
// by the old ids may stay; which windows were covered does (stopped).
func (a *Analyzer) dropTracks(wall time.Time) {
	if covered := a.covered(); len(covered) > 0 {
		a.stopped = coveredAt{windows: covered, at: wall}
	}
	a.tracker = NewTracker(a.tracker.opts)
	a.tracks = nil
	a.held = nil // ids of the old tracker
	a.forgetDead(nil)
	clear(a.posts)
	clear(a.born)
	a.departed = nil
	for _, w := range a.windows {
		clear(w.counted)
	}
}

// Observe runs everything after detection: tracking, counting, presence.
// Process calls it; tests feed it synthetic detections.
func (a *Analyzer) Observe(dets []Detection, size image.Point, frameIndex int, t float64, wall time.Time) []events.Event {
	return a.observe(dets, nil, size, frameIndex, t, wall)
}

// observe is Observe with the detector's findings on the held boxes.
func (a *Analyzer) observe(dets []Detection, present []bool, size image.Point, frameIndex int, t float64, wall time.Time) []events.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.offline = false
	a.resumeCovering(t, wall)
	if len(present) == len(a.held) {
		for i, id := range a.held {
			a.tracker.Vouch(id, t, present[i])
		}
	}
	kept := dets[:0:0]
	for _, d := range dets {
		if float64(d.Box.Dy()) >= a.minBoxH*float64(size.Y) {
			kept = append(kept, d)
		}
	}
	a.size = size
	a.tracks = a.tracker.Update(t, kept, size)
	var evs []events.Event
	alive := make(map[int]bool, len(a.tracks))
	for _, tr := range a.tracks {
		alive[tr.ID] = true
		if tr.Seen {
			for _, l := range a.lines {
				if dir, ok := l.counter.Observe(tr.ID, tr.Feet); ok {
					a.pending[tr.ID] = append(a.pending[tr.ID], events.Event{Type: events.TypeCrossing, Line: l.id, Direction: dir, Track: tr.ID})
				}
			}
		}
		if tr.Confirmed {
			evs = append(evs, a.pending[tr.ID]...)
			delete(a.pending, tr.ID)
		}
	}
	a.forgetDead(alive)
	for _, tr := range a.tracks {
		if tr.Confirmed && tr.Moved {
			for _, w := range a.windows {
				if !w.known && w.zone.Contains(tr.Feet) {
					w.known = true // they walked in: the background there was learned without them
				}
			}
		}
	}
	evs = append(evs, a.updateWindows(t, wall)...)
	if h, ok := a.det.(stillHinter); ok {
		h.HoldForeground(a.hold())
	}
	return a.stamp(evs, frameIndex, t, wall)
}

// Advance moves the windows' clocks to t without a detection, keeping the
// people where the last Process found them: for a still scene (see Quiet)
// whose picture has not changed, so that absences still turn into alerts
// on time.
func (a *Analyzer) Advance(frameIndex int, t float64, wall time.Time) []events.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.offline = false
	return a.stamp(a.updateWindows(t, wall), frameIndex, t, wall)
}

// Looks is how many frames the detector looked at, where it skips some
// (the person model, on an unchanged picture: YOLO.Looks); ok is false
// for a detector that looks at every frame it is given.
func (a *Analyzer) Looks() (n uint64, ok bool) {
	l, ok := a.det.(interface{ Looks() uint64 })
	if !ok {
		return 0, false
	}
	return l.Looks(), true
}

// Quiet reports whether nothing is moving where analysis looks (regionsOf):
// every track there is confirmed and still, no crossing waits for its
// track's confirmation, and (for the motion detector) every window is
// staffed or closed. A quiet scene changes only when its picture does.
func (a *Analyzer) Quiet() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.pending) > 0 {
		return false
	}
	// With a detector that needs consecutive frames to make out someone
	// who sat down (the motion detector: stillHinter), an open window
	// without its staff is watched frame by frame. Others see a returning
	// clerk in the key frame that shows the change.
	if _, consecutive := a.det.(stillHinter); consecutive {
		for _, w := range a.windows {
			if st := w.presence.state; !events.Staffed(st) && st != events.StateClosed {
				return false
			}
		}
	}
	for _, tr := range a.tracks {
		if tr.Confirmed && tr.Still {
			continue
		}
		if a.size.X == 0 || a.inRegions(tr.Box) {
			return false
		}
	}
	return true
}

// StillBoxes returns the boxes (pixels) of the confirmed tracks that
// stand still: the people of a quiet scene.
func (a *Analyzer) StillBoxes() []image.Rectangle {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []image.Rectangle
	for _, tr := range a.tracks {
		if tr.Confirmed && tr.Still {
			out = append(out, tr.Box)
		}
	}
	return out
}

// regionMargin is how far around lines and zones analysis looks, as a
// share of the picture: about a person's height in a hall camera.
const regionMargin = 0.15

// regionsOf returns the parts of the picture that analysis looks at,
// normalised: around each counting line and each window zone, with a
// margin for the people approaching them; the whole picture when there are
// neither.
func regionsOf(an *config.Analytics) []geom.Rect {
	var out []geom.Rect
	for _, l := range an.Lines {
		out = append(out, geom.Bounds(geom.Polygon{l.A, l.B}).Grow(regionMargin))
	}
	for _, w := range an.Windows {
		out = append(out, geom.Bounds(w.Zone).Grow(regionMargin))
		if len(w.ServiceZone) > 0 {
			out = append(out, geom.Bounds(w.ServiceZone).Grow(regionMargin))
		}
	}
	for _, q := range an.QueueZones {
		out = append(out, geom.Bounds(q.Zone).Grow(regionMargin))
	}
	if len(out) == 0 {
		out = append(out, geom.Rect{Max: geom.Point{1, 1}})
	}
	return out
}

// inRegions reports whether a box in pixels overlaps any region.
func (a *Analyzer) inRegions(b image.Rectangle) bool {
	w, h := float64(a.size.X), float64(a.size.Y)
	r := geom.Rect{Min: geom.Point{float64(b.Min.X) / w, float64(b.Min.Y) / h}, Max: geom.Point{float64(b.Max.X) / w, float64(b.Max.Y) / h}}
	for _, g := range a.regions {
		if g.Overlaps(r) {
			return true
		}
	}
	return false
}

func (a *Analyzer) forgetDead(alive map[int]bool) {
	for id := range a.pending {
		if !alive[id] {
			delete(a.pending, id)
		}
	}
	for _, l := range a.lines {
		l.counter.Retain(alive)
	}
}

func (a *Analyzer) stamp(evs []events.Event, frameIndex int, t float64, wall time.Time) []events.Event {
	for i := range evs {
		at := wall
		switch evs[i].Type {
		case events.TypeService, events.TypeWait, events.TypeQueue:
			at = evs[i].Time // a departure or arrival a moment before this frame, a minute's start
		}
		evs[i].Camera, evs[i].Frame, evs[i].T, evs[i].Time = a.camera, frameIndex, t, at
	}
	return evs
}

// SetOffline tells the analyzer that the camera stopped delivering frames:
// windows become unknown (no absence accrues while offline) and tracks are
// dropped, since nothing can be followed across the gap. The next Process
// call resumes.
func (a *Analyzer) SetOffline(frameIndex int, t float64, wall time.Time) []events.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.offline {
		return nil
	}
	a.offline = true
	a.dropTracks(wall)
	var evs []events.Event
	for _, w := range a.windows {
		evs = append(evs, w.service.flush(w.presence.id, t, wall)...)
		evs = append(evs, w.presence.setOffline(wall)...)
	}
	evs = append(evs, a.queue.flush()...)
	return a.stamp(evs, frameIndex, t, wall)
}

// AlertsOpen marks windows whose unstaffed alert is open already, raised
// by a previous run or by the node that ran the camera before: such an
// alert resolves, like one raised here, once staff have been back for
// resolve_confirm, and is not raised twice. Call it before the first frame.
func (a *Analyzer) AlertsOpen(windows []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, w := range a.windows {
		if slices.Contains(windows, w.presence.id) {
			w.presence.raised = true
		}
	}
}

// Windows returns the windows' current states, in config order.
func (a *Analyzer) Windows() []events.WindowStatus {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]events.WindowStatus, len(a.windows))
	for i, w := range a.windows {
		out[i] = w.presence.status()
	}
	return out
}

// Tracks returns the tracks after the last frame, for overlays and debugging.
func (a *Analyzer) Tracks() []Track {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Track(nil), a.tracks...)
}

// Close releases the detector.
func (a *Analyzer) Close() error {
	a.looks.close()
	a.view.Close()
	return a.det.Close()
}
