package analytics_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/eval"
	"github.com/hallwatch/hallwatch/events"
)

// TestAnalyzeFilePETS runs `hallwatch analyze` as configured by default
// (yolo, 5 analysed frames a second) over PETS09-S2L1 and scores its JSON
// Lines against truth derived from gt.txt.
func TestAnalyzeFilePETS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs yolo over PETS09-S2L1")
	}
	dir := filepath.Join(eval.TestdataDir(), "pets09-s2l1")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("%s absent (set HALLWATCH_TESTDATA): %v", dir, err)
	}
	seq, err := eval.LoadSequence(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Detector.Kind = analytics.KindYOLO
	cfg.Alerts.ResolveConfirm = config.Duration(time.Second)
	cfg.Districts = []config.District{{ID: "d", Name: "D", Centers: []config.Center{{ID: "c", Name: "C", Cameras: []config.Camera{
		{ID: "pets", Analytics: &config.Analytics{
			FPS:   analytics.DefaultFPS,
			Lines: []config.Line{eval.PETSLineV400},
			Windows: []config.Window{
				{ID: "z2", Zone: eval.PETSZoneZ2, AbsentAfter: config.Duration(5 * time.Second), MinStaff: 1},
				{ID: "busy", Zone: eval.PETSZoneBusy, AbsentAfter: config.Duration(5 * time.Second), MinStaff: 1},
			},
		}},
	}}}}}
	var out bytes.Buffer
	sum, err := analytics.AnalyzeFile(context.Background(), analytics.AnalyzeOptions{
		Config: cfg, CameraID: "pets", Input: seq.Video, Out: &out,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Frames != 795 || sum.Processed != 398 {
		t.Fatalf("summary %+v: want 795 frames, 398 analysed", sum)
	}
	evs := readEvents(t, out.Bytes(), 10)

	var truth, pred []eval.Item
	for _, c := range eval.Crossings(eval.Trajectories(seq.Boxes, seq.Width, seq.Height), eval.PETSLineV400) {
		truth = append(truth, eval.Item{Frame: c.Frame, Label: c.Direction})
	}
	alerts := map[string][]eval.Item{}
	for _, e := range evs {
		switch e.Type {
		case events.TypeCrossing:
			pred = append(pred, eval.Item{Frame: e.Frame, Label: e.Direction})
		case events.TypeAlert:
			alerts[e.Window] = append(alerts[e.Window], eval.Item{Frame: e.Frame, Label: e.State})
		}
	}
	crossings, _ := eval.Match(truth, pred, 15)
	t.Logf("v400 crossings at 5 fps: %v", crossings)
	if crossings.F1() < 0.88 {
		t.Errorf("v400 crossing F1 %.3f < 0.88", crossings.F1())
	}

	rule := eval.PresenceRule{MinStaff: 1, AbsentAfter: 5, ResolveConfirm: 1}
	var want []eval.Item
	for _, a := range eval.ExpectedAlerts(eval.Occupancy(seq.Boxes, seq.Width, seq.Height, seq.Frames, eval.PETSZoneZ2), 10, rule) {
		want = append(want, eval.Item{Frame: a.Frame, Label: a.State})
	}
	z2, _ := eval.Match(want, alerts["z2"], 20) // ±2 s
	t.Logf("z2 alerts: %v", z2)
	if z2.FN != 0 || z2.FP != 0 {
		t.Errorf("z2: truth %v, got %v", want, alerts["z2"])
	}
	if len(alerts["busy"]) != 0 {
		t.Errorf("alerts on the always-occupied zone: %v", alerts["busy"])
	}
}
