package analytics

import (
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
)

// DefaultAbsentAfter applies to a window whose absent_after is zero.
const DefaultAbsentAfter = 60 * time.Second

// presence is one window's staffing state machine:
//
//	checking (analysis (re)started) → staffed, or absent once the detector
//	has had its look (checkFor) and found nobody;
//	staffed → absent (count < min_staff) → after absent_after of continuous
//	absence while open: alert raised; count ≥ min_staff held for
//	resolve_confirm → staffed (and the alert resolved).
//
// A return shorter than resolve_confirm does not end the absence, so a
// visitor stepping through the zone neither resets the timer nor resolves;
// within a return, the detector may miss staff for returnGap.
// Outside opening hours the state is closed and an open alert is resolved.
//
// The AB-post rule (config windows[].backup): staff counted in the zone who
// came from the backup window's zone make it staffed_by_backup rather than
// staffed (see Analyzer.coverage for how they are told apart); it is
// staffed all the same, so no unstaffed alert while covered. The backup
// window, empty while its clerk covers, is covering rather than absent: a
// center manager expects the backup post to be left for this, so no alert
// runs, and the covering time is reported apart from unstaffed time. Only
// when a visitor stands in its own service zone meanwhile is it absent,
// the absence (and the alert's clock) counted from then: someone waits to
// be served at a window nobody is at. When the covering ends and its clerk
// is not back, the absence starts there.
// Where nothing can be known it is unknown, with the reason, and nothing
// is raised: while the camera is offline or its view blocked (checking
// again when it is back), and where the detector cannot tell an empty zone
// from someone sitting still since before it started (see zoneView).
type presence struct {
	id             string
	minStaff       int
	absentAfter    float64 // seconds
	resolveConfirm float64
	open           func(time.Time) bool

	state        string
	reason       string // why the state is unknown
	count        int
	since        time.Time
	absentSince  float64 // stream time the absence began
	presentSince float64 // stream time staff came back; <0 when not back
	presentSeen  float64 // stream time staff who came back were last seen
	checkSince   float64 // stream time checking began; <0 when not checking
	raised       bool
}

// checkFor is how long a (re)started window is checking while empty: the
// tracker confirms a person after a few detections, and a detector may
// miss someone in a frame or two. The absence is counted from the start
// of the check all the same.
const checkFor = 2.0

// returnGap is how long staff who came back may go unseen without their
// return starting over: a detector misses someone in a frame (a clerk
// sitting down, a compression artefact), and a return must not wait
// another resolve_confirm for each such miss. Longer gaps are real:
// people passing through a zone one after another are no return.
const returnGap = 0.25

// zoneView is what the analyzer can tell of a window's zone in a frame.
type zoneView struct {
	count int // people in the zone
	// seen is when the people counted in the zone up to the last frame
	// were last seen (<0: none): an absence begins there.
	seen float64
	// blocked says why nothing can be seen (the camera's view is blocked).
	blocked string
	// cannotTell says why an empty-looking zone may not be empty: the
	// detector cannot see someone who sat still there since before it
	// started. Someone seen in it still counts.
	cannotTell string
	// returned: someone counted is a still person the detector lost for a
	// while and found again where they sat (Track.Revived): they never left.
	returned bool
	// covered: how many of count came from the backup window's zone (its
	// clerk covering this window; Analyzer.coverage).
	covered int
	// covering: the window this window's clerk covers; "" when none.
	covering string
	// waiting: someone stands in this window's service zone.
	waiting bool
}

func newPresence(w config.Window, resolveConfirm time.Duration, open func(time.Time) bool) *presence {
	p := &presence{
		id:             w.ID,
		minStaff:       w.MinStaff,
		absentAfter:    w.AbsentAfter.D().Seconds(),
		resolveConfirm: resolveConfirm.Seconds(),
		open:           open,
		state:          events.StateUnknown,
		reason:         "not analysed yet",
		presentSince:   -1,
		checkSince:     -1,
	}
	if p.minStaff <= 0 {
		p.minStaff = 1
	}
	if p.absentAfter <= 0 {
		p.absentAfter = DefaultAbsentAfter.Seconds()
	}
	if p.resolveConfirm < 0 {
		p.resolveConfirm = 0
	}
	return p
}

