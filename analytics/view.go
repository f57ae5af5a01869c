package analytics

import (
	"hash/crc32"
	"image"
	"math"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/events"
)

// viewCheck tells when a camera's picture shows nothing analysis can use:
// a covered lens or one looking at a wall close up (black, uniform or
// without detail), a camera turned away (the scene's lasting structure,
// its edges, gone), or a frozen picture (the same frame, bit for bit,
// while the stream goes on; a live sensor never sends that). A condition
// must last blockAfter before the view counts as blocked, and be gone for
// clearAfter before it counts as clear again.
//
// The scene's structure is learned from the frames while the view is
// clear: a slow running average of the edges of a small grey picture,
// in which people passing by fade out. A view that stays changed for
// relearnAfter is taken as the new normal (the camera was re-aimed on
// purpose).
type viewCheck struct {
	small, grey, dx, dy, mag gocv.Mat
	ref                      gocv.Mat // float32 edge magnitude, learned
	refEnergy                float64
	learned                  int // frames in ref

	hash       uint32
	sameSince  float64 // stream time the picture last changed
	badSince   float64 // stream time the current condition began; <0 none
	goodSince  float64 // stream time the view was last seen clear while blocked; <0 none
	blocked    bool
	reason     string // why, while blocked or bad
	stuckSince float64
}

const (
	viewWidth  = 96 // the small picture the checks look at
	blockAfter = 3.0
	clearAfter = 2.0
	// frozenAfter is how long the picture must not change by a bit.
	frozenAfter = 60.0
	// relearnAfter: a view changed for this long is the new normal.
	relearnAfter = 30 * 60.0

	viewDark      = 12   // mean grey level below which the picture is black
	viewUniform   = 6    // grey level spread below which it is uniform
	viewDetail    = 0.25 // share of the learned edge energy below which detail is lost
	viewStructure = 0.35 // edge correlation with the learned scene below which the view changed
	viewLearnRate = 0.02
	viewMinLearnt = 25 // frames learned before structure is judged
)

// BlockedAfter is how long a view must stay blocked before windows turn
// unknown and a camera_blocked alert is raised.
const BlockedAfter = time.Duration(blockAfter * float64(time.Second))

// Why a view is blocked, as windows and the camera_blocked alert say it.
const (
	ReasonViewDark    = "view blocked: the picture is black (lens covered, or no light)"
	ReasonViewBlurred = "view blocked: the picture shows no detail (lens covered or smeared, out of focus)"
	ReasonViewChanged = "view blocked: the picture no longer shows the scene (camera turned or moved)"
	ReasonViewFrozen  = "view blocked: the picture is frozen (the camera sends the same frame)"
)

func newViewCheck() *viewCheck {
	return &viewCheck{small: gocv.NewMat(), grey: gocv.NewMat(), dx: gocv.NewMat(), dy: gocv.NewMat(), mag: gocv.NewMat(),
		ref: gocv.NewMat(), sameSince: -1, badSince: -1, goodSince: -1, stuckSince: -1}
}

// check looks at the frame at stream time t and returns whether the view
// is blocked now and why.
func (v *viewCheck) check(frame gocv.Mat, t float64) (bool, string) {
	reason := v.judge(frame, t)
	switch {
	case reason != "" && v.badSince < 0:
		v.badSince = t
	case reason == "":
		v.badSince = -1
	}
	if !v.blocked {
		if reason != "" && t-v.badSince >= blockAfter-1e-9 {
			v.blocked, v.reason, v.goodSince, v.stuckSince = true, reason, -1, t
		}
		return v.blocked, v.reason
	}
	if reason != "" {
		v.goodSince = -1
		if reason != ReasonViewChanged {
			v.reason = reason
		}
		if reason == ReasonViewChanged && t-v.stuckSince >= relearnAfter {
			v.learned = 0 // the new view is the scene now
		}
		return true, v.reason
	}
	if v.goodSince < 0 {
		v.goodSince = t
	}
	if t-v.goodSince >= clearAfter-1e-9 {
		v.blocked, v.reason = false, ""
	}
	return v.blocked, v.reason
}

