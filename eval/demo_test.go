package eval

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/demo"
)

// TestDemoAccuracy plays the simulated hall (clerks walking in after
// opening, one clerk who never moves, absences long and short; analysis
// joining late; clerks seated before it starts) through the analyzer at
// 5 fps, as the live service runs it, and scores it against the scene's own
// ground truth. Thresholds are a little under what it measures.
func TestDemoAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 22 minutes of hall video")
	}
	for _, sc := range DemoScenarios {
		r, err := RunDemo(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: door %v; alerts %v, raised %d of %d, max raise delay %.1f s; windows wrongly absent %.1f of %.1f s seated (still clerk %.1f of %.1f s), %.1f s seated unseen; decoded %d of %d units",
			sc.Name, r.Crossings, r.Alerts, r.Raised, r.Truth, r.MaxRaiseDelay, r.WrongAbsent, r.Seated, r.StillWrongAbsent, r.StillSeated, r.Unseen, r.Decoded, r.Units)
		for _, m := range r.Misses {
			t.Log(m)
		}
		// A visitor every 3-6 s: people leave in file, one behind the
		// other, and overlap in the image.
		doorF1 := 0.92
		if sc.Scene.VisitorInterval.Max <= 6*time.Second {
			doorF1 = 0.85
		}
		if r.Crossings.TP+r.Crossings.FN < 30 {
			t.Errorf("%s: only %d door crossings in the truth: the scenario does not exercise counting", sc.Name, r.Crossings.TP+r.Crossings.FN)
		}
		if f := r.Crossings.F1(); f < doorF1 {
			t.Errorf("%s: door crossing F1 %.3f < %.2f", sc.Name, f, doorF1)
		}
		if r.Truth < 8 || r.Raised != r.Truth {
			t.Errorf("%s: raised %d of %d ground-truth unstaffed alerts within %.0f s", sc.Name, r.Raised, r.Truth, AlertTolerance)
		}
		if r.Alerts.FP != 0 {
			t.Errorf("%s: %d alert events with no ground-truth counterpart", sc.Name, r.Alerts.FP)
		}
		if minStill := min(60, sc.Duration.Seconds()/4); r.StillSeated < minStill || r.StillWrongAbsent > 0.5 {
			t.Errorf("%s: still clerk's window not staffed for %.1f of %.1f s seated (want seated ≥ %.0f s)", sc.Name, r.StillWrongAbsent, r.StillSeated, minStill)
		}
		if r.WrongAbsent > 1 {
			t.Errorf("%s: windows not staffed for %.1f of %.1f s while a clerk sat there", sc.Name, r.WrongAbsent, r.Seated)
		}
		if seatedBefore := sc.Scene.ClerksArrive.Max == 0; seatedBefore != (r.Unseen > 60) {
			t.Errorf("%s: clerks seated before analysis %v, %.1f s seated unseen", sc.Name, seatedBefore, r.Unseen)
		}
	}
}

// TestDemoAlertsOptional: an absence that lasted absent_after give or take
// AlertTolerance makes optional alerts; shorter ones none, longer ones due
// alerts, raised absent_after into them and resolved resolve_confirm after
// the return.
func TestDemoAlertsOptional(t *testing.T) {
	const fps = 5
	rule := PresenceRule{MinStaff: 1, AbsentAfter: 10, ResolveConfirm: 5}
	var counts []int
	run := func(n, seconds int) {
		for range seconds * fps {
			counts = append(counts, n)
		}
	}
	run(1, 10)
	run(0, 7) // 7 s away: nothing
	run(1, 10)
	run(0, 11) // 11 s: optional
	run(1, 10)
	run(0, 20) // 20 s: due
	run(1, 10)
	const first = 101 // the counts begin at frame 101
	items, optional := demoAlerts(counts, first, fps, rule)
	type alert struct {
		frame    int
		label    string
		optional bool
	}
	var got []alert
	for i, it := range items {
		got = append(got, alert{it.Frame, it.Label, optional[i]})
	}
	at := func(seconds float64) int { return first + int(seconds*fps) }
	want := []alert{
		{at(27 + 10), "raised", true}, {at(27 + 11 + 5), "resolved", true},
		{at(48 + 10), "raised", false}, {at(48 + 20 + 5), "resolved", false},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}

	// An optional alert predicted scores as found, one not predicted is no miss.
	s, _, misses := matchUpTo(1000, "w1", items, optional, items[2:], 10, fps)
	if s != (Score{TP: 2}) || len(misses) != 0 {
		t.Fatalf("optional alerts not predicted: %v, misses %q", s, misses)
	}
	s, _, _ = matchUpTo(1000, "w1", items, optional, items, 10, fps)
	if s != (Score{TP: 4}) {
		t.Fatalf("all predicted: %v", s)
	}
}

// TestDemoGatingKeepsAccuracy runs a quiet hall (a visitor every 1.5-3
// minutes, a real center sees 30-50 a day; clerks away now and then) through the live pipeline with and without gating
// (analytics.idle_after): gating must leave stretches undecoded and find
// the same crossings, alerts and staffed windows within 0.01 of F1.
func TestDemoGatingKeepsAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates 16 minutes of hall video")
	}
	sc := DemoScenario{Name: "seed 4, quiet hall, H.264", Duration: 8 * time.Minute, Codec: true,
		Scene: demo.SceneOptions{Seed: 4, ClerksArrive: demo.Range{Min: time.Second, Max: 5 * time.Second},
			VisitorInterval:   demo.Range{Min: 90 * time.Second, Max: 3 * time.Minute},
			ClerkAwayInterval: demo.Range{Min: 4 * time.Minute, Max: 8 * time.Minute}}}
	run := func(ungated bool) DemoReport {
		sc := sc
		sc.Ungated = ungated
		r, err := RunDemo(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ungated %v: door %v; alerts %v, raised %d of %d; wrongly absent %.1f of %.1f s; decoded %d of %d units",
			ungated, r.Crossings, r.Alerts, r.Raised, r.Truth, r.WrongAbsent, r.Seated, r.Decoded, r.Units)
		for _, m := range r.Misses {
			t.Log(m)
		}
		return r
	}
	base, gated := run(true), run(false)
	if share := float64(gated.Decoded) / float64(gated.Units); share > 0.8 {
		t.Errorf("gated: decoded %.0f%% of the units of a quiet hall", 100*share)
	}
	if base.Crossings.TP+base.Crossings.FN < 4 {
		t.Errorf("only %d crossings in the truth", base.Crossings.TP+base.Crossings.FN)
	}
	if d := gated.Crossings.F1() - base.Crossings.F1(); d < -0.01 {
		t.Errorf("gating lost %.3f of crossing F1 (%.3f → %.3f)", -d, base.Crossings.F1(), gated.Crossings.F1())
	}
	if d := gated.Alerts.F1() - base.Alerts.F1(); d < -0.01 {
		t.Errorf("gating lost %.3f of alert F1 (%.3f → %.3f)", -d, base.Alerts.F1(), gated.Alerts.F1())
	}
	if gated.WrongAbsent > base.WrongAbsent+1 {
		t.Errorf("gated: windows wrongly absent %.1f s, ungated %.1f s", gated.WrongAbsent, base.WrongAbsent)
	}
}
