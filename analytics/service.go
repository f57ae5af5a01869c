package analytics

import (
	"slices"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// serviceLeave is how long a visitor's feet may be out of the service zone
// (or the track unseen) before the visit ends: a lean aside or a detector
// dropout is not a departure.
const serviceLeave = 2.0

// serviceWatch finds the services at one window: a track whose feet stay
// in the window's service zone for at least min seconds is one service,
// from its arrival to its departure (the last time it was there).
type serviceWatch struct {
	zone   geom.Polygon
	min    float64
	visits map[int]*visit // track id → its visit in progress
}

type visit struct {
	start, last float64
}

// newServiceWatch returns nil for a window without a service zone.
func newServiceWatch(w config.Window) *serviceWatch {
	if len(w.ServiceZone) == 0 {
		return nil
	}
	return &serviceWatch{zone: w.ServiceZone, min: w.ServiceMin.D().Seconds(), visits: map[int]*visit{}}
}

// update follows the tracks at t and returns the services that ended.
func (s *serviceWatch) update(window string, tracks []Track, t float64, wall time.Time) []events.Event {
	if s == nil {
		return nil
	}
	for _, tr := range tracks {
		// Seen or vouched for now: a still track that lost its person
		// (gone unseen) counts for a window's staff, not as a service.
		if !tr.Confirmed || !(tr.Seen || tr.Vouched || tr.Missed <= zoneGrace) || !s.zone.Contains(tr.Feet) {
			continue
		}
		if v := s.visits[tr.ID]; v != nil {
			v.last = t
		} else {
			s.visits[tr.ID] = &visit{start: t, last: t}
		}
	}
	var evs []events.Event
	for id, v := range s.visits {
		if t-v.last > serviceLeave {
			evs = append(evs, s.end(window, id, v, t, wall)...)
		}
	}
	sortServices(evs)
	return evs
}

// end closes a visit: a service when it lasted long enough. Its event's
// time is the departure (wall time of the visit's last sighting).
func (s *serviceWatch) end(window string, id int, v *visit, t float64, wall time.Time) []events.Event {
	delete(s.visits, id)
	d := v.last - v.start
	if d < s.min {
		return nil
	}
	left := wall.Add(-time.Duration((t - v.last) * float64(time.Second)))
	return []events.Event{{Type: events.TypeService, Window: window, Track: id, Duration: d, Time: left}}
}

// flush ends every visit in progress (the camera went offline, the window
// or its service zone was removed) as of its last sighting.
func (s *serviceWatch) flush(window string, t float64, wall time.Time) []events.Event {
	if s == nil {
		return nil
	}
	var evs []events.Event
	for id, v := range s.visits {
		evs = append(evs, s.end(window, id, v, t, wall)...)
	}
	sortServices(evs)
	return evs
}

// sortServices orders services by departure, then track: map order must
// not reach the event stream.
func sortServices(evs []events.Event) {
	slices.SortFunc(evs, func(a, b events.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return a.Track - b.Track
	})
}

// configure takes a window's new service zone and minimum, keeping the
// visits in progress when the zone stays.
func (s *serviceWatch) configure(window string, w config.Window, t float64, wall time.Time) (*serviceWatch, []events.Event) {
	next := newServiceWatch(w)
	if s == nil {
		return next, nil
	}
	if next == nil || !slices.Equal(s.zone, next.zone) {
		return next, s.flush(window, t, wall)
	}
	s.min = next.min
	return s, nil
}
