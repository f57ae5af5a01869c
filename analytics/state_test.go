package analytics

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// TestMotionStateAcrossRestarts: with the motion detector, a clerk walks in
// and sits still; the service saves its state and stops. A second run on
// the same camera, the clerk still sitting there motionless from its first
// frame:
//   - with the saved state it knows the chair's empty picture: the window
//     is checked and staffed, never absent, no alert;
//   - without it, the window is unknown (the detector cannot tell), never
//     absent, no alert;
//   - with the state of a camera since moved, the background does not fit
//     and is not taken: unknown, as without.
func TestMotionStateAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	first := newGhostRig(t)
	for i := 0; i < 25; i++ { // empty hall
		first.step(false, 0, 0)
	}
	for i := 30; i >= 1; i-- { // walks in and sits down
		first.step(true, 165+4*i, 170)
	}
	for i := 0; i < 100; i++ { // sits still 20 s
		first.step(true, 165, 170)
	}
	if st := first.an.Windows()[0]; st.State != events.StateStaffed {
		t.Fatalf("first run: %+v, want staffed (events %s)", st, summary(first.log))
	}
	if err := first.an.SaveState(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"hall1.json", "hall1.background.png", "hall1.view.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("state file %s: %v", f, err)
		}
	}

	second := func(name string, load string, shift int) []events.Event {
		r := newGhostRig(t)
		r.shift = shift
		if load != "" {
			if err := r.an.LoadState(load); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 150; i++ { // 30 s, the clerk still from the first frame
			r.step(true, 165, 170)
		}
		for _, e := range r.log {
			if e.Type == events.TypeAlert || (e.Type == events.TypeWindow && e.State == events.StateAbsent) {
				t.Errorf("%s: %s at %.1f s (events %s)", name, e.State, e.T, summary(r.log))
				break
			}
		}
		return r.log
	}
	evs := second("with the saved state", dir, 0)
	if got := summary(evs); len(evs) < 2 || evs[len(evs)-1].State != events.StateStaffed || evs[0].State != events.StateChecking {
		t.Errorf("with the saved state: %s, want checking then staffed", got)
	}
	for name, load := range map[string]string{"without state": "", "camera moved": dir} {
		shift := 0
		if name == "camera moved" {
			shift = 40
		}
		evs := second(name, load, shift)
		if n := len(evs); n == 0 || evs[n-1].State != events.StateUnknown || evs[n-1].Reason != reasonCannotTell {
			t.Errorf("%s: %s, want unknown: the detector cannot tell", name, summary(evs))
		}
	}

	// A state file of another camera, or garbage, is an error naming it.
	if err := os.WriteFile(filepath.Join(dir, "hall1.json"), []byte(`{"camera":"hall2"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := newGhostRig(t).an.LoadState(dir); err == nil {
		t.Error("another camera's state taken")
	}
}
