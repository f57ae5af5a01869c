// Package alerts runs the alert lifecycle: unstaffed-window and
// camera-blocked alerts from analytics and camera-offline alerts from
// ingest are stored (with a
// snapshot), announced to notifiers and live pages, acknowledged by people
// and resolved when the cause ends. It also keeps each window's live state
// for the center boards.
package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/store"
)

// Store is the storage the manager needs.
type Store interface {
	RaiseAlert(ctx context.Context, a store.AlertRecord, announce store.Announce) (store.Alert, []store.Notification, error)
	ResolveAlert(ctx context.Context, id int64, at time.Time, announce store.Announce) (store.Alert, []store.Notification, error)
	AckAlert(ctx context.Context, id int64, a store.Ack) error
	Alert(ctx context.Context, id int64) (store.Alert, error)
	OpenAlerts(ctx context.Context) ([]store.Alert, error)
}

// Notice is an alert change worth telling people about.
type Notice struct {
	Alert    store.Alert
	State    string // events.AlertRaised or events.AlertResolved
	District *config.District
	Center   *config.Center
	Camera   *config.Camera
	Window   *config.Window // nil for the camera's alerts (camera_offline, camera_blocked)
}

// Announcer turns alert changes into notifications through the outbox.
type Announcer interface {
	// Messages renders the outbox messages for a notice. It runs inside
	// the store's transaction of the alert change, so it must not block.
	Messages(Notice) []store.Notification
	// Queued is told about the messages once they are committed.
	Queued([]store.Notification)
}

// Options configures a Manager.
type Options struct {
	Config *config.Config
	Store  Store
	Bus    *eventbus.Bus
	Log    *slog.Logger
	// Announcer, if set, notifies people of raised and resolved alerts.
	Announcer Announcer
	// Status reports a camera's ingest state, for camera_offline alerts.
	Status func(camera string) (ingest.Status, bool)
	// Observe, if set, counts alert changes (kind; raised, resolved or
	// acknowledged) for metrics.
	Observe func(kind, event string)
	Now     func() time.Time
}

// Manager is the alert lifecycle and the live window board.
type Manager struct {
	o Options

	mu      sync.Mutex
	open    map[alertKey]int64
	windows map[windowKey]events.WindowStatus
	online  map[string]ingest.State // last camera state published
}

type alertKey struct{ kind, camera, window string }
type windowKey struct{ camera, window string }

// New makes a manager; call Restore before use so alerts left open by a
// previous run are continued, not duplicated.
func New(o Options) *Manager {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Manager{o: o, open: map[alertKey]int64{}, windows: map[windowKey]events.WindowStatus{}, online: map[string]ingest.State{}}
}

// Restore loads the alerts a previous run left open.
func (m *Manager) Restore(ctx context.Context) error {
	open, err := m.o.Store.OpenAlerts(ctx)
	if err != nil {
		return fmt.Errorf("alerts: restore open alerts: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range open {
		m.open[alertKey{a.Kind, a.Camera, a.Window}] = a.ID
	}
	return nil
}

// Record handles one camera's analysis events: unstaffed alerts are raised
// (with snapshot(window), a JPEG or nil) and resolved, window states feed
// the board, and every event is published to live pages.
func (m *Manager) Record(ctx context.Context, ref config.CameraRef, evs []events.Event, snapshot func(window string) []byte) error {
	var errs []error
	for _, ev := range evs {
		switch ev.Type {
		case events.TypeAlert:
			key := alertKey{ev.Kind, ref.Camera.ID, ev.Window}
			if ev.State == events.AlertRaised {
				errs = append(errs, m.raise(ctx, ref, key, ev.Time, func() []byte { return snapshot(ev.Window) }))
			} else {
				errs = append(errs, m.resolve(ctx, ref, key, ev.Time))
			}
		case events.TypeWindow:
			// An alert restored from a previous run is unknown to the
			// analyzer: resolve it when the window is staffed (by its
			// own clerk or its backup's), its clerk covers another window
			// (the AB-post rule) or it closes, and a camera_blocked one
			// once a window is seen again.
			if events.Staffed(ev.State) || ev.State == events.StateCovering || ev.State == events.StateClosed {
				errs = append(errs, m.resolve(ctx, ref, alertKey{events.KindUnstaffed, ref.Camera.ID, ev.Window}, ev.Time))
			}
			if events.Staffed(ev.State) || ev.State == events.StateCovering || ev.State == events.StateAbsent {
				errs = append(errs, m.resolve(ctx, ref, alertKey{events.KindCameraBlocked, ref.Camera.ID, ""}, ev.Time))
			}
		case events.TypeQueue:
			// Likewise a queue_long alert, once a queue zone of the
			// camera had a minute with nobody waiting (the analyzer
			// raises it again if the queue is still too long).
			if ev.Count != nil && *ev.Count == 0 {
				errs = append(errs, m.resolve(ctx, ref, alertKey{events.KindQueueLong, ref.Camera.ID, ""}, ev.Time))
			}
		}
		m.publish(ref, ev.Type, ev.Time, ev)
	}
	return errors.Join(errs...)
}

// SetCondition raises (on) or resolves a camera's own alert of kind, such
// as storage_full; nothing happens when it already is in that state.
func (m *Manager) SetCondition(ctx context.Context, camera, kind string, on bool) error {
	ref, ok := m.o.Config.Camera(camera)
	if !ok {
		return fmt.Errorf("alerts: %s on unknown camera %q", kind, camera)
	}
	key := alertKey{kind, camera, ""}
	if on {
		return m.raise(ctx, ref, key, m.o.Now(), func() []byte { return nil })
	}
	return m.resolve(ctx, ref, key, m.o.Now())
}

// UpdateWindows records the analyzer's current window states for boards.
func (m *Manager) UpdateWindows(camera string, ws []events.WindowStatus) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range ws {
		m.windows[windowKey{camera, w.Window}] = w
	}
}

