package analytics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"gocv.io/x/gocv"
)

// What a camera's analysis keeps across restarts (storage.state_dir), so
// that a service restarted while clerks sit still knows as much as before:
//
//   - <camera>.json: when it was saved, which window zones the motion
//     detector could tell empty, the learned view's edge energy, which
//     windows were covered by their backup's clerk (AB post) and when;
//   - <camera>.background.png: the motion detector's empty-hall background
//     (without the people it held);
//   - <camera>.view.png: the learned view, for blocked-view detection.
//
// The person model needs no background: it sees seated people by itself.

// savedState is the JSON part.
type savedState struct {
	Camera      string    `json:"camera"`
	Saved       time.Time `json:"saved"`
	Known       []string  `json:"known_windows,omitempty"`
	ViewEnergy  float64   `json:"view_energy"`
	ViewLearned int       `json:"view_learned"`
	Covered     []string  `json:"covered_windows,omitempty"`
	CoveredAt   time.Time `json:"covered_at,omitzero"`
}

// backgroundKeeper is a detector whose background can be saved and
// restored (the motion detector).
type backgroundKeeper interface {
	Background() gocv.Mat
	Restore(bg gocv.Mat)
	Restored() bool
}

func (a *Analyzer) statePath(dir, suffix string) string {
	return filepath.Join(dir, a.camera+suffix)
}

// SaveState writes the camera's state into dir (created if needed), each
// file replaced whole. Call it from the goroutine that calls Process.
func (a *Analyzer) SaveState(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("camera %s: save analysis state: %w", a.camera, err)
	}
	st := savedState{Camera: a.camera, Saved: now.UTC()}
	view, energy, learned := a.view.saved()
	defer view.Close()
	st.ViewEnergy, st.ViewLearned = energy, learned
	if !view.Empty() {
		if err := writePNG(a.statePath(dir, ".view.png"), view); err != nil {
			return fmt.Errorf("camera %s: save analysis state: %w", a.camera, err)
		}
	}
	if k, ok := a.det.(backgroundKeeper); ok {
		bg := k.Background()
		defer bg.Close()
		if !bg.Empty() {
			if err := writePNG(a.statePath(dir, ".background.png"), bg); err != nil {
				return fmt.Errorf("camera %s: save analysis state: %w", a.camera, err)
			}
		}
		a.mu.Lock()
		for _, w := range a.windows {
			if w.known {
				st.Known = append(st.Known, w.presence.id)
			}
		}
		a.mu.Unlock()
	}
	a.mu.Lock()
	if covered := a.covered(); len(covered) > 0 {
		st.Covered, st.CoveredAt = covered, st.Saved
	} else if a.stopped.windows != nil { // stopped and not resumed yet
		st.Covered, st.CoveredAt = a.stopped.windows, a.stopped.at.UTC()
	}
	a.mu.Unlock()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFile(a.statePath(dir, ".json"), data); err != nil {
		return fmt.Errorf("camera %s: save analysis state: %w", a.camera, err)
	}
	return nil
}

// LoadState reads the camera's state from dir, before the first frame. A
// camera without saved state starts afresh (no error). The motion
// detector's background is taken only if the first frame agrees with it;
// the zones it could tell empty are known again only then.
func (a *Analyzer) LoadState(dir string) error {
	data, err := os.ReadFile(a.statePath(dir, ".json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("camera %s: load analysis state: %w", a.camera, err)
	}
	var st savedState
	if err := json.Unmarshal(data, &st); err != nil || st.Camera != a.camera {
		return fmt.Errorf("camera %s: load analysis state %s: not this camera's state file (%v)", a.camera, a.statePath(dir, ".json"), err)
	}
	if view := readPNG(a.statePath(dir, ".view.png"), gocv.IMReadGrayScale); !view.Empty() {
		a.view.restore(view, st.ViewEnergy, st.ViewLearned)
		view.Close()
	}
	a.mu.Lock()
	if len(st.Covered) > 0 {
		a.stopped = coveredAt{windows: st.Covered, at: st.CoveredAt}
	} else {
		a.stopped = coveredAt{at: st.Saved} // none covered then (CoveredElsewhere)
	}
	a.mu.Unlock()
	if k, ok := a.det.(backgroundKeeper); ok {
		bg := readPNG(a.statePath(dir, ".background.png"), gocv.IMReadColor)
		defer bg.Close()
		if !bg.Empty() {
			k.Restore(bg)
			a.mu.Lock()
			a.pendingKnown = st.Known
			a.mu.Unlock()
		}
	}
	return nil
}

// readPNG reads an image saved by writePNG; empty when there is none (a
// detector or a view that had nothing to save), without OpenCV's warning.
func readPNG(path string, flags gocv.IMReadFlag) gocv.Mat {
	if _, err := os.Stat(path); err != nil {
		return gocv.NewMat()
	}
	return gocv.IMRead(path, flags)
}

// takeKnown marks the zones a restored background shows empty as known,
// once the detector has decided on it (after the first frame).
func (a *Analyzer) takeKnown() {
	k, ok := a.det.(backgroundKeeper)
	a.mu.Lock()
	defer a.mu.Unlock()
	if !ok || a.pendingKnown == nil {
		return
	}
	if k.Restored() {
		for _, w := range a.windows {
			if slices.Contains(a.pendingKnown, w.presence.id) {
				w.known = true
			}
		}
	}
	a.pendingKnown = nil
}

func writePNG(path string, img gocv.Mat) error {
	buf, err := gocv.IMEncode(gocv.PNGFileExt, img)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	defer buf.Close()
	return writeFile(path, buf.GetBytes())
}

// writeFile replaces path with data whole: a crash leaves the old file or
// the new one.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
