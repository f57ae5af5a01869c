package web

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
	"github.com/hallwatch/hallwatch/store"
)

// SceneSource shows what a camera's analysis sees now.
type SceneSource interface {
	// Snapshot returns a fresh picture of the camera as JPEG (privacy
	// masks blacked out) and when it was taken; ErrNoPicture when there
	// is none yet (offline, starting, not analysed here).
	Snapshot(ctx context.Context, camera string) ([]byte, time.Time, error)
	// Scene returns the people and windows analysis sees now; false when
	// the camera is not analysed here.
	Scene(camera string) (Scene, bool)
}

// ErrNoPicture: the camera has no analysed picture to show.
var ErrNoPicture = errors.New("no picture of this camera yet")

// Scene is a camera's analysis at its last frame.
type Scene struct {
	Time    time.Time     `json:"time"`
	Width   int           `json:"width"`
	Height  int           `json:"height"`
	People  []ScenePerson `json:"people"`
	Windows []SceneWindow `json:"windows"`
}

// ScenePerson is someone analysis counts in zones: feet and box are
// normalised to the picture (box: x0, y0, x1, y1).
type ScenePerson struct {
	ID   int        `json:"id"`
	Feet geom.Point `json:"feet"`
	Box  [4]float64 `json:"box"`
}

// SceneWindow is a window's live state.
type SceneWindow struct {
	ID       string    `json:"id"`
	State    string    `json:"state"`
	Count    int       `json:"count"`
	Since    time.Time `json:"since,omitzero"`
	Alerting bool      `json:"alerting"`
}

// overlayView is what an overlay draws: the camera's geometry and what is
// in its lines and zones, now or (playback) at a past time.
type overlayView struct {
	Camera   string          `json:"camera"`
	Version  int             `json:"version"`
	Geometry config.Geometry `json:"geometry"`
	// Live: people are those analysis sees now; playback has none.
	Live    bool            `json:"live"`
	Time    time.Time       `json:"time,omitzero"`
	Width   int             `json:"width,omitempty"`
	Height  int             `json:"height,omitempty"`
	People  []ScenePerson   `json:"people"`
	Windows []overlayWindow `json:"windows"`
	Queues  []overlayZone   `json:"queues"`
	Lines   []overlayLine   `json:"lines"`
}

type overlayWindow struct {
	SceneWindow
	Name string `json:"name"`
	// Service counts the people in the window's service zone.
	Service int `json:"service"`
}

type overlayZone struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// overlayLine is a line's crossings in the center's day so far.
type overlayLine struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	In   int    `json:"in"`
	Out  int    `json:"out"`
}

// overlay answers GET /api/cameras/:camera/overlay[?at=RFC3339].
func (s *Server) overlay(c *fiber.Ctx) error {
	cam := c.Params("camera")
	ref, _ := s.deps.Config.Camera(cam)
	if ref.Camera.Analytics == nil {
		return apiErr(fiber.StatusConflict, codeCameraNotAnalysed, "camera "+quote(cam)+" is not analysed")
	}
	if at := c.Query("at"); at != "" {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "at: want an RFC 3339 time such as 2026-03-16T09:30:00+08:00, got "+quote(at))
		}
		return s.pastOverlay(c, ref, t)
	}
	st, err := s.deps.Geometry.State(cam)
	if err != nil {
		return geometryError(err)
	}
	v := overlayView{Camera: cam, Version: st.Version, Geometry: st.Geometry, Live: true, People: []ScenePerson{}}
	scene, _ := s.deps.Scenes.Scene(cam)
	v.Time, v.Width, v.Height, v.People = scene.Time, scene.Width, scene.Height, append(v.People, scene.People...)
	v.fillZones(scene.Windows)
	lines, err := s.lineCounts.get(c.UserContext(), s.deps.Store, ref, time.Now())
	if err != nil {
		return err
	}
	v.fillLines(lines)
	return c.JSON(v)
}

// pastOverlay is the overlay of a past time (playback): the geometry then
// in force, the windows' states then and the day's crossings until then.
func (s *Server) pastOverlay(c *fiber.Ctx, ref config.CameraRef, at time.Time) error {
	ctx := c.UserContext()
	version, g, err := s.deps.Geometry.At(ctx, ref.Camera.ID, at)
	if err != nil {
		return geometryError(err)
	}
	v := overlayView{Camera: ref.Camera.ID, Version: version, Geometry: g, Time: at, People: []ScenePerson{}}
	last, err := s.deps.Store.LastWindowStates(ctx, []string{ref.Center.ID}, at)
	if err != nil {
		return err
	}
	var ws []SceneWindow
	for _, e := range last {
		if e.Camera == ref.Camera.ID {
			w := SceneWindow{ID: e.Window, State: e.State, Since: e.Time}
			if e.Count != nil {
				w.Count = *e.Count
			}
			ws = append(ws, w)
		}
	}
	v.fillZones(ws)
	day := localMidnight(at, ref.Center.Location())
	crossings, err := s.deps.Store.Events(ctx, store.EventQuery{Centers: []string{ref.Center.ID}, Cameras: []string{ref.Camera.ID},
		Types: []string{events.TypeCrossing}, From: day, To: at.Add(time.Nanosecond)})
	if err != nil {
		return err
	}
	counts := map[string][2]int{}
	for _, e := range crossings {
		n := counts[e.Line]
		if e.Direction == events.DirectionIn {
			n[0]++
		} else {
			n[1]++
		}
		counts[e.Line] = n
	}
	v.fillLines(counts)
	return c.JSON(v)
}

