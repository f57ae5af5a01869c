package analytics

import "math"

// How the tracker judges people who stand still, and what keeps a still
// track alive without detections: evidence from the detector (Vouch), or
// someone in front hiding them.

// hiddenBy reports whether a person seen in this update stands in front
// of still track tr: their box covers at least hiddenShare of tr's and
// their feet are no higher in the picture (nearer the camera, or level).
// A visitor at the counter hides the clerk behind it; someone walking
// past behind does not.
func (tk *Tracker) hiddenBy(tr *track) bool {
	b := tr.box(tr.cx, tr.cy)
	area := float64(b.Dx() * b.Dy())
	if area <= 0 {
		return false
	}
	for _, o := range tk.tracks {
		if o == tr || !o.seen {
			continue
		}
		ob := o.box(o.cx, o.cy)
		in := b.Intersect(ob)
		if float64(in.Dx()*in.Dy()) >= hiddenShare*area && float64(ob.Max.Y) >= float64(b.Max.Y)-0.1*tr.h {
			return true
		}
	}
	return false
}

// hiddenShare is the share of a still person's box that someone must cover
// to hide them from the detector.
const hiddenShare = 0.25

// Vouch records evidence about confirmed track id at time t that is not a
// detection, given before the Update for t: the motion detector compared
// the track's box with the empty background. Present keeps the track alive
// where it stands (a seated clerk the detector cannot see as a blob); a run
// of empty findings ends it after vacantGrace unless a detection matches
// it, instead of the long StillAge.
func (tk *Tracker) Vouch(id int, t float64, present bool) {
	for _, tr := range tk.tracks {
		if tr.id != id || !tr.confirmed {
			continue
		}
		switch {
		case present:
			tr.vouched, tr.vacantSince = t, -1
		case tr.vacantSince < 0:
			tr.vacantSince = t
		}
	}
}

// isStill reports whether the feet stayed within stillSpread box heights
// over the history window. Once still, a track stays still until it moves:
// gaps in its history (missed detections) do not undo it.
func (tr *track) isStill(t float64) bool {
	if len(tr.history) == 0 {
		return false
	}
	h0 := tr.history[0]
	for _, s := range tr.history[1:] {
		if math.Hypot(s.x-h0.x, s.y-h0.y) > stillSpread*tr.h {
			return false
		}
	}
	return tr.still || h0.t <= t-stillWindow*0.9
}

// judgeStopped decides Stopped after a matched detection, with hysteresis:
// a track stops when the feet of the last stopWindow seconds (at least
// three, spanning most of it) lie within stopSpread box heights of the last
// one, and stays stopped until one of them strays beyond stillSpread. A
// motion blob's bottom jitters by a pixel or two of the detector's small
// frame, about stopSpread of a seated clerk: without hysteresis a single
// jittery blob ends the stop, and with it the hold that keeps the clerk out
// of the background model.
func (tr *track) judgeStopped() bool {
	n := len(tr.history)
	if n == 0 || tr.h <= 0 {
		return false
	}
	last := tr.history[n-1]
	k := n - 1
	for k > 0 && tr.history[k-1].t >= last.t-stopWindow-timeEpsilon {
		k--
	}
	spread := stillSpread
	if !tr.stopped {
		if n-k < 3 || last.t-tr.history[k].t < stopWindow*0.8 {
			return false
		}
		spread = stopSpread
	}
	for _, s := range tr.history[k:] {
		if math.Hypot(s.x-last.x, s.y-last.y) > spread*tr.h {
			return false
		}
	}
	return true
}
