package analytics

import (
	"image"
	"math"
	"sort"
	"time"

	"github.com/hallwatch/hallwatch/geom"
)

// TrackerOptions tunes the multi-object tracker. Zero fields take defaults.
type TrackerOptions struct {
	// BirthScore is the score a detection needs to start a track; weaker
	// detections only extend existing tracks (ByteTrack's two-stage idea:
	// they recover people the detector is unsure about without adding ghosts).
	BirthScore float32
	// MinHits is the number of matched detections that confirm a track.
	MinHits int
	// MaxAge is how long a moving track survives without detections.
	MaxAge time.Duration
	// WeakExtendsTentative lets detections under BirthScore extend tentative
	// tracks too, not only confirmed ones: the motion detector's weak blobs
	// are the same people as its whole ones (a shirt whose trousers MOG2
	// took for a shadow), not a network's unsure guesses.
	WeakExtendsTentative bool
	// WideRecovery gives a confirmed walking track that matched nothing a last
	// chance at a confident detection nobody claimed, wideGate box heights
	// beyond the usual gate, if it looks much alike. A motion blob's box
	// jumps farther than a person walks when it loses the legs (dark
	// trousers over a dark floor pass for a shadow) or gets them back; a
	// network's boxes do not, and there the wider gate only adds swaps.
	WideRecovery bool
	// StillAge is how long a confirmed track that stood still survives
	// without detections (default 1 s): a still person lives only while the
	// detector keeps seeing them, or Vouch gives other evidence, or someone
	// in front hides them. A seated clerk who leaves is gone within it.
	StillAge time.Duration
}

func (o TrackerOptions) withDefaults() TrackerOptions {
	if o.MinHits <= 0 {
		o.MinHits = 3
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 1500 * time.Millisecond
	}
	if o.StillAge <= 0 {
		o.StillAge = time.Second
	}
	return o
}

// Track is a person followed across frames.
type Track struct {
	ID        int
	Box       image.Rectangle // pixels, as last observed (not extrapolated)
	Feet      geom.Point      // bottom-centre, median of the last 3 boxes, normalised 0..1
	Confirmed bool
	Still     bool // has not moved for a while
	// Stopped: the feet stayed within stopSpread box heights over the
	// last stopWindow, a quicker and stricter judgement than Still (with
	// hysteresis: see judgeStopped).
	Stopped bool
	// Moved: the feet once strayed beyond stillSpread box heights from
	// where the track was born. A track that never moved either sat down
	// before it was first seen or is a ghost (see Motion).
	Moved bool
	Seen  bool // matched a detection in the last update
	// Vouched is true when Vouch found the box occupied for the last update.
	Vouched bool
	// Hidden: a still track someone nearer the camera stood in front of
	// in the last update, which keeps it alive unseen.
	Hidden bool
	// Revived: a still track lost for want of detections that a detection
	// where it sat brought back in the last update (see reviveLost).
	Revived bool
	Missed  float64 // seconds since the last matched detection
}

// Tracker associates detections across frames: constant-velocity
// prediction (alpha-beta filter), Hungarian matching on centre distance,
// IoU, size and a colour histogram, two matching stages by detection score,
// tolerance for missed frames (long for people standing still) and
// confirmation after MinHits detections. It is not safe for concurrent use.
type Tracker struct {
	opts   TrackerOptions
	tracks []*track
	// lost are still tracks dropped for want of detections, kept out of
	// sight for lostKeep (see reviveLost).
	lost   []*track
	nextID int
	size   image.Point
	now    float64 // time of the last update
}

// NewTracker returns an empty tracker.
func NewTracker(o TrackerOptions) *Tracker {
	return &Tracker{opts: o.withDefaults(), nextID: 1}
}

// track is the filter state of one person, in pixels and seconds.
type track struct {
	id        int
	cx, cy    float64 // box centre
	w, h      float64
	vx, vy    float64 // px/s
	lastSeen  float64
	hits      int
	confirmed bool
	seen      bool
	still     bool
	stopped   bool     // see judgeStopped
	bx, by    float64  // feet at birth
	moved     bool     // the feet once left stillSpread box heights around (bx, by)
	history   []sample // recent matched centres, for stillness
	look      Appearance
	// Evidence from Vouch: the last time the box was found occupied, and
	// the start of the current run of findings that it is empty (<0: none).
	vouched, vacantSince float64
	hidden               float64 // last time someone in front hid it (see hiddenBy)
	lost                 float64 // when it was dropped into Tracker.lost
	revived              float64 // when reviveLost last brought it back
}

