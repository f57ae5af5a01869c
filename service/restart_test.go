package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/store"
)

// seatedHall runs a simulated hall whose clerks sit throughout (window 3's
// never moving) while visitors come and go, and returns its truth and a
// configuration analysing it.
func seatedHall(t *testing.T) (*truthLog, *config.Config) {
	t.Helper()
	truth := &truthLog{}
	scene := demo.SceneOptions{Seed: 21, StillClerk: 3,
		ClerkAwayInterval: demo.Range{Min: 10 * time.Minute, Max: 20 * time.Minute}, // nobody leaves meanwhile
		VisitorInterval:   demo.Range{Min: 3 * time.Second, Max: 6 * time.Second}}
	cam := runDemoCamera(t, scene, truth.add)
	cfg := testConfig(t, filepath.Join(t.TempDir(), "hallwatch.db"))
	cam.AddTo(cfg, []demo.Hall{{District: "dongcheng", DistrictName: "东城区", Center: "jingshan", CenterName: "景山",
		Camera: "hall", CameraName: "大厅"}})
	return truth, cfg
}

// TestStartWhileClerksSit: the demo hall's camera has been streaming with
// every clerk seated (window 3's never moving) when hallwatch starts on it,
// as after a restart mid-day. With the shipped detector each window must
// go from checking to staffed, never absent while its clerk sits there,
// and no unstaffed alert may be raised.
func TestStartWhileClerksSit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated hall in real time")
	}
	truth, cfg := seatedHall(t)
	time.Sleep(5 * time.Second) // the clerks sat down before hallwatch started
	r := startServiceConfig(t, cfg)
	// The camera status says which detector runs and why.
	if a := r.camera(t, "hall", "analysis"); a["detector"] != "yolo" || a["fallback"] != nil ||
		!strings.Contains(fmt.Sprint(a["reason"]), "Yolo-Fastest 1.1 body (shipped)") {
		t.Fatalf("camera status analysis %v, want the shipped person model and why", a)
	}
	// So does the board, for managers who do not see the camera list.
	var board struct {
		Cameras []struct {
			Detector *struct{ Kind, Reason string }
		}
	}
	resp := r.get(t, "/api/board?center=jingshan")
	err := json.NewDecoder(resp.Body).Decode(&board)
	resp.Body.Close()
	if err != nil || len(board.Cameras) != 1 || board.Cameras[0].Detector == nil || board.Cameras[0].Detector.Kind != "yolo" ||
		!strings.Contains(board.Cameras[0].Detector.Reason, "shipped") {
		t.Fatalf("board cameras %+v (%v), want the shipped person model and why", board.Cameras, err)
	}
	const watch = 30 * time.Second
	time.Sleep(watch)
	// How often the person model looked, of the frames analysed: at most
	// all, and some (visitors keep walking in).
	a := r.camera(t, "hall", "analysis")
	looks, _ := a["looks"].(float64)
	analysed, _ := a["analysed"].(float64)
	if !(looks > 0 && looks <= analysed) {
		t.Errorf("camera status analysis %v: want 0 < looks ≤ analysed", a)
	}
	t.Logf("the person model looked at %.0f of %.0f analysed frames", looks, analysed)

	windows := cfg.Districts[0].Centers[0].Cameras[0].Analytics.Windows
	evs := seatedThroughout(t, r, truth)
	first := map[string]time.Time{} // first staffed per window
	for _, e := range evs {
		if e.State == events.StateStaffed && first[e.Window].IsZero() {
			first[e.Window] = e.Time
		}
	}
	var startedAt time.Time
	for _, e := range evs {
		if startedAt.IsZero() || e.Time.Before(startedAt) {
			startedAt = e.Time
		}
	}
	for _, w := range windows {
		if first[w.ID].IsZero() || first[w.ID].Sub(startedAt) > 10*time.Second {
			t.Errorf("window %s staffed at %v, analysis began %v: want within 10 s", w.ID, first[w.ID], startedAt)
		}
	}
	for _, st := range r.svc.alerts.Board("jingshan") {
		if st.State != events.StateStaffed {
			t.Errorf("after %v: window %s %s (%s)", watch, st.Window, st.State, st.Reason)
		}
	}
}

