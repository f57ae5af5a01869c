package alerts

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/store"
)

const testConfig = `
alerts:
  camera_offline_after: 1m
districts:
  - id: d1
    name: 东城区
    centers:
      - id: c1
        name: 景山中心
        cameras:
          - id: hall1
            name: 大厅
            url: rtsp://127.0.0.1:8554/hall1
            analytics:
              windows:
                - id: w1
                  name: 1号窗口
                  zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]
                - id: w2
                  name: 2号窗口
                  zone: [[0.4, 0.1], [0.6, 0.1], [0.6, 0.3], [0.4, 0.3]]
`

type rig struct {
	cfg     *config.Config
	db      *store.Store
	path    string
	notices []Notice
	queued  []store.Notification
	target  string // of the outbox messages the rig's announcer renders
	mu      sync.Mutex
	status  ingest.Status
	now     time.Time
	bus     *eventbus.Bus
}

func newRig(t *testing.T) *rig {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(testConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{cfg: cfg, path: filepath.Join(t.TempDir(), "hw.db"), bus: eventbus.New(), target: "hook",
		now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	r.open(t)
	return r
}

func (r *rig) open(t *testing.T) {
	t.Helper()
	db, err := store.Open(context.Background(), r.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
}

func (r *rig) manager(t *testing.T) *Manager {
	t.Helper()
	m := New(Options{
		Config: r.cfg, Store: r.db, Bus: r.bus, Announcer: r,
		Status: func(string) (ingest.Status, bool) { return r.status, true },
		Now:    func() time.Time { return r.now },
	})
	if err := m.Restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	return m
}

// Messages renders one outbox message per notice, for r.target.
func (r *rig) Messages(n Notice) []store.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notices = append(r.notices, n)
	return []store.Notification{{Target: r.target, Payload: []byte(fmt.Sprintf(`{"alert":%d,"state":%q}`, n.Alert.ID, n.State))}}
}

func (r *rig) Queued(ns []store.Notification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queued = append(r.queued, ns...)
}

func (r *rig) ref() config.CameraRef {
	ref, _ := r.cfg.Camera("hall1")
	return ref
}

func alertEvent(window, state string, at time.Time) events.Event {
	return events.Event{Type: events.TypeAlert, Kind: events.KindUnstaffed, Camera: "hall1", Window: window, State: state, Time: at}
}

func windowEvent(window, state string, at time.Time) events.Event {
	zero := 0
	return events.Event{Type: events.TypeWindow, Camera: "hall1", Window: window, State: state, Count: &zero, Time: at}
}

func noSnapshot(string) []byte { return nil }

func TestUnstaffedAlertLifecycle(t *testing.T) {
	r := newRig(t)
	m := r.manager(t)
	ctx := context.Background()
	sub := r.bus.Subscribe(100, nil)
	defer sub.Close()
	t0 := r.now

	snap := []byte{0xff, 0xd8, 0xff, 0xd9}
	if err := m.Record(ctx, r.ref(), []events.Event{alertEvent("w1", events.AlertRaised, t0)},
		func(w string) []byte { return snap }); err != nil {
		t.Fatal(err)
	}
	open, _ := r.db.OpenAlerts(ctx)
	if len(open) != 1 || open[0].Window != "w1" || !open[0].HasSnapshot {
		t.Fatalf("open alerts after raise: %+v", open)
	}
	// A second raise for the same window while open is the same absence.
	m.Record(ctx, r.ref(), []events.Event{alertEvent("w1", events.AlertRaised, t0.Add(time.Second))}, noSnapshot)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 1 {
		t.Fatalf("duplicate alert stored: %d open", len(open))
	}
	if v := m.Board("c1"); len(v) != 2 || !v[0].Alerting || v[0].AlertID != open[0].ID || v[1].Alerting {
		t.Fatalf("board: %+v", v)
	}

	a, err := m.Ack(ctx, open[0].ID, store.Ack{By: "manager1", Verdict: store.VerdictConfirmed, Comment: "backup clerk on the way"})
	if err != nil || a.AckedBy != "manager1" {
		t.Fatalf("ack: %+v, %v", a, err)
	}
	if _, err := m.Ack(ctx, open[0].ID, store.Ack{By: "manager1", Verdict: store.VerdictConfirmed, Comment: "again"}); err == nil {
		t.Fatal("second ack accepted")
	}

	resolvedAt := t0.Add(4 * time.Minute)
	m.Record(ctx, r.ref(), []events.Event{windowEvent("w1", events.StateStaffed, resolvedAt), alertEvent("w1", events.AlertResolved, resolvedAt)}, noSnapshot)
	got, _ := r.db.Alert(ctx, open[0].ID)
	if got.Open() || got.Duration() != 4*time.Minute {
		t.Fatalf("alert after staff returned: open=%v duration=%v", got.Open(), got.Duration())
	}
	if len(r.notices) != 2 || r.notices[0].State != events.AlertRaised || r.notices[1].State != events.AlertResolved ||
		r.notices[0].Window == nil || r.notices[0].Window.Name != "1号窗口" {
		t.Fatalf("notices: %+v", r.notices)
	}
	var kinds []string
	for len(sub.C()) > 0 {
		kinds = append(kinds, (<-sub.C()).Type)
	}
	if len(kinds) < 4 {
		t.Fatalf("live messages %v, want raise, ack, window, resolve at least", kinds)
	}
}

func TestOpenAlertSurvivesRestart(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	m := r.manager(t)
	m.Record(ctx, r.ref(), []events.Event{alertEvent("w2", events.AlertRaised, r.now)}, noSnapshot)
	r.db.Close()

	r.open(t) // restart: the new analyzer knows nothing of the alert
	m2 := r.manager(t)
	if ws := m2.OpenWindows("hall1", events.KindUnstaffed); !slices.Equal(ws, []string{"w2"}) {
		t.Fatalf("after the restart the open unstaffed windows of hall1 are %v, want [w2] (what the new analysis continues)", ws)
	}
	m2.Record(ctx, r.ref(), []events.Event{alertEvent("w2", events.AlertRaised, r.now.Add(time.Minute))}, noSnapshot)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 1 {
		t.Fatalf("restart duplicated the alert: %d open", len(open))
	}
	m2.Record(ctx, r.ref(), []events.Event{windowEvent("w2", events.StateStaffed, r.now.Add(2*time.Minute))}, noSnapshot)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 0 {
		t.Fatalf("restored alert not resolved when staff returned: %+v", open)
	}
}

// TestCameraBlockedAlert: the analyzer's camera_blocked alert is stored
// for the camera (no window) with its notice, and one left open by a
// previous run resolves once a window is seen again (staffed or absent),
// not while windows are unknown or checking.
func TestCameraBlockedAlert(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	m := r.manager(t)
	blocked := events.Event{Type: events.TypeAlert, Kind: events.KindCameraBlocked, Camera: "hall1", State: events.AlertRaised,
		Reason: "view blocked: the picture is black (lens covered, or no light)", Time: r.now}
	if err := m.Record(ctx, r.ref(), []events.Event{windowEvent("w1", events.StateUnknown, r.now), blocked}, noSnapshot); err != nil {
		t.Fatal(err)
	}
	open, _ := r.db.OpenAlerts(ctx)
	if len(open) != 1 || open[0].Kind != events.KindCameraBlocked || open[0].Window != "" || len(r.notices) != 1 || r.notices[0].Window != nil {
		t.Fatalf("open %+v, notices %+v: want one camera_blocked alert of the camera", open, r.notices)
	}
	r.db.Close()

	r.open(t) // restart: the new analyzer knows nothing of the alert
	m2 := r.manager(t)
	for _, state := range []string{events.StateChecking, events.StateUnknown} {
		m2.Record(ctx, r.ref(), []events.Event{windowEvent("w1", state, r.now.Add(time.Minute))}, noSnapshot)
		if open, _ := r.db.OpenAlerts(ctx); len(open) != 1 {
			t.Fatalf("a window %s resolved the blocked view: %+v", state, open)
		}
	}
	m2.Record(ctx, r.ref(), []events.Event{windowEvent("w2", events.StateAbsent, r.now.Add(2*time.Minute))}, noSnapshot)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 0 {
		t.Fatalf("restored camera_blocked alert not resolved when a window was seen again: %+v", open)
	}
}

// TestQueueLongAlert: the analyzer's queue_long alert is stored for the
// camera with its notice; one left open by a previous run resolves once a
// minute passed with nobody waiting, not while people still wait.
func TestQueueLongAlert(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	m := r.manager(t)
	long := events.Event{Type: events.TypeAlert, Kind: events.KindQueueLong, Camera: "hall1", State: events.AlertRaised,
		Reason: "9 people waiting (more than 8)", Time: r.now}
	if err := m.Record(ctx, r.ref(), []events.Event{long}, noSnapshot); err != nil {
		t.Fatal(err)
	}
	open, _ := r.db.OpenAlerts(ctx)
	if len(open) != 1 || open[0].Kind != events.KindQueueLong || open[0].Window != "" || len(r.notices) != 1 || r.notices[0].Window != nil {
		t.Fatalf("open %+v, notices %+v: want one queue_long alert of the camera", open, r.notices)
	}
	r.db.Close()

	r.open(t) // restart: the new analyzer knows nothing of the alert
	m2 := r.manager(t)
	minute := func(n int, at time.Time) events.Event {
		return events.Event{Type: events.TypeQueue, Camera: "hall1", Zone: "seats", Count: &n, Time: at}
	}
	m2.Record(ctx, r.ref(), []events.Event{minute(3, r.now.Add(time.Minute))}, noSnapshot)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 1 {
		t.Fatalf("a minute with people waiting resolved the alert: %+v", open)
	}
	m2.Record(ctx, r.ref(), []events.Event{minute(0, r.now.Add(2*time.Minute))}, noSnapshot)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 0 {
		t.Fatalf("restored queue_long alert not resolved after an empty minute: %+v", open)
	}
}

func TestCameraOfflineAlert(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	m := r.manager(t)
	ref := r.ref()
	r.status = ingest.Status{State: ingest.StateOffline, Since: r.now}
	r.now = r.now.Add(59 * time.Second)
	m.checkCamera(ctx, ref)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 0 {
		t.Fatal("camera_offline raised before camera_offline_after")
	}
	r.now = r.now.Add(time.Second)
	m.checkCamera(ctx, ref)
	open, _ := r.db.OpenAlerts(ctx)
	if len(open) != 1 || open[0].Kind != events.KindCameraOffline {
		t.Fatalf("open alerts after 1 min offline: %+v", open)
	}
	m.checkCamera(ctx, ref) // still offline: no second alert
	r.status = ingest.Status{State: ingest.StateLive, Since: r.now}
	r.now = r.now.Add(30 * time.Second)
	m.checkCamera(ctx, ref)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 0 {
		t.Fatal("camera_offline not resolved when the camera came back")
	}
	if a, _ := r.db.Alert(ctx, open[0].ID); a.Duration() != 30*time.Second {
		t.Fatalf("offline alert duration %v, want 30s", a.Duration())
	}
}

// An alert and its notification are stored in one transaction: when the
// notification cannot be queued, the alert is not stored either (and is
// raised, with its notification, by the next attempt); when it is, the
// outbox holds exactly the messages the announcer was told were queued.
func TestAlertAndNotificationCommitTogether(t *testing.T) {
	r := newRig(t)
	m := r.manager(t)
	ctx := context.Background()
	r.target = "" // the outbox refuses it, as it would any failed insert
	err := m.Record(ctx, r.ref(), []events.Event{alertEvent("w1", events.AlertRaised, r.now)}, noSnapshot)
	if err == nil {
		t.Fatal("raise succeeded although its notification could not be queued")
	}
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 0 {
		t.Fatalf("alert stored without its notification: %+v", open)
	}
	if p, _ := r.db.PendingNotifications(ctx, "", r.now.Add(time.Hour), 0); len(p) != 0 || len(r.queued) != 0 {
		t.Fatalf("notification queued without its alert: %+v, told %+v", p, r.queued)
	}

	r.target = "hook"
	if err := m.Record(ctx, r.ref(), []events.Event{alertEvent("w1", events.AlertRaised, r.now.Add(time.Second))}, noSnapshot); err != nil {
		t.Fatal(err)
	}
	if err := m.Record(ctx, r.ref(), []events.Event{windowEvent("w1", events.StateStaffed, r.now.Add(time.Minute))}, noSnapshot); err != nil {
		t.Fatal(err)
	}
	pending, err := r.db.PendingNotifications(ctx, "hook", time.Now().Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	open, _ := r.db.OpenAlerts(ctx)
	if len(pending) != 2 || len(r.queued) != 2 || len(open) != 0 {
		t.Fatalf("after raise and resolve: outbox %+v, announcer told %+v, open %+v", pending, r.queued, open)
	}
	for i, n := range pending {
		if n.ID != r.queued[i].ID || string(n.Payload) != string(r.queued[i].Payload) {
			t.Errorf("outbox message %d = %+v, announcer was told %+v", i, n, r.queued[i])
		}
	}
	if want := fmt.Sprintf(`{"alert":%d,"state":"resolved"}`, r.notices[len(r.notices)-1].Alert.ID); string(pending[1].Payload) != want {
		t.Errorf("resolved message %s, want %s", pending[1].Payload, want)
	}
}