type sample struct{ t, x, y float64 }

const (
	alpha           = 0.6  // position gain of the alpha-beta filter
	beta            = 0.2  // velocity gain
	sizeGain        = 0.3  // box size smoothing
	gateBase        = 0.3  // matching gate in box heights for a track seen last frame
	gateGrow        = 1.0  // extra box heights per second unseen (up to 1 s)
	stillWindow     = 2.0  // seconds of history judged for stillness
	stillSpread     = 0.25 // max movement within the window, in box heights
	vacantGrace     = 0.5  // seconds a vouched-empty track survives without detections
	stopWindow      = 0.6  // seconds of history judged for a stop
	stopSpread      = 0.1  // max distance from the last feet within it, in box heights
	maxPredictFor   = 1.0  // seconds of constant-velocity extrapolation while unseen
	lookWeight      = 1.0  // weight of the appearance distance in the matching cost
	maxLookDistance = 0.8  // appearance distance above which a pair never matches
	feetMedianOf    = 3    // observations the reported feet point is the median of
	wideGate        = 0.5  // extra box heights of the gate in stage 3 (WideRecovery)
	wideLook        = 0.5  // appearance distance above which stage 3 never matches
	// timeEpsilon absorbs the rounding of frame times (f/fps): at 5 fps
	// 3.2-0.6 is above 2.6, and a window of 0.6 s would hold three frames
	// or four by chance.
	timeEpsilon = 1e-6
)

// predict returns the centre expected at time t.
func (tr *track) predict(t float64) (float64, float64) {
	dt := math.Min(t-tr.lastSeen, maxPredictFor)
	if dt < 0 || tr.still {
		dt = 0
	}
	return tr.cx + tr.vx*dt, tr.cy + tr.vy*dt
}

func (tr *track) box(cx, cy float64) image.Rectangle {
	return image.Rect(int(math.Round(cx-tr.w/2)), int(math.Round(cy-tr.h/2)), int(math.Round(cx+tr.w/2)), int(math.Round(cy+tr.h/2)))
}

// Update advances the tracker to time t (seconds, increasing) with the
// detections of a frame of the given size and returns the live tracks.
func (tk *Tracker) Update(t float64, dets []Detection, size image.Point) []Track {
	tk.size, tk.now = size, t
	var high, low []int
	for i, d := range dets {
		if d.Score >= tk.opts.BirthScore {
			high = append(high, i)
		} else {
			low = append(low, i)
		}
	}
	pred := make([][2]float64, len(tk.tracks))
	for i, tr := range tk.tracks {
		tr.seen = false
		cx, cy := tr.predict(t)
		pred[i] = [2]float64{cx, cy}
	}
	all := make([]int, len(tk.tracks))
	for i := range all {
		all[i] = i
	}
	claimed := make([]bool, len(dets))
	// Stage 1: every track against confident detections.
	unmatched := tk.match(t, all, high, dets, pred, claimed, stageConfident)
	// Stage 2: confirmed (or all) tracks left over against weak detections,
	// strict gate.
	var second []int
	for _, i := range unmatched {
		if tk.tracks[i].confirmed || tk.opts.WeakExtendsTentative {
			second = append(second, i)
		}
	}
	unmatched = tk.match(t, second, low, dets, pred, claimed, stageWeak)
	// Stage 3: confirmed walking tracks still left over against the
	// confident detections nobody claimed, wide gate.
	if tk.opts.WideRecovery {
		var third, free []int
		for _, i := range unmatched {
			if tr := tk.tracks[i]; tr.confirmed && !tr.still && !tr.stopped {
				third = append(third, i) // walking: the jump was the blob's
			}
		}
		for _, j := range high {
			if !claimed[j] {
				free = append(free, j)
			}
		}
		tk.match(t, third, free, dets, pred, claimed, stageWide)
	}
	tk.reviveLost(t, dets, claimed)
	// New tracks from confident detections nobody claimed.
	for _, j := range high {
		if !claimed[j] && !tk.overlapsConfirmed(dets[j].Box, pred) {
			tk.birth(t, dets[j])
		}
	}
	// Age out.
	for _, tr := range tk.tracks {
		if !tr.seen && tr.confirmed && tr.still && tk.hiddenBy(tr) {
			tr.hidden = t
		}
	}
	live := tk.tracks[:0]
	for _, tr := range tk.tracks {
		if !tr.seen {
			missed := t - math.Max(tr.lastSeen, math.Max(tr.vouched, tr.hidden))
			limit := tk.opts.MaxAge.Seconds()
			switch {
			case !tr.confirmed:
				limit = math.Min(limit, 0.5) // tentative tracks get little grace
			case tr.vacantSince >= 0 && tr.still:
				missed, limit = t-tr.vacantSince, vacantGrace
			case tr.still:
				limit = tk.opts.StillAge.Seconds()
			}
			if missed > limit {
				if tr.confirmed && tr.still && tr.vacantSince < 0 {
					tr.lost = t
					tk.lost = append(tk.lost, tr)
				}
				continue
			}
		}
		live = append(live, tr)
	}
	tk.tracks = live
	return tk.Tracks()
}