// Ack records a person's acknowledgement of an alert and their verdict
// (ack.At is set to now).
func (m *Manager) Ack(ctx context.Context, id int64, ack store.Ack) (store.Alert, error) {
	ack.At = m.o.Now()
	if err := m.o.Store.AckAlert(ctx, id, ack); err != nil {
		return store.Alert{}, err
	}
	a, err := m.o.Store.Alert(ctx, id)
	if err != nil {
		return store.Alert{}, err
	}
	if ref, ok := m.o.Config.Camera(a.Camera); ok {
		m.publishAlert(ref, m.o.Now(), a, "acknowledged")
	}
	return a, nil
}

func (m *Manager) raise(ctx context.Context, ref config.CameraRef, key alertKey, at time.Time, snapshot func() []byte) error {
	m.mu.Lock()
	_, exists := m.open[key]
	m.mu.Unlock()
	if exists {
		return nil // still open from before: one alert per absence
	}
	rec := store.AlertRecord{Kind: key.kind, District: ref.District.ID, Center: ref.Center.ID,
		Camera: key.camera, Window: key.window, RaisedAt: at, Snapshot: snapshot()}
	a, queued, err := m.o.Store.RaiseAlert(ctx, rec, m.announce(ref, events.AlertRaised))
	if err != nil {
		return fmt.Errorf("alerts: raise %s on %s/%s: %w", key.kind, key.camera, key.window, err)
	}
	m.mu.Lock()
	m.open[key] = a.ID
	m.mu.Unlock()
	m.o.Log.Info("alert raised", "id", a.ID, "kind", key.kind, "camera", key.camera, "window", key.window)
	m.publishAlert(ref, at, a, events.AlertRaised)
	m.queued(queued)
	return nil
}

func (m *Manager) resolve(ctx context.Context, ref config.CameraRef, key alertKey, at time.Time) error {
	m.mu.Lock()
	id, ok := m.open[key]
	m.mu.Unlock()
	if !ok {
		return nil
	}
	// The alert stays open here until the store has closed it, so that a
	// failed write is tried again by the next event.
	a, queued, err := m.o.Store.ResolveAlert(ctx, id, at, m.announce(ref, events.AlertResolved))
	if err != nil && !errors.Is(err, store.ErrAlreadyResolved) && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("alerts: resolve %d: %w", id, err)
	}
	m.mu.Lock()
	delete(m.open, key)
	m.mu.Unlock()
	if err != nil {
		m.o.Log.Warn("alert already closed", "id", id, "err", err)
		return nil
	}
	m.o.Log.Info("alert resolved", "id", id, "kind", key.kind, "camera", key.camera, "window", key.window, "duration", a.Duration())
	m.publishAlert(ref, at, a, events.AlertResolved)
	m.queued(queued)
	return nil
}

// announce renders an alert change's notifications, for the store to
// commit with it; nil without an Announcer.
func (m *Manager) announce(ref config.CameraRef, state string) store.Announce {
	if m.o.Announcer == nil {
		return nil
	}
	return func(a store.Alert) []store.Notification {
		n := Notice{Alert: a, State: state, District: ref.District, Center: ref.Center, Camera: ref.Camera}
		if ref.Camera.Analytics != nil {
			for i := range ref.Camera.Analytics.Windows {
				if ref.Camera.Analytics.Windows[i].ID == a.Window {
					n.Window = &ref.Camera.Analytics.Windows[i]
				}
			}
		}
		return m.o.Announcer.Messages(n)
	}
}

func (m *Manager) queued(ns []store.Notification) {
	if m.o.Announcer != nil && len(ns) > 0 {
		m.o.Announcer.Queued(ns)
	}
}

// publishAlert announces an alert change to live pages and metrics.
func (m *Manager) publishAlert(ref config.CameraRef, at time.Time, a store.Alert, event string) {
	if m.o.Observe != nil {
		m.o.Observe(a.Kind, event)
	}
	m.publish(ref, "alert", at, View(a, event))
}

func (m *Manager) publish(ref config.CameraRef, typ string, at time.Time, data any) {
	if m.o.Bus == nil {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return
	}
	m.o.Bus.Publish(eventbus.Message{Type: typ, District: ref.District.ID, Center: ref.Center.ID,
		Camera: ref.Camera.ID, Time: at, Data: raw})
}