// TestMissingModelFallsBackToMotion: detector.kind auto with a model file
// that is gone: the camera is analysed with the motion detector, and the
// log and the camera status say so, naming the file.
func TestMissingModelFallsBackToMotion(t *testing.T) {
	cam := runDemoCamera(t, busyHall)
	cfg := testConfig(t, filepath.Join(t.TempDir(), "hallwatch.db"))
	dir := t.TempDir()
	cfg.Detector.Model, cfg.Detector.Weights = filepath.Join(dir, "body.cfg"), filepath.Join(dir, "body.weights")
	cam.AddTo(cfg, []demo.Hall{{District: "dongcheng", DistrictName: "东城区", Center: "jingshan", CenterName: "景山",
		Camera: "hall", CameraName: "大厅"}})
	r := startServiceConfig(t, cfg)
	a := r.camera(t, "hall", "analysis")
	if a["detector"] != "motion" || a["fallback"] != true || !strings.Contains(fmt.Sprint(a["reason"]), cfg.Detector.Model) {
		t.Errorf("camera status analysis %v, want motion as a fallback, the reason naming %s", a, cfg.Detector.Model)
	}
	if log := r.logs.String(); !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "falling back") || !strings.Contains(log, "body.cfg") {
		t.Errorf("log does not say the model failed to load:\n%s", log)
	}
}

// TestCameraReconnectChecksAgain: the camera drops and is back within a
// moment while clerks sit: the service checks the windows again (unknown
// for the gap, then checking, then staffed), never reports them absent
// and raises nothing.
func TestCameraReconnectChecksAgain(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated hall in real time")
	}
	addr := freeTCPAddr(t)
	scene := demo.SceneOptions{Seed: 5, ClerkAwayInterval: demo.Range{Min: 10 * time.Minute, Max: 20 * time.Minute}}
	startCam := func() (stop func()) {
		cam, err := demo.NewCamera(demo.CameraOptions{Addr: addr, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Cameras: []demo.CameraSpec{{ID: "hall", Scene: scene, GOP: time.Second, BitrateKbps: 600}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- cam.Run(ctx) }()
		return func() { cancel(); <-done }
	}
	stop := startCam()
	s, err := demo.NewScene(scene)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, filepath.Join(t.TempDir(), "hallwatch.db"))
	cfg.Ingest.BackoffMin, cfg.Ingest.BackoffMax = config.Duration(100*time.Millisecond), config.Duration(500*time.Millisecond)
	cfg.Districts = []config.District{{ID: "dongcheng", Name: "东城区", Centers: []config.Center{{ID: "jingshan", Name: "景山",
		Cameras: []config.Camera{{ID: "hall", Name: "大厅", URL: "rtsp://" + addr + "/hall", Transport: "tcp", Analytics: s.Analytics()}}}}}}
	r := startServiceConfig(t, cfg)
	staffed := func() bool {
		for _, w := range r.svc.alerts.Board("jingshan") {
			if w.State != events.StateStaffed {
				return false
			}
		}
		return true
	}
	waitFor(t, "every window staffed", 30*time.Second, staffed)
	stop()
	stop = startCam() // back within a moment
	defer func() { stop() }()
	waitFor(t, "the windows checked again after the reconnect", 30*time.Second, func() bool {
		evs, err := r.svc.store.Events(context.Background(), store.EventQuery{Types: []string{events.TypeWindow}})
		if err != nil {
			return false
		}
		n := 0
		for _, e := range evs {
			if e.State == events.StateChecking {
				n++
			}
		}
		return n >= 2*len(s.Analytics().Windows) // at the start and after the reconnect
	})
	waitFor(t, "every window staffed again", 30*time.Second, staffed)
	evs, err := r.svc.store.Events(context.Background(), store.EventQuery{Types: []string{events.TypeWindow}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.State == events.StateAbsent {
			t.Errorf("window %s reported absent at %s", e.Window, e.Time.Format("15:04:05.0"))
		}
	}
	if alerts, err := r.svc.store.Alerts(context.Background(), store.AlertQuery{}); err != nil || len(alerts) > 0 {
		t.Errorf("alerts %+v, %v: want none", alerts, err)
	}
}