// stage is a matching stage of Update.
type stage int

const (
	stageConfident stage = iota
	stageWeak            // strict gate: the boxes must overlap
	stageWide            // wider gate, closer look
	stageRevive          // lost still tracks: strict gate, closer look
)

// match assigns detections js to tracks is, updates matched tracks, marks
// the detections they took in claimed and returns the tracks left unmatched.
func (tk *Tracker) match(t float64, is, js []int, dets []Detection, pred [][2]float64, claimed []bool, st stage) []int {
	if len(is) == 0 {
		return is
	}
	cost := make([][]float64, len(is))
	for a, i := range is {
		tr := tk.tracks[i]
		pbox := tr.box(pred[i][0], pred[i][1])
		cost[a] = make([]float64, len(js))
		for b, j := range js {
			cost[a][b] = tk.cost(tr, pbox, pred[i], dets[j], t, st)
		}
	}
	res := assign(cost)
	var left []int
	for a, b := range res {
		if b < 0 {
			left = append(left, is[a])
			continue
		}
		j := js[b]
		tk.observe(tk.tracks[is[a]], t, dets[j], pred[is[a]])
		claimed[j] = true
	}
	return left
}

// cost of pairing a track with a detection: centre distance in box heights,
// 1-IoU, size change and appearance distance; +Inf outside the gates.
func (tk *Tracker) cost(tr *track, pbox image.Rectangle, p [2]float64, det Detection, t float64, st stage) float64 {
	d := det.Box
	iou := IoU(pbox, d)
	dcx, dcy := float64(d.Min.X+d.Max.X)/2, float64(d.Min.Y+d.Max.Y)/2
	dh := float64(d.Dy())
	scale := (tr.h + dh) / 2
	if scale <= 0 {
		return math.Inf(1)
	}
	dist := math.Hypot(dcx-p[0], dcy-p[1]) / scale
	sizeRatio := math.Abs(math.Log(math.Max(dh, 1) / math.Max(tr.h, 1)))
	gate := gateBase
	if !tr.still || tk.opts.WideRecovery {
		// Uncertainty grows while unseen. A still person stays put, unless
		// the boxes are a background model's blobs, which jump.
		gate += math.Min(t-tr.lastSeen, 1.0) * gateGrow
	}
	if st == stageWide {
		gate += wideGate
	}
	if dist > gate || ((st == stageWeak || st == stageRevive) && iou < 0.3) {
		return math.Inf(1)
	}
	if sizeRatio > 0.7 {
		return math.Inf(1)
	}
	look := appearanceDistance(tr.look, det.Appearance)
	if look > maxLookDistance || ((st == stageWide || st == stageRevive) && look > wideLook) {
		return math.Inf(1)
	}
	return (1 - iou) + dist + 0.5*sizeRatio + lookWeight*look
}

