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
//	staffed → absent (count < min_staff) → after absent_after of continuous
//	absence while open: alert raised; count ≥ min_staff held for
//	resolve_confirm → staffed (and the alert resolved).
//
// A return shorter than resolve_confirm does not end the absence, so a
// visitor stepping through the zone neither resets the timer nor resolves.
// Outside opening hours the state is closed and an open alert is resolved;
// while the camera is offline it is unknown and nothing is raised.
type presence struct {
	id             string
	minStaff       int
	absentAfter    float64 // seconds
	resolveConfirm float64
	open           func(time.Time) bool

	state        string
	count        int
	since        time.Time
	absentSince  float64 // stream time the absence began
	presentSince float64 // stream time staff came back; <0 when not back
	startSince   float64 // stream time of the first empty frame after a (re)start; <0 when none
	raised       bool
}

// startGrace is how long a (re)started window stays unknown while empty:
// the tracker needs a few frames to confirm a clerk who is already there.
// The absence is still counted from the first empty frame.
const startGrace = 1.0

func newPresence(w config.Window, resolveConfirm time.Duration, open func(time.Time) bool) *presence {
	p := &presence{
		id:             w.ID,
		minStaff:       w.MinStaff,
		absentAfter:    w.AbsentAfter.D().Seconds(),
		resolveConfirm: resolveConfirm.Seconds(),
		open:           open,
		state:          events.StateUnknown,
		presentSince:   -1,
		startSince:     -1,
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

// update feeds the zone's head count at stream time t (seconds) and wall
// time wall; it returns window and alert events without camera/frame stamps.
func (p *presence) update(count int, t float64, wall time.Time) []events.Event {
	p.count = count
	var evs []events.Event
	if p.open != nil && !p.open(wall) {
		if p.state != events.StateClosed {
			p.startSince = -1
			evs = append(evs, p.resolve()...)
			evs = append(evs, p.enter(events.StateClosed, wall))
		}
		return evs
	}
	staffed := count >= p.minStaff
	switch p.state {
	case events.StateUnknown, events.StateClosed:
		// (Re)start: absence is measured from the first empty frame after
		// it, never from the offline or closed period.
		if staffed && !p.raised {
			p.startSince = -1
			return append(evs, p.enter(events.StateStaffed, wall))
		}
		if p.startSince < 0 {
			p.startSince = t
		}
		if t-p.startSince < startGrace {
			return evs
		}
		p.absentSince, p.presentSince, p.startSince = p.startSince, -1, -1
		if staffed {
			p.presentSince = t
		}
		evs = append(evs, p.enter(events.StateAbsent, wall))
		return append(evs, p.checkAbsent(t)...)
	case events.StateStaffed:
		if !staffed {
			p.absentSince, p.presentSince = t, -1
			evs = append(evs, p.enter(events.StateAbsent, wall))
			evs = append(evs, p.checkAbsent(t)...)
		}
		return evs
	default: // absent
		if staffed {
			if p.presentSince < 0 {
				p.presentSince = t
			}
			if t-p.presentSince >= p.resolveConfirm {
				evs = append(evs, p.resolve()...)
				evs = append(evs, p.enter(events.StateStaffed, wall))
			}
			return evs
		}
		p.presentSince = -1
		return p.checkAbsent(t)
	}
}

// checkAbsent raises the alert once the absence has lasted absent_after.
func (p *presence) checkAbsent(t float64) []events.Event {
	if p.raised || p.presentSince >= 0 || t-p.absentSince < p.absentAfter-1e-9 {
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

func (p *presence) enter(state string, wall time.Time) events.Event {
	p.state, p.since = state, wall
	n := p.count
	return events.Event{Type: events.TypeWindow, Window: p.id, State: state, Count: &n}
}

// setOffline marks the window unknown; an alert already raised stays raised
// until staff is seen again or the window closes.
func (p *presence) setOffline(wall time.Time) []events.Event {
	p.count, p.startSince = 0, -1
	if p.state == events.StateUnknown {
		return nil
	}
	return []events.Event{p.enter(events.StateUnknown, wall)}
}

func (p *presence) status() events.WindowStatus {
	return events.WindowStatus{Window: p.id, State: p.state, Count: p.count, Since: p.since, Alerting: p.raised}
}
