package service

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/models"
	"github.com/hallwatch/hallwatch/store"
)

// faultyDetector is the configured detector with a fault to arm: each
// Detect while faults are left panics, as a bug in the analysis would. No
// real peer makes a bug on demand, so this is the seam.
type faultyDetector struct {
	analytics.Detector
	faults *atomic.Int32
}

func (d faultyDetector) Detect(frame gocv.Mat) ([]analytics.Detection, error) {
	if d.faults.Load() > 0 {
		d.faults.Add(-1)
		var windows []int
		_ = windows[len(windows)] // the fault of d05f002, met again
	}
	return d.Detector.Detect(frame)
}

// withFaultyDetector makes a camera's analysis build its analyzers around
// a faultyDetector (the one New built is replaced before Run).
func withFaultyDetector(t *testing.T, s *Service, camera string, faults *atomic.Int32) {
	t.Helper()
	a := s.cameras[camera].analysis
	a.build = func() (*analytics.Analyzer, analytics.DetectorChoice, error) {
		o, choice, err := analytics.CameraAnalyzerOptions(a.ref, s.cfg.Detector, s.cfg.Alerts)
		if err != nil {
			return nil, choice, err
		}
		o.Detector = faultyDetector{Detector: o.Detector, faults: faults}
		an, err := analytics.NewAnalyzer(o)
		if err != nil {
			o.Detector.Close()
		}
		return an, choice, err
	}
	old, pipeline := a.parts()
	if err := a.start(a.build); err != nil {
		t.Fatal(err)
	}
	pipeline.Close()
	old.Close()
}

// TestAnalysisPanicCostsOnlyTheAnalysis: the analysis of a hall whose
// clerks sit (one of them still) panics twice, as a bug would. The service
// goes on: the viewer watching the hall keeps its stream, the analysis
// starts over from the saved state after a backoff and finds every clerk
// again, no window is reported absent and no alert is raised, and the
// camera status, the metrics, the log and the center manager's board say
// what happened.
func TestAnalysisPanicCostsOnlyTheAnalysis(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated hall in real time")
	}
	truth, cfg := seatedHall(t)
	var faults atomic.Int32
	r := startServiceConfig(t, cfg, func(s *Service) { withFaultyDetector(t, s, "hall", &faults) })
	viewer, _, _ := r.watch(t, "hall")

	staffed := func() bool { return allStaffed(r) }
	waitFor(t, "every window staffed", 60*time.Second, staffed)
	analysed := r.svc.cameras["hall"].analysis.Status().Analysed
	units := viewer.Stats().Units

	// The center manager watches the board through the panics: it must
	// tell them without a reload.
	user, pw := pageUser(t, r, "zhang", auth.RoleCenterManager, auth.UserScope{Centers: []string{"jingshan"}})
	p := openPage(t, r.base)
	p.login(user, pw)
	windows := len(cfg.Districts[0].Centers[0].Cameras[0].Analytics.Windows)
	boardSays := func(words string) string {
		return fmt.Sprintf(`document.querySelector("[data-camera=hall] [data-restarts='2']")?.textContent.includes(%q) &&
			document.querySelectorAll("#windows .win[data-state=staffed]").length === %d`, words, windows)
	}
	p.resize(browser.Desktop)
	p.setLang("zh")
	p.open("/board.html?center=jingshan")
	waitJS(p.ctx, t, "board with every window staffed, no restart", 20*time.Second, fmt.Sprintf(
		`document.querySelectorAll("#windows .win[data-state=staffed]").length === %d && !document.querySelector("[data-restarts]")`, windows))

	cameraMessages := r.svc.bus.Subscribe(16, func(m eventbus.Message) bool { return m.Type == "camera" && m.Camera == "hall" })
	defer cameraMessages.Close()
	faults.Store(2)
	waitFor(t, "the analysis restarted after both panics", 60*time.Second, func() bool {
		return r.camera(t, "hall", "analysis")["restarts"] == 2.0
	})
	if a := r.camera(t, "hall", "analysis"); !strings.Contains(fmt.Sprint(a["last_panic"]), "index out of range") || a["last_panic_at"] == nil {
		t.Errorf("camera status analysis %v: want the last panic and when", a)
	}
	waitFor(t, "the analysis going on and every window staffed again", 60*time.Second, func() bool {
		return r.svc.cameras["hall"].analysis.Status().Analysed > analysed+10 && staffed()
	})
	// The totals span the restarts: this detector (the wrapper hides the
	// person model's skips) looked at every frame analysed.
	if a := r.camera(t, "hall", "analysis"); a["looks"] != a["analysed"] {
		t.Errorf("camera status analysis %v: looks %v of %v analysed, want all", a, a["looks"], a["analysed"])
	}

	stillRunning(t, r)
	viewer.Wait(t, 10, 20*time.Second)
	if st := viewer.State().String(); st != "connected" || viewer.Stats().Units <= units {
		t.Errorf("viewer %s with %d units (%d before the panics): the live view must go on", st, viewer.Stats().Units, units)
	}
	if m := r.metricValues(t, "hallwatch_analysis_restarts_total"); m[`camera="hall"`] != 2 {
		t.Errorf("hallwatch_analysis_restarts_total %v, want 2 for hall", m)
	}
	if log := r.logs.String(); strings.Count(log, "analysis panicked") != 2 || !strings.Contains(log, "faultyDetector.Detect") {
		t.Errorf("the log does not tell both panics with their stack:\n%s", log)
	}

	seatedThroughout(t, r, truth)

	// The camera stayed live, and a camera message told the live pages
	// to reload it after the restarts.
	n := 0
	for len(cameraMessages.C()) > 0 {
		m := <-cameraMessages.C()
		n++
		if !strings.Contains(string(m.Data), `"state":"live"`) {
			t.Errorf("camera message %s: the camera went down during the panics", m.Data)
		}
	}
	if n == 0 {
		t.Errorf("no camera message after the analysis restarts: open boards would show them only on their next periodic reload")
	}
	// The board open through the panics says so, and so does one opened
	// now, in both languages and at both sizes, with the windows staffed.
	waitJS(p.ctx, t, "the open board with the restarts and every window staffed", 20*time.Second, boardSays("自动重启 2 次"))
	p.checkLayout("board after analysis restarts", placeNames(cfg, user))
	p.shot("board-analysis-restarted")
	p.resize(browser.Phone)
	p.setLang("en")
	p.open("/board.html?center=jingshan")
	waitJS(p.ctx, t, "en board with the restarts and every window staffed", 20*time.Second, boardSays("restarted 2×"))
	p.checkLayout("board after analysis restarts", placeNames(cfg, user))
	p.shot("board-analysis-restarted")
	p.check()
}