// observe folds a matched detection into the track (alpha-beta filter).
func (tk *Tracker) observe(tr *track, t float64, det Detection, p [2]float64) {
	d := det.Box
	if det.Appearance != nil {
		tr.look = blendAppearance(tr.look, det.Appearance, 0.2)
	}
	mx, my := float64(d.Min.X+d.Max.X)/2, float64(d.Min.Y+d.Max.Y)/2
	rx, ry := mx-p[0], my-p[1]
	tr.cx, tr.cy = p[0]+alpha*rx, p[1]+alpha*ry
	if gap := t - tr.lastSeen; gap > 0 {
		// Velocity from the innovation over the time since last seen, so a
		// long gap does not inflate it.
		tr.vx += beta * rx / gap
		tr.vy += beta * ry / gap
	}
	tr.w += sizeGain * (float64(d.Dx()) - tr.w)
	tr.h += sizeGain * (float64(d.Dy()) - tr.h)
	tr.lastSeen = t
	tr.seen = true
	tr.vacantSince = -1
	tr.hits++
	if tr.hits >= tk.opts.MinHits {
		tr.confirmed = true
	}
	tr.history = append(tr.history, sample{t, mx, float64(d.Max.Y)})
	if math.Hypot(mx-tr.bx, float64(d.Max.Y)-tr.by) > stillSpread*tr.h {
		tr.moved = true
	}
	for len(tr.history) > 0 && tr.history[0].t < t-stillWindow {
		tr.history = tr.history[1:]
	}
	tr.still = tr.isStill(t)
	tr.stopped = tr.judgeStopped()
	if tr.still {
		tr.vx, tr.vy = 0, 0
	}
}

func (tk *Tracker) overlapsConfirmed(b image.Rectangle, pred [][2]float64) bool {
	for i, tr := range tk.tracks {
		if i < len(pred) && tr.confirmed && IoU(b, tr.box(pred[i][0], pred[i][1])) > 0.5 {
			return true
		}
	}
	return false
}

func (tk *Tracker) birth(t float64, d Detection) {
	tr := &track{
		id: tk.nextID,
		cx: float64(d.Box.Min.X+d.Box.Max.X) / 2, cy: float64(d.Box.Min.Y+d.Box.Max.Y) / 2,
		w: float64(d.Box.Dx()), h: float64(d.Box.Dy()),
		lastSeen: t, hits: 1, seen: true, vacantSince: -1, revived: -1,
		look: append(Appearance(nil), d.Appearance...),
	}
	tr.bx, tr.by = tr.cx, float64(d.Box.Max.Y)
	tr.history = []sample{{t, tr.bx, tr.by}}
	tr.confirmed = tk.opts.MinHits <= 1
	tk.nextID++
	tk.tracks = append(tk.tracks, tr)
}

// feet returns the median bottom-centre of the last few matched boxes: one
// box that lost the legs (a fading motion blob, a half-occluded person)
// does not move the person.
func (tr *track) feet() (float64, float64) {
	if len(tr.history) == 0 {
		return tr.cx, tr.cy + tr.h/2
	}
	recent := tr.history[max(0, len(tr.history)-feetMedianOf):]
	xs := make([]float64, len(recent))
	ys := make([]float64, len(recent))
	for i, s := range recent {
		xs[i], ys[i] = s.x, s.y
	}
	return median(xs), median(ys)
}

func median(v []float64) float64 {
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// Tracks returns a snapshot of the live tracks.
func (tk *Tracker) Tracks() []Track {
	out := make([]Track, 0, len(tk.tracks))
	for _, tr := range tk.tracks {
		b := tr.box(tr.cx, tr.cy)
		var feet geom.Point
		if tk.size.X > 0 && tk.size.Y > 0 {
			fx, fy := tr.feet()
			feet = geom.Point{fx / float64(tk.size.X), fy / float64(tk.size.Y)}
		}
		out = append(out, Track{
			ID: tr.id, Box: b, Feet: feet, Confirmed: tr.confirmed, Still: tr.still, Stopped: tr.stopped, Moved: tr.moved,
			Seen: tr.seen, Vouched: tr.vouched == tk.now, Hidden: tr.hidden == tk.now,
			Revived: tr.revived == tk.now, Missed: tk.now - tr.lastSeen,
		})
	}
	return out
}

// IoU returns the intersection over union of two boxes.
func IoU(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	ia := float64(in.Dx() * in.Dy())
	return ia / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - ia)
}
