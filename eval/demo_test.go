package eval

import (
	"context"
	"testing"
)

// TestDemoAccuracy plays the simulated hall (clerks walking in after
// opening, one clerk who never moves, absences long and short) through the
// analyzer at 5 fps, as the live service runs it, and scores it against the
// scene's own ground truth. Thresholds are a little under what it measures.
func TestDemoAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 13 minutes of hall video")
	}
	for _, sc := range DemoScenarios {
		r, err := RunDemo(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: door %v; alerts %v, raised %d of %d, max raise delay %.1f s; windows wrongly absent %.1f of %.1f s seated (still clerk %.1f of %.1f s)",
			sc.Name, r.Crossings, r.Alerts, r.Raised, r.Truth, r.MaxRaiseDelay, r.WrongAbsent, r.Seated, r.StillWrongAbsent, r.StillSeated)
		for _, m := range r.Misses {
			t.Log(m)
		}
		if r.Crossings.TP+r.Crossings.FN < 30 {
			t.Errorf("%s: only %d door crossings in the truth: the scenario does not exercise counting", sc.Name, r.Crossings.TP+r.Crossings.FN)
		}
		if f := r.Crossings.F1(); f < 0.92 {
			t.Errorf("%s: door crossing F1 %.3f < 0.92", sc.Name, f)
		}
		if r.Truth < 8 || r.Raised != r.Truth {
			t.Errorf("%s: raised %d of %d ground-truth unstaffed alerts within %.0f s", sc.Name, r.Raised, r.Truth, AlertTolerance)
		}
		if r.Alerts.FP != 0 {
			t.Errorf("%s: %d alert events with no ground-truth counterpart", sc.Name, r.Alerts.FP)
		}
		if r.StillSeated < 60 || r.StillWrongAbsent > 0.5 {
			t.Errorf("%s: still clerk's window not staffed for %.1f of %.1f s seated", sc.Name, r.StillWrongAbsent, r.StillSeated)
		}
		if r.WrongAbsent > 1 {
			t.Errorf("%s: windows not staffed for %.1f of %.1f s while a clerk sat there", sc.Name, r.WrongAbsent, r.Seated)
		}
	}
}