// TestAnalysisRestartWithoutItsModel: the person model named in the
// configuration (kind yolo) is removed from disk while the service runs,
// then the analysis panics. The restart cannot load the model again: the
// motion detector watches the windows instead of the whole service
// stopping, and the camera status and the log say so and why.
func TestAnalysisRestartWithoutItsModel(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a simulated hall in real time")
	}
	truth, cfg := seatedHall(t)
	dir := t.TempDir()
	cfgFile, weights := models.Body()
	cfg.Detector.Kind = analytics.KindYOLO
	cfg.Detector.Model, cfg.Detector.Weights = filepath.Join(dir, "body.cfg"), filepath.Join(dir, "body.weights")
	for file, data := range map[string][]byte{cfg.Detector.Model: cfgFile, cfg.Detector.Weights: weights} {
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var faults atomic.Int32
	r := startServiceConfig(t, cfg, func(s *Service) { withFaultyDetector(t, s, "hall", &faults) })
	waitFor(t, "every window staffed", 60*time.Second, func() bool { return allStaffed(r) })
	if a := r.camera(t, "hall", "analysis"); a["detector"] != analytics.KindYOLO {
		t.Fatalf("camera status analysis %v: want the configured person model", a)
	}

	if err := os.Remove(cfg.Detector.Model); err != nil {
		t.Fatal(err)
	}
	faults.Store(1)
	waitFor(t, "the analysis restarted with the motion detector", 60*time.Second, func() bool {
		a := r.camera(t, "hall", "analysis")
		return a["restarts"] == 1.0 && a["detector"] == analytics.KindMotion
	})
	if a := r.camera(t, "hall", "analysis"); a["fallback"] != true ||
		!strings.Contains(fmt.Sprint(a["reason"]), "failed to build again after a panic") ||
		!strings.Contains(fmt.Sprint(a["reason"]), cfg.Detector.Model) {
		t.Errorf("camera status analysis %v: want the fallback, naming the missing file", a)
	}
	analysed := r.svc.cameras["hall"].analysis.Status().Analysed
	waitFor(t, "the motion detector analysing", 30*time.Second, func() bool {
		return r.svc.cameras["hall"].analysis.Status().Analysed > analysed+10
	})
	stillRunning(t, r)
	if log := r.logs.String(); !strings.Contains(log, "falling back") || !strings.Contains(log, cfg.Detector.Model) {
		t.Errorf("the log does not tell the fallback and the missing file:\n%s", log)
	}
	seatedThroughout(t, r, truth)
}

// allStaffed reports whether the board of the seated hall's center has
// every window staffed.
func allStaffed(r *rig) bool {
	board := r.svc.alerts.Board("jingshan")
	for _, w := range board {
		if w.State != events.StateStaffed {
			return false
		}
	}
	return len(board) > 0
}

// stillRunning fails the test if the service stopped.
func stillRunning(t *testing.T, r *rig) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		t.Fatalf("the service stopped: %v", err)
	default:
	}
}

// seatedThroughout checks a hall whose clerks sat throughout: no window
// reported absent while its clerk sat there, no alert raised. It returns
// the window events it checked.
func seatedThroughout(t *testing.T, r *rig, truth *truthLog) []store.StoredEvent {
	t.Helper()
	runs := windowRuns(truth.all())
	evs, err := r.svc.store.Events(context.Background(), store.EventQuery{Types: []string{events.TypeWindow}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if run, ok := at(runs[e.Window], e.Time); e.State == events.StateAbsent && ok && run.occupied {
			t.Errorf("window %s reported absent at %s while its clerk sat there", e.Window, e.Time.Format("15:04:05.0"))
		}
	}
	alerts, err := r.svc.store.Alerts(context.Background(), store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		t.Errorf("alert %s at %s/%s raised %s", a.Kind, a.Camera, a.Window, a.RaisedAt.Format("15:04:05"))
	}
	return evs
}
