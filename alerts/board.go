package alerts

import (
	"context"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/ingest"
)

// Board returns every service window of a center with its live state, in
// configuration order. Windows not analysed yet are unknown.
func (m *Manager) Board(center string) []WindowView {
	_, c, ok := m.o.Config.Center(center)
	if !ok {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []WindowView
	for _, cam := range c.Cameras {
		if cam.Analytics == nil {
			continue
		}
		for _, w := range cam.Analytics.Windows {
			st, seen := m.windows[windowKey{cam.ID, w.ID}]
			v := WindowView{Camera: cam.ID, Window: w.ID, Name: w.Name, State: events.StateUnknown,
				MinStaff: w.MinStaff, AbsentFor: w.AbsentAfter.D().Seconds(), Backup: w.Backup}
			if seen {
				v.State, v.Reason, v.Count, v.Since, v.Alerting = st.State, st.Reason, st.Count, st.Since, st.Alerting
			}
			if id, open := m.open[alertKey{events.KindUnstaffed, cam.ID, w.ID}]; open {
				v.Alerting, v.AlertID = true, id
			}
			out = append(out, v)
		}
	}
	return out
}

// pollInterval is how often camera states are checked: offline alerts, and
// the camera messages that live pages show a camera going down by.
const pollInterval = time.Second

// Run raises a camera_offline alert for a camera that has not been live for
// alerts.camera_offline_after, resolves it when the camera is back, and
// publishes camera state changes. It returns when ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		for _, ref := range m.o.Config.Cameras() {
			if err := m.checkCamera(ctx, ref); err != nil {
				m.o.Log.Error("camera offline alert", "camera", ref.Camera.ID, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (m *Manager) checkCamera(ctx context.Context, ref config.CameraRef) error {
	st, ok := m.o.Status(ref.Camera.ID)
	if !ok {
		return nil
	}
	m.mu.Lock()
	changed := m.online[ref.Camera.ID] != st.State
	m.online[ref.Camera.ID] = st.State
	m.mu.Unlock()
	if changed {
		m.publish(ref, "camera", m.o.Now(), cameraView{State: st.State, Since: st.Since, LastError: st.LastError})
	}
	key := alertKey{events.KindCameraOffline, ref.Camera.ID, ""}
	if st.State == ingest.StateLive {
		return m.resolve(ctx, ref, key, m.o.Now())
	}
	// A camera that never came up counts from when hallwatch started trying.
	if !st.Since.IsZero() && m.o.Now().Sub(st.Since) >= m.o.Config.Alerts.CameraOfflineAfter.D() {
		return m.raise(ctx, ref, key, m.o.Now(), func() []byte { return nil })
	}
	return nil
}

// Reannounce makes the next camera check publish camera's state again,
// though it did not change: something else live pages show of the camera
// did (its analysis restarted after a panic), and a camera message makes
// them reload it.
func (m *Manager) Reannounce(camera string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.online, camera)
}

type cameraView struct {
	State     ingest.State `json:"state"`
	Since     time.Time    `json:"since"`
	LastError string       `json:"last_error,omitempty"`
}
