package ingest

import (
	"math"
	"testing"
	"time"
)

func TestStatusRates(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	st := newStatusTracker("cam", t0)
	if s := st.snapshot(t0); s.State != StateConnecting || !s.Since.Equal(t0) {
		t.Fatalf("initial status %+v", s)
	}
	live := t0.Add(time.Second)
	st.setState(StateLive, live)

	// 15 units a second of 1000 bytes: 15 fps, 120 kbit/s.
	frame := time.Second / 15
	now := live
	for now.Before(live.Add(10 * time.Second)) {
		st.frame(now, 1000)
		now = now.Add(frame)
	}
	s := st.snapshot(now)
	if math.Abs(s.FPS-15) > 0.5 || math.Abs(s.BitrateKbps-120) > 4 {
		t.Errorf("steady: %.2f fps, %.1f kbit/s; want 15, 120", s.FPS, s.BitrateKbps)
	}
	if !s.LastFrame.Equal(now.Add(-frame)) {
		t.Errorf("last frame %v", s.LastFrame)
	}

	// Shortly after going live the rate is not diluted by the empty window.
	st2 := newStatusTracker("cam", t0)
	st2.setState(StateLive, t0)
	for i := range 15 {
		st2.frame(t0.Add(time.Duration(i)*frame), 1000)
	}
	if s := st2.snapshot(t0.Add(time.Second)); math.Abs(s.FPS-15) > 1 {
		t.Errorf("first second: %.2f fps, want 15", s.FPS)
	}

	// Offline: no rates, since = the failure time; it stays while retrying.
	off := now.Add(time.Second)
	st.fail("connection lost: EOF", off)
	st.fail("dial tcp: connection refused", off.Add(5*time.Second))
	s = st.snapshot(off.Add(6 * time.Second))
	if s.State != StateOffline || !s.Since.Equal(off) || s.FPS != 0 || s.BitrateKbps != 0 || s.LastError != "dial tcp: connection refused" {
		t.Errorf("offline status %+v", s)
	}
}
