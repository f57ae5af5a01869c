package alerts

import (
	"context"
	"fmt"
	"slices"

	"github.com/hallwatch/hallwatch/events"
)

// A cluster's nodes run different cameras, and every node shows every
// camera: the node running a camera tells the others its State, which
// they Mirror. A node taking a camera over restores its open alerts from
// the database (RestoreCamera) and continues them.

// OpenAlert is an alert open on a camera.
type OpenAlert struct {
	ID     int64  `json:"id"`
	Kind   string `json:"kind"`
	Window string `json:"window,omitempty"`
}

// CameraState is a camera's live alert side: its windows and open alerts.
type CameraState struct {
	Windows []events.WindowStatus `json:"windows"`
	Open    []OpenAlert           `json:"open"`
}

// State returns a camera's windows and open alerts as this node knows them.
func (m *Manager) State(camera string) CameraState {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := CameraState{Windows: []events.WindowStatus{}, Open: []OpenAlert{}}
	for k, w := range m.windows {
		if k.camera == camera {
			st.Windows = append(st.Windows, w)
		}
	}
	for k, id := range m.open {
		if k.camera == camera {
			st.Open = append(st.Open, OpenAlert{ID: id, Kind: k.kind, Window: k.window})
		}
	}
	slices.SortFunc(st.Windows, func(a, b events.WindowStatus) int { return compare(a.Window, b.Window) })
	slices.SortFunc(st.Open, func(a, b OpenAlert) int { return compare(a.Kind+a.Window, b.Kind+b.Window) })
	return st
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Mirror replaces a camera's windows and open alerts with those of the
// node running it.
func (m *Manager) Mirror(camera string, st CameraState) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(camera, true)
	for _, w := range st.Windows {
		m.windows[windowKey{camera, w.Window}] = w
	}
	for _, a := range st.Open {
		m.open[alertKey{a.Kind, camera, a.Window}] = a.ID
	}
}

// Release forgets a camera's live windows (unknown until its next node
// tells them) and its published camera state, once this node no longer
// runs it. Its open alerts stay: they are still open.
func (m *Manager) Release(camera string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.forgetLocked(camera, false)
	delete(m.online, camera)
}

// forgetLocked drops a camera's windows, and its open alerts too if
// alerts; m.mu held.
func (m *Manager) forgetLocked(camera string, alerts bool) {
	for k := range m.windows {
		if k.camera == camera {
			delete(m.windows, k)
		}
	}
	if !alerts {
		return
	}
	for k := range m.open {
		if k.camera == camera {
			delete(m.open, k)
		}
	}
}

// OpenWindows lists the windows of camera whose alert of kind is open:
// restored from the database (Restore, RestoreCamera) or raised since.
func (m *Manager) OpenWindows(camera, kind string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ws []string
	for k := range m.open {
		if k.camera == camera && k.kind == kind {
			ws = append(ws, k.window)
		}
	}
	return ws
}

// RestoreCamera loads a camera's open alerts from the database, for a node
// taking the camera over: the alerts the previous node raised stay open
// and are resolved here when their cause ends.
func (m *Manager) RestoreCamera(ctx context.Context, camera string) error {
	open, err := m.o.Store.OpenAlerts(ctx)
	if err != nil {
		return fmt.Errorf("alerts: restore open alerts of camera %s: %w", camera, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.open {
		if k.camera == camera {
			delete(m.open, k)
		}
	}
	for _, a := range open {
		if a.Camera == camera {
			m.open[alertKey{a.Kind, a.Camera, a.Window}] = a.ID
		}
	}
	return nil
}
