package analytics

import (
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
)

// Reconfigure puts new lines and zones in force (geometry saved in the
// editor) without a restart and without forgetting what analysis knows:
// the tracker keeps everyone; a window whose id stays keeps its state,
// clock and alert, and watches its new zone from the next frame; a line
// whose id and position stay keeps its tracks' sides. Windows that are
// gone resolve their open alert (the returned events); new ones start
// unknown, like every window at start. open gives the new windows'
// opening hours (OpeningHours). Call it from the goroutine that calls
// Process.
func (a *Analyzer) Reconfigure(an *config.Analytics, open map[string]func(time.Time) bool,
	frameIndex int, t float64, wall time.Time) []events.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	lines := make([]*lineCount, 0, len(an.Lines))
	for _, l := range an.Lines {
		kept := false
		for _, old := range a.lines {
			if o := old.counter.line; old.id == l.ID && o.A == l.A && o.B == l.B && o.Inside == l.Inside {
				lines, kept = append(lines, old), true
				break
			}
		}
		if !kept {
			lines = append(lines, &lineCount{id: l.ID, counter: NewLineCounter(l, a.adds.lineBand)})
		}
	}
	a.lines = lines

	var evs []events.Event
	windows := make([]*zoneWatch, 0, len(an.Windows))
	for _, w := range an.Windows {
		var kept *zoneWatch
		for _, old := range a.windows {
			if old.presence.id == w.ID {
				kept = old
				break
			}
		}
		if kept == nil {
			_, hinted := a.det.(stillHinter) // the motion detector cannot tell a new zone empty yet
			kept = &zoneWatch{presence: newPresence(w, a.adds.resolveConfirm, open[w.ID]), known: !hinted}
		}
		kept.zone, kept.backup = w.Zone, w.Backup
		kept.presence.configure(w, open[w.ID])
		var ended []events.Event
		kept.service, ended = kept.service.configure(w.ID, w, t, wall)
		evs = append(evs, ended...)
		windows = append(windows, kept)
	}
	for _, old := range a.windows {
		if !containsWindow(an.Windows, old.presence.id) {
			evs = append(evs, old.service.flush(old.presence.id, t, wall)...)
			evs = append(evs, old.presence.resolve()...)
		}
	}
	a.windows = windows
	switch {
	case len(an.QueueZones) == 0 && a.queue != nil:
		evs = append(evs, a.queue.flush()...)
		evs = append(evs, a.queue.alert.resolve()...)
		a.queue = nil
	case a.queue == nil:
		a.queue = newQueueWatch(an)
	default:
		evs = append(evs, a.queue.configure(an)...)
	}
	a.regions = regionsOf(an)
	return a.stamp(evs, frameIndex, t, wall)
}

// addOptions are the analyzer's options that new lines and windows take.
type addOptions struct {
	lineBand       float64
	resolveConfirm time.Duration
}

func containsWindow(ws []config.Window, id string) bool {
	for _, w := range ws {
		if w.ID == id {
			return true
		}
	}
	return false
}

// configure takes a window's settings anew, keeping its state and clock.
func (p *presence) configure(w config.Window, open func(time.Time) bool) {
	fresh := newPresence(w, 0, open)
	p.minStaff, p.absentAfter, p.open = fresh.minStaff, fresh.absentAfter, open
}
