package eval

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// requireData skips unless the clips are present.
func requireData(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(TestdataDir(), "pets09-s2l1")); err != nil {
		t.Skipf("test data absent (set HALLWATCH_TESTDATA): %v", err)
	}
}

// TestRunAccuracy runs the whole evaluation (every frame, both detectors)
// and holds it to thresholds a little under what it measures; the truth is
// derived from gt.txt, never from our own output.
func TestRunAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the detectors over 974 frames")
	}
	requireData(t)
	var out bytes.Buffer
	reports, err := Run(context.Background(), Options{Out: &out, NoDemo: true}) // TestDemoAccuracy scores the demo
	if err != nil {
		t.Fatal(err)
	}
	t.Log(out.String())
	min := map[string]struct{ pets, tud float64 }{
		"yolo":   {0.90, 0.80},
		"motion": {0.85, 0.60},
	}
	for _, r := range reports {
		if f := r.PETSCrossing.F1(); f < min[r.Detector].pets {
			t.Errorf("%s: PETS v400 crossing F1 %.3f < %.2f", r.Detector, f, min[r.Detector].pets)
		}
		if f := r.TUDCrossing.F1(); f < min[r.Detector].tud {
			t.Errorf("%s: TUD v480 crossing F1 %.3f < %.2f", r.Detector, f, min[r.Detector].tud)
		}
		if r.Z2Truth != 3 || r.Z2Raised != r.Z2Truth {
			t.Errorf("%s: z2 raised %d of %d ground-truth alerts within 2 s", r.Detector, r.Z2Raised, r.Z2Truth)
		}
		if r.Z2Alerts.FP != 0 {
			t.Errorf("%s: z2 has %d alert events with no ground-truth counterpart", r.Detector, r.Z2Alerts.FP)
		}
		if r.BusyAlerts != 0 {
			t.Errorf("%s: %d false alerts on the always-occupied zone", r.Detector, r.BusyAlerts)
		}
	}
}