// update feeds what the zone shows at stream time t (seconds) and wall
// time wall; it returns window and alert events without camera/frame
// stamps.
func (p *presence) update(v zoneView, t float64, wall time.Time) []events.Event {
	p.count = v.count
	var evs []events.Event
	if p.open != nil && !p.open(wall) {
		if p.state != events.StateClosed {
			p.checkSince = -1
			evs = append(evs, p.resolve()...)
			evs = append(evs, p.enter(events.StateClosed, "", wall))
		}
		return evs
	}
	if v.blocked != "" {
		p.count, p.checkSince, p.presentSince = 0, -1, -1
		if p.state != events.StateUnknown || p.reason != v.blocked {
			evs = append(evs, p.enter(events.StateUnknown, v.blocked, wall))
		}
		return evs
	}
	staffed := v.count >= p.minStaff
	staffedAs := events.StateStaffed
	if v.count-v.covered < p.minStaff {
		staffedAs = events.StateStaffedByBackup
	}
	if !staffed && v.covering != "" && !v.waiting {
		// The clerk covers another window (the AB-post rule): accounted
		// for, so an alert raised before resolves.
		p.checkSince, p.presentSince = -1, -1
		evs = append(evs, p.resolve()...)
		if p.state != events.StateCovering || p.reason != v.covering {
			evs = append(evs, p.enter(events.StateCovering, v.covering, wall))
		}
		return evs
	}
	if p.checkSince < 0 && (p.state == events.StateClosed || (p.state == events.StateUnknown && p.reason != v.cannotTell)) {
		// (Re)start: check before judging; absence is measured from
		// here, never from the offline, blocked or closed period. Staff
		// already seen need no check.
		if staffed && !p.raised {
			return append(evs, p.enter(staffedAs, "", wall))
		}
		if p.raised {
			// The open alert says absent: the absence goes on, and a
			// return resolves it after resolve_confirm, as any return.
			p.absentSince, p.presentSince = t, -1
			if staffed {
				p.back(t)
			}
			return append(evs, p.enter(events.StateAbsent, "", wall))
		}
		p.checkSince = t
		evs = append(evs, p.enter(events.StateChecking, "", wall))
	}
	switch p.state {
	case events.StateChecking:
		if staffed && !p.raised {
			p.checkSince = -1
			return append(evs, p.enter(staffedAs, "", wall))
		}
		if t-p.checkSince < checkFor-1e-9 {
			return evs
		}
		if !staffed && v.cannotTell != "" {
			p.checkSince = -1
			return append(evs, p.enter(events.StateUnknown, v.cannotTell, wall))
		}
		p.absentSince, p.presentSince, p.checkSince = p.checkSince, -1, -1
		if staffed {
			p.back(t)
		}
		evs = append(evs, p.enter(events.StateAbsent, "", wall))
		return append(evs, p.checkAbsent(t)...)
	case events.StateUnknown: // the detector cannot tell (see zoneView)
		if staffed {
			evs = append(evs, p.enter(staffedAs, "", wall))
		}
		return evs
	case events.StateCovering:
		// The covering ended: the clerk is back (no alert ran, nothing to
		// confirm), or the absence starts now.
		if staffed {
			return append(evs, p.enter(staffedAs, "", wall))
		}
		p.absentSince, p.presentSince = t, -1
		evs = append(evs, p.enter(events.StateAbsent, "", wall))
		return append(evs, p.checkAbsent(t)...)
	case events.StateStaffed, events.StateStaffedByBackup:
		switch {
		case staffed:
			if p.state != staffedAs { // own clerk back beside the backup, or the other way round
				evs = append(evs, p.enter(staffedAs, "", wall))
			}
		case v.cannotTell != "":
			evs = append(evs, p.enter(events.StateUnknown, v.cannotTell, wall))
		default:
			p.absentSince, p.presentSince = t, -1
			if v.seen >= 0 && v.seen < t {
				p.absentSince = v.seen
			}
			evs = append(evs, p.enter(events.StateAbsent, "", wall))
			evs = append(evs, p.checkAbsent(t)...)
		}
		return evs
	default: // absent
		if staffed && v.returned && !p.raised {
			// The detector lost a seated clerk for less than absent_after
			// and found them where they sat: no absence, nothing to confirm.
			return append(evs, p.enter(staffedAs, "", wall))
		}
		if staffed {
			p.back(t)
			if t-p.presentSince >= p.resolveConfirm-1e-9 {
				evs = append(evs, p.resolve()...)
				evs = append(evs, p.enter(staffedAs, "", wall))
			}
			return evs
		}
		if p.presentSince >= 0 && t-p.presentSeen <= returnGap+1e-9 {
			return evs
		}
		p.presentSince = -1
		return p.checkAbsent(t)
	}
}

// back notes staff seen at t during an absence: the return's start, if
// it is one.
func (p *presence) back(t float64) {
	if p.presentSince < 0 {
		p.presentSince = t
	}
	p.presentSeen = t
}

// checkAbsent raises the alert once the absence has lasted absent_after,
// the documented rule, with no grace for someone standing just outside
// the zone: at a counter that is where visitors stand.
func (p *presence) checkAbsent(t float64) []events.Event {
	due := p.absentSince + p.absentAfter
	if p.raised || p.presentSince >= 0 || t < due-1e-9 {
		return nil
	}
	p.raised = true
	return []events.Event{{Type: events.TypeAlert, Kind: events.KindUnstaffed, Window: p.id, State: events.AlertRaised}}
}

func (p *presence) resolve() []events.Event {
	if !p.raised {
		return nil
	}
	p.raised = false
	return []events.Event{{Type: events.TypeAlert, Kind: events.KindUnstaffed, Window: p.id, State: events.AlertResolved}}
}

func (p *presence) enter(state, reason string, wall time.Time) events.Event {
	p.state, p.reason, p.since = state, reason, wall
	n := p.count
	return events.Event{Type: events.TypeWindow, Window: p.id, State: state, Count: &n, Reason: reason}
}

// setOffline marks the window unknown; an alert already raised stays raised
// until staff is seen again or the window closes.
func (p *presence) setOffline(wall time.Time) []events.Event {
	p.count, p.checkSince, p.presentSince = 0, -1, -1
	if p.state == events.StateUnknown && p.reason == reasonOffline {
		return nil
	}
	return []events.Event{p.enter(events.StateUnknown, reasonOffline, wall)}
}

// reasonOffline is why a window of a camera that stopped sending is unknown.
const reasonOffline = "camera offline"

func (p *presence) status() events.WindowStatus {
	return events.WindowStatus{Window: p.id, State: p.state, Count: p.count, Since: p.since, Alerting: p.raised, Reason: p.reason}
}
