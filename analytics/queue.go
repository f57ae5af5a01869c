package analytics

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// Queues: who waits in a camera's queue zones, for how long, and whether
// the queue is too long (see config.QueueZone, config.QueueAlert).

const (
	// queueMin is how long someone's feet stay in a queue zone before they
	// count as waiting there: people walking past the seats do not.
	queueMin = 3.0
	// queueLost is how long a waiting track may stay out of every queue
	// zone and every service zone before its wait ends unfollowed (the
	// tracker swapped it, or the visitor gave up).
	queueLost = 60.0
	// rateServices is how many of the latest services at a queue's
	// windows make its service rate.
	rateServices = 20
)

// queueWatch follows one camera's queue zones.
type queueWatch struct {
	zones   []queueZone
	windows []string // the camera's windows with a service zone
	seen    map[int]float64
	entries map[int]*queueEntry // track → its wait in progress
	minute  time.Time           // the sample minute in progress (zero: none)
	samples []queueSample       // per zone, this minute
	served  map[string][]float64
	// walks are how long followed visitors took from last in the queue
	// zone to the service zone (the latest rateServices).
	walks []float64
	alert queueAlert
}

type queueZone struct {
	id      string
	zone    geom.Polygon
	windows []string // fed windows; empty: all
}

// queueEntry is a visitor waiting: since when, where, how many were
// waiting there before them, and when their feet were last in the zone.
type queueEntry struct {
	zone  string
	enter time.Time
	ahead int
	last  float64
}

type queueSample struct {
	max, frames int
	sum         float64
}

// newQueueWatch returns nil for a camera without queue zones.
func newQueueWatch(an *config.Analytics) *queueWatch {
	if len(an.QueueZones) == 0 {
		return nil
	}
	q := &queueWatch{seen: map[int]float64{}, entries: map[int]*queueEntry{}, served: map[string][]float64{}}
	q.configure(an)
	return q
}

// configure takes new zones and alert settings, keeping the waits in
// progress in zones that stay; it returns the alert's resolution when the
// alert was removed.
func (q *queueWatch) configure(an *config.Analytics) []events.Event {
	var evs []events.Event
	same := len(q.zones) == len(an.QueueZones)
	for i := 0; same && i < len(q.zones); i++ {
		same = q.zones[i].id == an.QueueZones[i].ID
	}
	if !same {
		evs = q.sample() // the minute so far, in the zones it was counted in
		q.minute, q.samples = time.Time{}, make([]queueSample, len(an.QueueZones))
	}
	q.zones = nil
	for _, z := range an.QueueZones {
		q.zones = append(q.zones, queueZone{id: z.ID, zone: z.Zone, windows: z.Windows})
	}
	q.windows = nil
	for _, w := range an.Windows {
		if len(w.ServiceZone) > 0 {
			q.windows = append(q.windows, w.ID)
		}
	}
	for id, e := range q.entries {
		if q.zone(e.zone) == nil {
			delete(q.entries, id)
		}
	}
	if an.QueueAlert == nil {
		evs = append(evs, q.alert.resolve()...)
	}
	q.alert.configure(an.QueueAlert)
	return evs
}

func (q *queueWatch) zone(id string) *queueZone {
	for i := range q.zones {
		if q.zones[i].id == id {
			return &q.zones[i]
		}
	}
	return nil
}

// feeds reports whether zone z feeds window w.
func (z *queueZone) feeds(w string) bool { return len(z.windows) == 0 || slices.Contains(z.windows, w) }

// update follows the tracks at t: services are the services that ended
// at this frame, serving reports whether a track is in a service visit.
// It returns minute samples, waits and queue alerts.
func (q *queueWatch) update(tracks []Track, services []events.Event, serving func(track int) bool, t float64, wall time.Time) []events.Event {
	if q == nil {
		return nil
	}
	var evs []events.Event
	if m := wall.Truncate(time.Minute); !m.Equal(q.minute) {
		evs = append(evs, q.sample()...)
		q.minute = m
	}
	alive := map[int]bool{}
	waiting := make([]int, len(q.zones))
	for _, tr := range tracks {
		alive[tr.ID] = true
		i := slices.IndexFunc(q.zones, func(z queueZone) bool { return z.zone.Contains(tr.Feet) })
		if i < 0 || !tr.Confirmed || !(tr.Still || tr.Vouched || tr.Missed <= zoneGrace) {
			delete(q.seen, tr.ID)
			continue
		}
		since, ok := q.seen[tr.ID]
		if !ok {
			since, q.seen[tr.ID] = t, t
		}
		if t-since < queueMin {
			continue
		}
		waiting[i]++
		if e := q.entries[tr.ID]; e != nil {
			e.last = t
		} else {
			z := q.zones[i].id
			ahead := 0
			for _, o := range q.entries {
				if o.zone == z {
					ahead++
				}
			}
			enter := wall.Add(-time.Duration((t - since) * float64(time.Second)))
			q.entries[tr.ID] = &queueEntry{zone: z, enter: enter, ahead: ahead, last: t}
		}
	}
	for id := range q.seen {
		if !alive[id] {
			delete(q.seen, id)
		}
	}
	for i := range q.zones {
		s := &q.samples[i]
		s.max, s.sum, s.frames = max(s.max, waiting[i]), s.sum+float64(waiting[i]), s.frames+1
	}
	for _, s := range services {
		q.served[s.Window] = append(q.served[s.Window], s.Duration)
		if n := len(q.served[s.Window]); n > rateServices {
			q.served[s.Window] = q.served[s.Window][n-rateServices:]
		}
		e := q.entries[s.Track]
		if e == nil || s.Track == 0 || !q.zone(e.zone).feeds(s.Window) {
			continue
		}
		reached := s.Time.Add(-time.Duration(s.Duration * float64(time.Second)))
		delete(q.entries, s.Track)
		if walk := reached.Sub(e.left(t, wall)).Seconds(); walk >= 0 && walk <= queueLost {
			q.walks = append(q.walks, walk)
			q.walks = q.walks[max(0, len(q.walks)-rateServices):]
		}
		if reached.After(e.enter) {
			evs = append(evs, events.Event{Type: events.TypeWait, Zone: e.zone, Window: s.Window, Track: s.Track,
				Duration: reached.Sub(e.enter).Seconds(), Time: reached})
		}
	}
	var lost []int
	for id, e := range q.entries {
		if serving(id) || (alive[id] && t-e.last <= queueLost) {
			continue
		}
		lost = append(lost, id)
	}
	slices.Sort(lost)
	for _, id := range lost {
		evs = append(evs, q.estimate(id, t, wall))
	}
	people, longest := q.longest(waiting, t, wall)
	return append(evs, q.alert.update(people, longest, t)...)
}