// fillZones lists the geometry's windows with their states (unknown when
// analysis has none) and counts people in service and queue zones.
func (v *overlayView) fillZones(states []SceneWindow) {
	v.Windows, v.Queues = []overlayWindow{}, []overlayZone{}
	for _, w := range v.Geometry.Windows {
		ow := overlayWindow{SceneWindow: SceneWindow{ID: w.ID, State: events.StateUnknown}, Name: w.Name}
		for _, st := range states {
			if st.ID == w.ID {
				ow.SceneWindow = st
			}
		}
		if len(w.ServiceZone) > 0 {
			ow.Service = countFeet(v.People, w.ServiceZone)
		}
		v.Windows = append(v.Windows, ow)
	}
	for _, q := range v.Geometry.QueueZones {
		v.Queues = append(v.Queues, overlayZone{ID: q.ID, Name: q.Name, Count: countFeet(v.People, q.Zone)})
	}
}

// countFeet counts the people whose feet are in zone: the rule analysis
// counts by (a page drawing a zone counts the same way).
func countFeet(people []ScenePerson, zone geom.Polygon) int {
	n := 0
	for _, p := range people {
		if zone.Contains(p.Feet) {
			n++
		}
	}
	return n
}

func (v *overlayView) fillLines(counts map[string][2]int) {
	v.Lines = []overlayLine{}
	for _, l := range v.Geometry.Lines {
		n := counts[l.ID]
		v.Lines = append(v.Lines, overlayLine{ID: l.ID, Name: l.Name, In: n[0], Out: n[1]})
	}
}

func localMidnight(t time.Time, loc *time.Location) time.Time {
	lt := t.In(loc)
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
}

// lineCountCache keeps each camera's crossings today for a moment: every
// open overlay asks every second, the hourly counts change slowly.
type lineCountCache struct {
	mu sync.Mutex
	m  map[string]cachedLines
}

type cachedLines struct {
	at     time.Time
	counts map[string][2]int
}

const lineCountTTL = 2 * time.Second

func (lc *lineCountCache) get(ctx context.Context, st Store, ref config.CameraRef, now time.Time) (map[string][2]int, error) {
	lc.mu.Lock()
	if e, ok := lc.m[ref.Camera.ID]; ok && now.Sub(e.at) < lineCountTTL && now.Sub(e.at) >= 0 {
		lc.mu.Unlock()
		return e.counts, nil
	}
	lc.mu.Unlock()
	rows, err := st.Counts(ctx, store.CountQuery{Centers: []string{ref.Center.ID}, From: localMidnight(now, ref.Center.Location()),
		Bucket: store.BucketDay, PerLine: true})
	if err != nil {
		return nil, err
	}
	counts := map[string][2]int{}
	for _, r := range rows {
		if r.Camera == ref.Camera.ID {
			n := counts[r.Line]
			counts[r.Line] = [2]int{n[0] + r.In, n[1] + r.Out}
		}
	}
	lc.mu.Lock()
	if lc.m == nil {
		lc.m = map[string]cachedLines{}
	}
	lc.m[ref.Camera.ID] = cachedLines{at: now, counts: counts}
	lc.mu.Unlock()
	return counts, nil
}

// cameraSnapshot answers GET /api/cameras/:camera/snapshot.jpg: a fresh
// picture for the editor (privacy masks blacked out), audited like a view.
func (s *Server) cameraSnapshot(c *fiber.Ctx) error {
	jpeg, at, err := s.deps.Scenes.Snapshot(c.UserContext(), c.Params("camera"))
	if errors.Is(err, ErrNoPicture) {
		return apiErr(fiber.StatusServiceUnavailable, codeNoPicture, "no picture of camera "+quote(c.Params("camera"))+" yet: it is offline, starting, or not analysed")
	}
	if err != nil {
		return err
	}
	s.audit(c, "snapshot", c.Params("camera"), "picture of "+at.UTC().Format(time.RFC3339))
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set("X-Frame-Time", at.UTC().Format(time.RFC3339Nano))
	c.Set("X-Frame-Age-Ms", strconv.FormatInt(time.Since(at).Milliseconds(), 10))
	return c.Send(jpeg)
}