// judge returns what is wrong with the frame's view, or "".
func (v *viewCheck) judge(frame gocv.Mat, t float64) string {
	if h := frameHash(frame); h != v.hash || v.sameSince < 0 {
		v.hash, v.sameSince = h, t
	}
	h := max(1, frame.Rows()*viewWidth/max(1, frame.Cols()))
	gocv.Resize(frame, &v.small, image.Pt(viewWidth, h), 0, 0, gocv.InterpolationArea)
	gocv.CvtColor(v.small, &v.grey, gocv.ColorBGRToGray)
	mean, dev := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer dev.Close()
	gocv.MeanStdDev(v.grey, &mean, &dev)
	m, s := mean.GetDoubleAt(0, 0), dev.GetDoubleAt(0, 0)
	gocv.Sobel(v.grey, &v.dx, gocv.MatTypeCV32F, 1, 0, 3, 1, 0, gocv.BorderReplicate)
	gocv.Sobel(v.grey, &v.dy, gocv.MatTypeCV32F, 0, 1, 3, 1, 0, gocv.BorderReplicate)
	gocv.Magnitude(v.dx, v.dy, &v.mag)
	energy := v.mag.Mean().Val1
	switch {
	case t-v.sameSince >= frozenAfter-1e-9:
		return ReasonViewFrozen
	case m < viewDark:
		return ReasonViewDark
	case s < viewUniform:
		return ReasonViewBlurred
	}
	if v.learned < viewMinLearnt || v.ref.Rows() != v.mag.Rows() {
		v.learn(energy)
		return ""
	}
	if energy < viewDetail*v.refEnergy {
		return ReasonViewBlurred
	}
	if correlation(v.mag, v.ref) < viewStructure {
		return ReasonViewChanged
	}
	if !v.blocked {
		v.learn(energy)
	}
	return ""
}

// learn blends the frame's edges into the learned scene.
func (v *viewCheck) learn(energy float64) {
	if v.learned == 0 || v.ref.Rows() != v.mag.Rows() {
		v.mag.CopyTo(&v.ref)
		v.refEnergy, v.learned = energy, 1
		return
	}
	rate := math.Max(viewLearnRate, 1/float64(v.learned+1)) // a plain mean at first
	gocv.AddWeighted(v.mag, rate, v.ref, 1-rate, 0, &v.ref)
	v.refEnergy += rate * (energy - v.refEnergy)
	v.learned++
}

// correlation is the normalised cross-correlation of two float32 pictures
// of the same size, -1..1.
func correlation(a, b gocv.Mat) float64 {
	res, mask := gocv.NewMat(), gocv.NewMat()
	defer res.Close()
	defer mask.Close()
	gocv.MatchTemplate(a, b, &res, gocv.TmCcoeffNormed, mask)
	return float64(res.GetFloatAt(0, 0))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameHash is a checksum of the frame's pixels.
func frameHash(frame gocv.Mat) uint32 {
	if data, err := frame.DataPtrUint8(); err == nil && frame.IsContinuous() {
		return crc32.Checksum(data, castagnoli)
	}
	return crc32.Checksum(frame.ToBytes(), castagnoli)
}

// viewScale maps edge magnitudes (up to ~1450 for a 3x3 Sobel of 8-bit
// grey) to the 8 bits of a saved picture.
const viewScale = 1.0 / 6

// saved returns the learned scene as an 8-bit picture, its edge energy and
// how many frames it holds; an empty picture when nothing is learned.
func (v *viewCheck) saved() (gocv.Mat, float64, int) {
	out := gocv.NewMat()
	if v.learned > 0 {
		v.ref.ConvertToWithParams(&out, gocv.MatTypeCV8U, viewScale, 0)
	}
	return out, v.refEnergy, v.learned
}

// restore starts from a learned scene saved by an earlier run: a camera
// turned away while hallwatch was down is noticed at once.
func (v *viewCheck) restore(ref gocv.Mat, energy float64, learned int) {
	if ref.Empty() || ref.Channels() != 1 || learned <= 0 {
		return
	}
	ref.ConvertToWithParams(&v.ref, gocv.MatTypeCV32F, 1/viewScale, 0)
	v.refEnergy, v.learned = energy, learned
}

func (v *viewCheck) Close() error {
	for _, m := range []*gocv.Mat{&v.small, &v.grey, &v.dx, &v.dy, &v.mag, &v.ref} {
		m.Close()
	}
	return nil
}

// setBlocked records the view's state (reason "" when clear): while
// blocked, nobody can be followed, windows are unknown with the reason and
// a camera_blocked alert is raised if any window is open (or the camera
// has none); it resolves once the view is clear.
func (a *Analyzer) setBlocked(reason string, frameIndex int, t float64, wall time.Time) []events.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	if reason != "" && a.blocked == "" {
		a.dropTracks(wall)
	}
	a.blocked = reason
	var evs []events.Event
	switch {
	case reason != "":
		evs = a.updateWindows(t, wall)
		if !a.blockedAlert && a.anyOpen(wall) {
			a.blockedAlert = true
			evs = append(evs, events.Event{Type: events.TypeAlert, Kind: events.KindCameraBlocked, State: events.AlertRaised, Reason: reason})
		}
	case a.blockedAlert:
		a.blockedAlert = false
		evs = append(evs, events.Event{Type: events.TypeAlert, Kind: events.KindCameraBlocked, State: events.AlertResolved})
	}
	return a.stamp(evs, frameIndex, t, wall)
}

// anyOpen reports whether any window is open at wall, or the camera has
// no windows (its counting lines are blind too).
func (a *Analyzer) anyOpen(wall time.Time) bool {
	for _, w := range a.windows {
		if w.presence.open == nil || w.presence.open(wall) {
			return true
		}
	}
	return len(a.windows) == 0
}
