package analytics

// Window zones: who counts in them, what the analyzer can tell of them
// (people, a blocked view, a detector that cannot tell), and which still
// people the motion detector must not learn as background.

import (
	"image"
	"math"
	"slices"
	"time"

	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// zoneWatch is one window's zone and its presence state machine.
type zoneWatch struct {
	zone     geom.Polygon
	backup   string // the window whose clerk covers this one (AB post); "" none
	presence *presence
	service  *serviceWatch // nil: the window has no service zone
	// known: the detector can tell this zone empty (see stillHinter).
	known bool
	// counted holds the tracks counted in the zone at the last frame and
	// when each was last seen.
	counted map[int]float64
}

// stillHinter is implemented by detectors that must not fade people who
// stand still into their background (the motion detector): they are told
// the boxes to hold and report, after the next frame, whether each is
// still occupied, and which were ghosts.
//
// Such a detector cannot see someone who sat still in a zone since before
// its background was learned: a zone is known to it only once someone was
// seen walking into it (the background there was learned without them), a
// ghost was removed there (the background now shows it empty), or a saved
// background says so.
type stillHinter interface {
	HoldForeground(holds []Hold)
	HeldPresent() []bool
	Ghosts() []Hold
}

// reasonCannotTell is why a zone unknown to the motion detector is unknown.
const reasonCannotTell = "the motion detector cannot tell this window empty from a clerk sitting still since before analysis started (until someone walks in or out)"

// updateWindows feeds each window's head count to its presence state
// machine: window events first, then alerts.
func (a *Analyzer) updateWindows(t float64, wall time.Time) []events.Event {
	var evs, services, alerts []events.Event
	views := make([]zoneView, len(a.windows))
	for i, w := range a.windows {
		views[i] = a.viewOf(w, t)
	}
	a.coverage(views, t)
	for i, w := range a.windows {
		services = append(services, w.service.update(w.presence.id, a.tracks, t, wall)...)
		for _, e := range w.presence.update(views[i], t, wall) {
			if e.Type == events.TypeAlert {
				alerts = append(alerts, e)
			} else {
				evs = append(evs, e)
			}
		}
	}
	for _, e := range a.queue.update(a.tracks, services, a.serving, t, wall) {
		if e.Type == events.TypeAlert {
			alerts = append(alerts, e)
		} else {
			services = append(services, e)
		}
	}
	return append(append(evs, services...), alerts...)
}

// serving reports whether a track is being served at a window (in a
// visit of its service zone).
func (a *Analyzer) serving(track int) bool {
	for _, w := range a.windows {
		if w.service != nil && w.service.visits[track] != nil {
			return true
		}
	}
	return false
}

// countIn returns the confirmed tracks whose feet lie in zone. Only the
// feet count, not a box overlapping the zone: at a service counter the
// visitors' upper bodies overlap the clerks' zone in the image while their
// feet stay on their own side, and a fading motion blob that lost its legs
// would count too. A seated clerk's "feet" are the bottom of the visible box
// (the desk edge), so staff zones are drawn over that area. A moving track
// neither seen nor vouched for longer than zoneGrace no longer counts: its
// feet stay where it was last seen, and someone who walked out of view is
// not there.
func (a *Analyzer) countIn(zone geom.Polygon) int {
	n := 0
	for _, tr := range a.tracks {
		if countsIn(tr, zone) {
			n++
		}
	}
	return n
}

// countsIn reports whether tr counts as someone in zone (see countIn).
func countsIn(tr Track, zone geom.Polygon) bool {
	return tr.Confirmed && (tr.Still || tr.Vouched || tr.Missed <= zoneGrace) && zone.Contains(tr.Feet)
}

// coverage applies the AB-post rule to the windows' views (in a.windows
// order) at time t: who in a window's zone is its backup's clerk, and
// which backup windows' clerks are covering.
//
// The rule is track continuity: a track's post is the window whose zone it
// was first seen in, and someone counted in a window's zone whose post is
// the window's backup is the backup clerk covering it. First seen, not
// first counted: a clerk who gets up is often followed anew from their
// first steps (a seated and a standing person make different boxes), and
// the new track may leave the seat before it is confirmed. Clerks look alike
// (uniforms) and a face or badge is nothing a hall camera can be trusted
// with, so where they came from is what tells them apart; a clerk walks
// from one seat to the next within a few metres, in view, so the track
// usually survives. Where it does not (the detector missed the walker, or
// frames were lost), the backup's clerk whose track ended between the two
// seats within handoffWithin is who arrives (see postOf); so is, after
// analysis stopped and resumed within resumeWithin, whoever sits alone at
// a window covered when it stopped (resumeCovering). Where analysis
// started otherwise while the backup clerk already sat at the covered
// window, the new track's post is the covered window and it counts as the
// window's own clerk: staffed rather than staffed_by_backup, and the
// backup window absent rather than covering.
func (a *Analyzer) coverage(views []zoneView, t float64) {
	at := make(map[string]int, len(a.windows))
	for i, w := range a.windows {
		at[w.presence.id] = i
	}
	alive := make(map[int]bool, len(a.tracks))
	for _, tr := range a.tracks {
		alive[tr.ID] = true
	}
	for id, p := range a.posts {
		if alive[id] {
			continue
		}
		delete(a.posts, id)
		if p.walking {
			a.departed = append(a.departed, departure{post: p, at: t})
		}
	}
	for id := range a.born {
		if !alive[id] {
			delete(a.born, id)
		}
	}
	a.departed = slices.DeleteFunc(a.departed, func(d departure) bool { return t-d.at > handoffWithin })
	for _, tr := range a.tracks {
		if p, ok := a.posts[tr.ID]; ok {
			if tr.Seen {
				p.step, p.feet, p.walking = tr.Feet.Sub(p.feet), tr.Feet, !tr.Stopped
				a.posts[tr.ID] = p
			}
			continue
		}
		for _, w := range a.windows {
			if _, ok := a.born[tr.ID]; !ok && tr.Seen && w.zone.Contains(tr.Feet) {
				a.born[tr.ID] = w.presence.id
			}
		}
		for i, w := range a.windows {
			if !countsIn(tr, w.zone) {
				continue
			}
			if seat, ok := at[a.born[tr.ID]]; ok && seat != i {
				w = a.windows[seat]
			}
			window := w.presence.id
			if b, ok := at[w.backup]; ok {
				window = a.postOf(w, a.windows[b])
			}
			a.posts[tr.ID] = post{window: window, feet: tr.Feet, walking: !tr.Stopped}
			delete(a.born, tr.ID)
			break
		}
	}
	for i, w := range a.windows {
		b, ok := at[w.backup]
		if !ok {
			continue
		}
		for _, tr := range a.tracks {
			if a.posts[tr.ID].window == w.backup && countsIn(tr, w.zone) {
				views[i].covered++
			}
		}
		if views[i].covered > 0 && views[b].covering == "" {
			views[b].covering = w.presence.id
			views[b].waiting = a.waitingAt(a.windows[b])
		}
	}
}

// post is the window a track's clerk belongs to, where the track was last
// seen and its last step there; walking: it had not stopped.
type post struct {
	window     string
	feet, step geom.Point
	walking    bool
}

// departure is a posted track that ended while walking, at time at; or,
// with covers set, a clerk of post.window who covered that window when
// analysis stopped (their feet and step unknown).
type departure struct {
	post
	at     float64
	covers string
}

// coveredAt lists the windows covered by their backup's clerk at a time.
type coveredAt struct {
	windows []string
	at      time.Time
}

// resumeWithin is how long after analysis stopped the windows then covered
// are taken to be covered still by whoever sits there alone: a camera
// reboot or a service restart, not a lunch break, in which the clerks may
// have swapped back.
const resumeWithin = 5 * time.Minute

// covered returns the windows now staffed by their backup's clerk.
func (a *Analyzer) covered() []string {
	var out []string
	for _, w := range a.windows {
		if w.presence.state == events.StateStaffedByBackup {
			out = append(out, w.presence.id)
		}
	}
	return out
}

// CoveredElsewhere tells the analysis, before its first frame, which
// windows were covered by their backup's clerk when another node last ran
// the camera and when that node last said so (a cluster failover: the
// other node's state_dir is not here). Taken up as after a restart, unless
// what LoadState read is newer.
func (a *Analyzer) CoveredElsewhere(windows []string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !at.After(a.stopped.at) {
		return
	}
	if len(windows) == 0 {
		windows = nil
	}
	a.stopped = coveredAt{windows: windows, at: at}
}

// resumeCovering, at the first frame after analysis stopped (at t, wall),
// turns the windows covered then into departures of their backups'
// clerks, taken up like a clerk lost on the way (postOf): nothing can be
// followed across the gap, and the clerk sitting at the covered window is
// most likely the one who sat there before it. A stop longer ago than
// resumeWithin is forgotten.
func (a *Analyzer) resumeCovering(t float64, wall time.Time) {
	if a.stopped.windows == nil {
		return
	}
	if wall.Sub(a.stopped.at) <= resumeWithin {
		for _, id := range a.stopped.windows {
			for _, w := range a.windows {
				if w.presence.id == id && w.backup != "" {
					a.departed = append(a.departed, departure{post: post{window: w.backup}, at: t, covers: id})
				}
			}
		}
	}
	a.stopped = coveredAt{}
}

// handoffWithin is how long a clerk's track that ended on the way from
// their seat may be taken up by a new track at the window they cover: the
// rest of the walk, plus a few seconds of frames lost to a busy machine.
const handoffWithin = 5.0

// postOf is the post of a new track first counted in w's zone, whose
// backup window is b: w, unless a clerk of b was lost on the way over,
// whom it then is: their track ended within handoffWithin, between the two
// seats, walking towards w (not away to a door: their own window's alert
// must not wait on w's returning clerk). After a stop (resumeCovering), b's
// clerk who covered w is who sits there if nobody sits at b: with b's
// clerk back in their seat, w's own clerk must be back too.
func (a *Analyzer) postOf(w, b *zoneWatch) string {
	between := geom.Bounds(append(slices.Clone(b.zone), w.zone...))
	r := geom.Bounds(w.zone)
	centre := geom.Point{(r.Min[0] + r.Max[0]) / 2, (r.Min[1] + r.Max[1]) / 2}
	for i, d := range a.departed {
		if d.window != b.presence.id {
			continue
		}
		resumed := d.covers == w.presence.id && !a.anyoneIn(b.zone)
		lost := d.covers == "" && between.Contains(d.feet) && heading(d.step, centre.Sub(d.feet))
		if resumed || lost {
			a.departed = slices.Delete(a.departed, i, i+1)
			return b.presence.id
		}
	}
	return w.presence.id
}

// anyoneIn reports whether any track, confirmed or not, has its feet in
// zone: someone the tracker has only begun to follow is there all the same.
func (a *Analyzer) anyoneIn(zone geom.Polygon) bool {
	for _, tr := range a.tracks {
		if zone.Contains(tr.Feet) {
			return true
		}
	}
	return false
}

// heading reports whether a step goes towards a direction (within 60°).
func heading(step, towards geom.Point) bool {
	n := math.Hypot(step[0], step[1]) * math.Hypot(towards[0], towards[1])
	return n > 0 && (step[0]*towards[0]+step[1]*towards[1])/n > 0.5
}

// waitingAt reports whether someone stands in w's service zone.
func (a *Analyzer) waitingAt(w *zoneWatch) bool {
	if w.service == nil {
		return false
	}
	for _, tr := range a.tracks {
		if countsIn(tr, w.service.zone) {
			return true
		}
	}
	return false
}

// viewOf is what the analyzer can tell of a window's zone at time t.
func (a *Analyzer) viewOf(w *zoneWatch, t float64) zoneView {
	v := zoneView{count: a.countIn(w.zone), seen: -1, blocked: a.blocked}
	if !w.known {
		v.cannotTell = reasonCannotTell
	}
	// When were the people counted in the last frame last there? Whoever
	// walked out was there until now; a still person who is no longer
	// detected is dropped a moment later, but was gone since they were
	// last seen (or vouched for, or hidden by someone in front).
	now := map[int]float64{}
	for _, tr := range a.tracks {
		last := t - tr.Missed
		if tr.Vouched || tr.Hidden {
			last = t
		}
		if _, before := w.counted[tr.ID]; before && tr.Seen {
			v.seen = max(v.seen, t)
		}
		if countsIn(tr, w.zone) {
			now[tr.ID] = last
			v.returned = v.returned || tr.Revived
		}
	}
	for id, last := range w.counted {
		if _, alive := now[id]; !alive {
			v.seen = max(v.seen, last)
		}
	}
	w.counted = now
	return v
}

// learnZones marks the zones where ghosts (boxes in pixels of a frame of
// the given size) were removed as known: the background shows them empty.
func (a *Analyzer) learnZones(ghosts []Hold, size image.Point) {
	for _, g := range ghosts {
		feet := geom.Point{float64(g.Box.Min.X+g.Box.Max.X) / 2 / float64(size.X), float64(g.Box.Max.Y) / float64(size.Y)}
		for _, w := range a.windows {
			if w.zone.Contains(feet) {
				w.known = true
			}
		}
	}
}

// zoneGrace is how long a moving track, unseen, still counts in a zone:
// longer than a detector's usual dropouts, shorter than MaxAge.
const zoneGrace = 0.7

// hold picks the tracks whose feet are in a window zone and that stand or
// move slowly, tentative or confirmed: the background model must not learn
// them (selective update), or a clerk who sits down fades within seconds
// (within a few frames while MOG2 is young), before the tracker could
// confirm them or call them still. People walking through are left to the
// background model, which tells them from their shadows. It records the
// held tracks' ids and returns their boxes.
func (a *Analyzer) hold() []Hold {
	a.held = a.held[:0]
	var holds []Hold
	for _, tr := range a.tracks {
		if tr.Confirmed && !tr.Still && !tr.Stopped {
			continue
		}
		for _, w := range a.windows {
			if w.zone.Contains(tr.Feet) || w.service != nil && w.service.zone.Contains(tr.Feet) {
				a.held = append(a.held, tr.ID)
				holds = append(holds, Hold{Box: tr.Box, MayBeGhost: !tr.Moved})
				break
			}
		}
	}
	return holds
}
