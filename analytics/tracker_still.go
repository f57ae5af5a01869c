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

// lostKeep is how long a still track dropped for want of detections may
// come back (see reviveLost).
const lostKeep = 30.0

// reviveLost brings back lost still tracks that a detection nobody claimed
// matches where they sat (the strict gate of weak detections: the boxes
// overlap, and it looks alike), whatever its score. A seated clerk behind
// a counter is a person the network is unsure about: their score drifts
// around the birth score with the pose and the people around them, so
// they may go undetected for more than StillAge and then be found only
// weakly, as sure detections go. Weak detections extend tracks but never
// start them, so without this the clerk, seated all along, would stay
// lost until the network was sure again: an unstaffed alert with the
// clerk in the chair. A clerk who left leaves an empty chair, which the
// detector does not take for a person.
func (tk *Tracker) reviveLost(t float64, dets []Detection, claimed []bool) {
	kept := tk.lost[:0]
	for _, tr := range tk.lost {
		if t-tr.lost <= lostKeep {
			kept = append(kept, tr)
		}
	}
	tk.lost = kept
	if len(tk.lost) == 0 {
		return
	}
	var free []int
	for j := range dets {
		if !claimed[j] {
			free = append(free, j)
		}
	}
	if len(free) == 0 {
		return
	}
	n := len(tk.tracks)
	tk.tracks = append(tk.tracks, tk.lost...)
	is := make([]int, len(tk.lost))
	pred := make([][2]float64, len(tk.tracks))
	for i, tr := range tk.tracks {
		pred[i] = [2]float64{tr.cx, tr.cy}
		if i >= n {
			is[i-n] = i
			tr.lastSeen = t // the gate of a still track seen last frame, not grown with the time lost
		}
	}
	left := tk.match(t, is, free, dets, pred, claimed, stageRevive)
	back := map[int]bool{}
	for _, i := range left {
		back[i] = true
	}
	kept = tk.lost[:0]
	live := tk.tracks[:n]
	for i, tr := range tk.tracks[n:] {
		if back[n+i] {
			kept = append(kept, tr)
		} else {
			tr.revived = t
			live = append(live, tr)
		}
	}
	tk.tracks, tk.lost = live, kept
}
