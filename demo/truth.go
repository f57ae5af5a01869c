package demo

import (
	"encoding/json"
	"io"
	"slices"
	"time"

	"github.com/hallwatch/hallwatch/geom"
)

// Truth event types, matching analytics' event types.
const (
	TruthCrossing = "crossing"
	TruthWindow   = "window"
	// TruthService is a visitor served at a window: Since their feet
	// entered its service zone, T (this frame) the last frame they were in it.
	TruthService = "service"
	// TruthWait is a visitor's wait: Since their feet entered a queue
	// zone (Zone), T (this frame) when they reached Window's service zone.
	TruthWait = "wait"
	// TruthBackup: the AB post (SceneOptions.Covered) changed.
	TruthBackup = "backup"
)

// TruthEvent is one ground-truth fact of the simulation. Frames are 1-based
// and T is seconds since frame 1, like analytics events.
type TruthEvent struct {
	Type string // TruthCrossing or TruthWindow
	// Crossing: the line, "in" or "out", and the visitor's number.
	Line      string
	Direction string
	Visitor   int
	// Window: the zone, whether any feet point is inside it, and how many.
	Window   string
	Occupied bool
	Count    int
	// Service and wait: when it began (seconds, like T), the queue zone.
	Since float64
	Zone  string
	// Backup: the covered Window, its Backup window, whether the backup
	// clerk's feet are in the covered window's zone (Covered), and whether
	// the backup clerk is away from their own seat to cover (Covering:
	// from standing up there until sitting down there again).
	Backup            string
	Covered, Covering bool

	Frame int
	T     float64
	// Camera and Wall are set by a live Camera: its id and the wall-clock
	// time at which the frame was sent.
	Camera string
	Wall   time.Time
}

// MarshalJSON writes only the fields of the event's type, e.g.
// {"type":"crossing","line":"door","direction":"in","visitor":7,"frame":123,"t":8.2}.
func (e TruthEvent) MarshalJSON() ([]byte, error) {
	type common struct {
		Camera string    `json:"camera,omitempty"`
		Frame  int       `json:"frame"`
		T      float64   `json:"t"`
		Wall   time.Time `json:"wall,omitzero"`
	}
	c := common{e.Camera, e.Frame, e.T, e.Wall}
	if e.Type == TruthBackup {
		return json.Marshal(struct {
			Type     string `json:"type"`
			Window   string `json:"window"`
			Backup   string `json:"backup"`
			Covered  bool   `json:"covered"`
			Covering bool   `json:"covering"`
			common
		}{e.Type, e.Window, e.Backup, e.Covered, e.Covering, c})
	}
	if e.Type == TruthCrossing {
		return json.Marshal(struct {
			Type      string `json:"type"`
			Line      string `json:"line"`
			Direction string `json:"direction"`
			Visitor   int    `json:"visitor"`
			common
		}{e.Type, e.Line, e.Direction, e.Visitor, c})
	}
	if e.Type == TruthService || e.Type == TruthWait {
		return json.Marshal(struct {
			Type    string  `json:"type"`
			Visitor int     `json:"visitor"`
			Window  string  `json:"window"`
			Zone    string  `json:"zone,omitempty"`
			Since   float64 `json:"since"`
			common
		}{e.Type, e.Visitor, e.Window, e.Zone, e.Since, c})
	}
	return json.Marshal(struct {
		Type     string `json:"type"`
		Window   string `json:"window"`
		Occupied bool   `json:"occupied"`
		Count    int    `json:"count"`
		common
	}{e.Type, e.Window, e.Occupied, e.Count, c})
}

// WriteTruth writes events as JSON Lines.
func WriteTruth(w io.Writer, events ...TruthEvent) error {
	enc := json.NewEncoder(w)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}

// doorSide returns the side of the door line p's feet are on (+1 inside,
// -1 outside, 0 on the line) and the feet point.
func (s *Scene) doorSide(p *person) (int, geom.Point) {
	f := s.feet(p)
	return geom.Side(doorLine.A, doorLine.B, doorLine.Inside, f), f
}