// left is when the visitor's feet were last in the zone.
func (q *queueEntry) left(t float64, wall time.Time) time.Time {
	return wall.Add(-time.Duration((t - q.last) * float64(time.Second)))
}

// estimate ends a wait whose track was lost: the time it was seen
// waiting and the followed visitors' mean walk from the queue to a window,
// or, when longer, the people ahead over the service rate of the windows
// the queue feeds (their recent mean service time over how many there are).
func (q *queueWatch) estimate(id int, t float64, wall time.Time) events.Event {
	e := q.entries[id]
	delete(q.entries, id)
	wait := e.left(t, wall).Sub(e.enter).Seconds() + mean(q.walks)
	z := q.zone(e.zone)
	var windows int
	var sum float64
	var n int
	for _, w := range q.windows {
		if !z.feeds(w) {
			continue
		}
		windows++
		for _, d := range q.served[w] {
			sum, n = sum+d, n+1
		}
	}
	if n > 0 && windows > 0 {
		wait = math.Max(wait, float64(e.ahead)*sum/float64(n)/float64(windows))
	}
	wait = math.Max(wait, 0)
	return events.Event{Type: events.TypeWait, Zone: e.zone, Duration: wait, Estimated: true,
		Time: e.enter.Add(time.Duration(wait * float64(time.Second)))}
}

// longest is what the queue alert watches: the people waiting and the
// longest wait of those still in the queue (seen there within
// serviceLeave), in seconds; a visitor on the way to a window or being
// served no longer waits.
func (q *queueWatch) longest(waiting []int, t float64, wall time.Time) (int, float64) {
	n, longest := 0, 0.0
	for _, w := range waiting {
		n += w
	}
	for _, e := range q.entries {
		if t-e.last <= serviceLeave {
			longest = max(longest, wall.Sub(e.enter).Seconds())
		}
	}
	return n, longest
}

// sample returns the minute's samples, one per zone (none before the
// first minute).
func (q *queueWatch) sample() []events.Event {
	if q.minute.IsZero() {
		return nil
	}
	var evs []events.Event
	for i, z := range q.zones {
		s := q.samples[i]
		if s.frames == 0 {
			continue
		}
		n := s.max
		evs = append(evs, events.Event{Type: events.TypeQueue, Zone: z.id, Count: &n,
			Mean: math.Round(s.sum/float64(s.frames)*100) / 100, Time: q.minute})
	}
	q.samples = make([]queueSample, len(q.zones))
	return evs
}

// flush ends the minute in progress and drops the waits in progress: the
// camera went offline and nobody can be followed across the gap.
func (q *queueWatch) flush() []events.Event {
	if q == nil {
		return nil
	}
	evs := q.sample()
	q.minute = time.Time{}
	clear(q.entries)
	clear(q.seen)
	return evs
}

// queueAlert raises a queue_long alert once the queue was too long
// (people or wait) for the configured time, and resolves it once it was
// not for as long.
type queueAlert struct {
	cfg    *config.QueueAlert
	raised bool
	since  float64 // when the condition last changed against the alert's state; -1: it agrees
}

func (a *queueAlert) configure(cfg *config.QueueAlert) {
	a.cfg, a.since = cfg, -1
}

func (a *queueAlert) update(people int, wait float64, t float64) []events.Event {
	if a.cfg == nil {
		return nil
	}
	var why string
	switch {
	case a.cfg.People > 0 && people > a.cfg.People:
		why = fmt.Sprintf("%d people waiting (more than %d)", people, a.cfg.People)
	case a.cfg.Wait > 0 && wait > a.cfg.Wait.D().Seconds():
		why = fmt.Sprintf("waiting for %s (longer than %s)", time.Duration(wait*float64(time.Second)).Round(time.Second), a.cfg.Wait.D())
	}
	if (why != "") == a.raised {
		a.since = -1
		return nil
	}
	if a.since < 0 {
		a.since = t
	}
	if t-a.since < a.cfg.For.D().Seconds() {
		return nil
	}
	a.raised, a.since = !a.raised, -1
	if a.raised {
		return []events.Event{{Type: events.TypeAlert, Kind: events.KindQueueLong, State: events.AlertRaised, Reason: why}}
	}
	return []events.Event{{Type: events.TypeAlert, Kind: events.KindQueueLong, State: events.AlertResolved}}
}

// resolve ends a raised alert (the queue zones or the alert were removed).
func (a *queueAlert) resolve() []events.Event {
	if !a.raised {
		return nil
	}
	a.raised, a.since = false, -1
	return []events.Event{{Type: events.TypeAlert, Kind: events.KindQueueLong, State: events.AlertResolved}}
}

// mean of values (0 for none).
func mean(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	return sum / float64(len(values))
}