// crossings applies analytics' (and eval's) rule to every visitor's feet: a
// move from the last point off the line to a point on the other side, through
// the finite segment, is a crossing; a point on the line keeps the old side.
func (s *Scene) crossings() []TruthEvent {
	var events []TruthEvent
	for _, v := range s.people[s.opts.Windows:] {
		side, f := s.doorSide(v)
		if side == 0 {
			continue
		}
		if side != v.lastSide && v.lastSide != 0 && geom.SegmentsIntersect(v.lastFeet, f, doorLine.A, doorLine.B) {
			dir := "out"
			if side > 0 {
				dir = "in"
			}
			events = append(events, TruthEvent{Type: TruthCrossing, Line: doorLine.ID, Direction: dir,
				Visitor: v.id, Frame: s.frame, T: s.seconds(s.frame)})
		}
		v.lastSide, v.lastFeet = side, f
	}
	return events
}

// windowChanges reports each window whose zone became occupied or empty (or
// changed head count); on frame 1, every window.
func (s *Scene) windowChanges() []TruthEvent {
	var events []TruthEvent
	for i, zone := range s.zones {
		n := 0
		for _, p := range s.people {
			if p.state != clerkAway && zone.Contains(s.feet(p)) {
				n++
			}
		}
		if n != s.occupied[i] || s.frame == 1 {
			events = append(events, TruthEvent{Type: TruthWindow, Window: windowID(i), Occupied: n > 0, Count: n,
				Frame: s.frame, T: s.seconds(s.frame)})
		}
		s.occupied[i] = n
	}
	return events
}

// queueMin is how long a visitor's feet stay in a queue zone before they
// wait there, as analytics counts them: shorter is walking past or being
// called at once.
const queueMin = 3.0

// services reports the visitors who left a window's service zone (a
// service, from their arrival in it) and those who reached one after
// waiting in a queue zone (a wait, from entering the zone), by the feet
// point as analytics sees it.
func (s *Scene) services() []TruthEvent {
	var events []TruthEvent
	now := s.seconds(s.frame)
	for _, v := range s.people[s.opts.Windows:] {
		f := s.feet(v)
		at := slices.IndexFunc(s.serviceZones, func(z geom.Polygon) bool { return z.Contains(f) })
		if v.served >= 0 && at != v.served {
			events = append(events, TruthEvent{Type: TruthService, Visitor: v.id, Window: windowID(v.served), Since: v.servedSince,
				Frame: s.frame - 1, T: s.seconds(s.frame - 1)})
			v.served = -1
		}
		if at >= 0 && v.served < 0 {
			v.served, v.servedSince = at, now
			if v.queue != "" && v.queuedLast-v.queuedSince >= queueMin {
				events = append(events, TruthEvent{Type: TruthWait, Visitor: v.id, Window: windowID(at), Zone: v.queue, Since: v.queuedSince,
					Frame: s.frame, T: now})
				v.queue = ""
			}
		}
		for _, q := range queueZones {
			if v.served < 0 && q.Zone.Contains(f) && (v.queue == "" || v.queue == q.ID) {
				if v.queue == "" {
					v.queue, v.queuedSince = q.ID, now
				}
				v.queuedLast = now
				break
			}
		}
	}
	return events
}

// coverChanges reports the AB post's changes (SceneOptions.Covered): the
// backup clerk's feet entering or leaving the covered window's zone, and
// the backup clerk leaving or regaining their own seat to cover.
func (s *Scene) coverChanges() []TruthEvent {
	i := s.opts.Covered - 1
	if i < 0 {
		return nil
	}
	b := s.people[i+1]
	away := b.state == clerkToCover || b.state == clerkCovering || b.state == clerkFromCover
	now := [2]bool{away && s.zones[i].Contains(s.feet(b)), away}
	if now == s.covered && s.frame > 1 {
		return nil
	}
	s.covered = now
	return []TruthEvent{{Type: TruthBackup, Window: windowID(i), Backup: windowID(i + 1), Covered: now[0], Covering: now[1],
		Frame: s.frame, T: s.seconds(s.frame)}}
}
