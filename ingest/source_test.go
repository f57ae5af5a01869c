package ingest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/internal/testcam"
)

// Bounds for waiting on a real camera; generous because the machine is
// shared. They bound loops; they are not performance assertions.
const (
	waitLive  = 30 * time.Second
	waitUnits = 20 * time.Second
)

// fastRetry keeps reconnect tests short.
var fastRetry = BackoffConfig{Min: 50 * time.Millisecond, Max: 300 * time.Millisecond, StablePeriod: time.Second}

// running is a Source under test with its Run goroutine.
type running struct {
	src    *Source
	hub    *Hub
	logs   *syncbuf.Buffer
	cancel context.CancelFunc
	done   chan error
}

func startSource(t *testing.T, cfg SourceConfig) *running {
	t.Helper()
	if cfg.Camera == "" {
		cfg.Camera = "cam1"
	}
	if cfg.Backoff == (BackoffConfig{}) {
		cfg.Backoff = fastRetry
	}
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := &running{hub: NewHub(cfg.Camera), logs: logs, done: make(chan error, 1)}
	r.src = NewSource(cfg, r.hub, WithLogger(logger))
	if st := r.src.Status(); st.State != StateConnecting {
		t.Fatalf("status before Run = %s, want %s", st.State, StateConnecting)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.src.Run(ctx) }()
	t.Cleanup(func() {
		r.stop(t)
		if t.Failed() {
			t.Logf("source logs:\n%s", logs)
		}
	})
	return r
}

// stop cancels Run and waits for it to return.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok {
			close(r.done)
		}
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("Run did not return within 10s of cancel")
		return nil
	}
}

// waitStatus polls the status until ok accepts it.
func (r *running) waitStatus(t *testing.T, what string, ok func(Status) bool) Status {
	t.Helper()
	deadline := time.Now().Add(waitLive)
	for {
		st := r.src.Status()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never became %s within %v; last: %+v", what, waitLive, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// receive reads n units from sub.
func receive(t *testing.T, sub *Subscription, n int) []*AccessUnit {
	t.Helper()
	timeout := time.After(waitUnits)
	var out []*AccessUnit
	for len(out) < n {
		select {
		case au, ok := <-sub.C():
			if !ok {
				t.Fatalf("subscription closed after %d units", len(out))
			}
			out = append(out, au)
		case <-timeout:
			t.Fatalf("got %d of %d units within %v", len(out), n, waitUnits)
		}
	}
	return out
}

func naluTypes264(au *AccessUnit) []int {
	var ts []int
	for _, n := range au.NALUs {
		ts = append(ts, int(n[0]&0x1f))
	}
	return ts
}

func checkH264Units(t *testing.T, units []*AccessUnit) {
	t.Helper()
	if !units[0].Key {
		t.Fatalf("first unit is not a key frame: NALU types %v", naluTypes264(units[0]))
	}
	keys := 0
	for i, au := range units {
		types := naluTypes264(au)
		if au.Key {
			keys++
			// Self-contained: SPS and PPS first, then the picture with an IDR slice.
			if len(types) < 3 || types[0] != 7 || types[1] != 8 || !slices.Contains(types[2:], 5) {
				t.Errorf("key unit %d NALU types %v, want [7 8 ... 5 ...]", i, types)
			}
		}
		if au.Received.IsZero() {
			t.Errorf("unit %d has no arrival time", i)
		}
		if i > 0 && au.PTS <= units[i-1].PTS {
			t.Errorf("unit %d PTS %v not after %v", i, au.PTS, units[i-1].PTS)
		}
	}
}

func TestSourceH264(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{Width: 320, Height: 240, FPS: 15, GOP: 10})
	r := startSource(t, SourceConfig{URL: cam.URL(), Transport: "tcp"})
	sub := r.hub.Subscribe("test", SubscribeOptions{Buffer: 64})
	defer sub.Close()

	units := receive(t, sub, 25)
	checkH264Units(t, units)

	info := r.hub.Stream()
	if info.Codec != CodecH264 || info.Width != 320 || info.Height != 240 || info.Generation != 1 {
		t.Errorf("stream = %s %dx%d generation %d, want H264 320x240 generation 1", info.Codec, info.Width, info.Height, info.Generation)
	}
	st := r.waitStatus(t, "live with rates", func(s Status) bool {
		return s.State == StateLive && s.FPS > 0 && s.BitrateKbps > 0
	})
	if st.Codec != CodecH264 || st.Width != 320 || st.Height != 240 || st.Transport != "TCP" || st.LastFrame.IsZero() {
		t.Errorf("status = %+v, want H264 320x240 over TCP with a last frame", st)
	}
	t.Logf("status: %+v", st)
}

func TestSourceStopsAndLeavesNoGoroutines(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{})
	baseline := runtime.NumGoroutine()
	r := startSource(t, SourceConfig{URL: cam.URL()})
	r.waitStatus(t, "live", func(s Status) bool { return s.State == StateLive })
	if err := r.stop(t); err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: %d after stop, baseline %d\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(r.logs.String(), "ingest stopped") {
		t.Errorf("no stop line in logs:\n%s", r.logs)
	}
}

func TestSourceTransports(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{GOP: 10})
	for _, tc := range []struct{ transport, want string }{
		{"tcp", "TCP"},
		{"udp", "UDP"},
		{"auto", "UDP"}, // UDP works on loopback, so auto keeps it
	} {
		t.Run(tc.transport, func(t *testing.T) {
			r := startSource(t, SourceConfig{URL: cam.URL(), Transport: tc.transport})
			sub := r.hub.Subscribe("test", SubscribeOptions{})
			defer sub.Close()
			checkH264Units(t, receive(t, sub, 15))
			st := r.waitStatus(t, "live with a transport", func(s Status) bool { return s.State == StateLive && s.Transport != "" })
			if st.Transport != tc.want {
				t.Errorf("transport %q used %s, want %s", tc.transport, st.Transport, tc.want)
			}
		})
	}
}

func TestSourceH265(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{Codec: "h265", Width: 320, Height: 240, FPS: 10, GOP: 10})
	r := startSource(t, SourceConfig{URL: cam.URL()})
	sub := r.hub.Subscribe("test", SubscribeOptions{})
	defer sub.Close()
	units := receive(t, sub, 12)
	first := units[0]
	var types []int
	for _, n := range first.NALUs {
		types = append(types, int(n[0]>>1)&0x3f)
	}
	// VPS, SPS, PPS, then an IRAP picture (16..21).
	if !first.Key || len(types) < 4 || types[0] != 32 || types[1] != 33 || types[2] != 34 || !slices.ContainsFunc(types[3:], func(x int) bool { return x >= 16 && x <= 21 }) {
		t.Errorf("first H.265 unit key=%v NALU types %v, want key [32 33 34 ... IRAP ...]", first.Key, types)
	}
	st := r.waitStatus(t, "live", func(s Status) bool { return s.State == StateLive })
	if st.Codec != CodecH265 || st.Width != 320 || st.Height != 240 {
		t.Errorf("status %s %dx%d, want H265 320x240", st.Codec, st.Width, st.Height)
	}
	if info := r.hub.Stream(); info.Codec != CodecH265 || info.VPS == nil {
		t.Errorf("stream info %s with VPS %v, want H265 with a VPS", info.Codec, info.VPS != nil)
	}
}

func TestSourceReconnectsAfterCameraLoss(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{GOP: 10})
	r := startSource(t, SourceConfig{URL: cam.URL(), ReadTimeout: 3 * time.Second})
	sub := r.hub.Subscribe("test", SubscribeOptions{})
	defer sub.Close()
	receive(t, sub, 5)
	live := r.waitStatus(t, "live", func(s Status) bool { return s.State == StateLive })

	changed := r.hub.StreamChanged()
	cam.Stop()
	off := r.waitStatus(t, "offline with an error", func(s Status) bool { return s.State == StateOffline && s.LastError != "" })
	if !off.Since.After(live.Since) {
		t.Errorf("offline since %v, not after live since %v", off.Since, live.Since)
	}
	t.Logf("offline: %s", off.LastError)
	// Let it fail a few times against the dead port; Since must stay put.
	again := r.waitStatus(t, "retrying", func(s Status) bool { return s.Reconnects >= 3 })
	if again.State != StateOffline || !again.Since.Equal(off.Since) {
		t.Errorf("while retrying: state %s since %v, want offline since %v", again.State, again.Since, off.Since)
	}

	cam.Restart()
	back := r.waitStatus(t, "live again", func(s Status) bool { return s.State == StateLive })
	select {
	case <-changed:
	case <-time.After(waitUnits):
		t.Fatal("no StreamChanged after the reconnect")
	}
	if g := r.hub.Stream().Generation; g < 2 {
		t.Errorf("stream generation %d after reconnect, want >= 2", g)
	}
	// Units flow again, starting at a key frame: drain what is queued from
	// before the loss first.
	for drained := false; !drained; {
		select {
		case <-sub.C():
		default:
			drained = true
		}
	}
	units := receive(t, sub, 10)
	if !slices.ContainsFunc(units, func(au *AccessUnit) bool { return au.Key }) {
		t.Errorf("no key frame among %d units after the reconnect", len(units))
	}
	if back.Reconnects < 1 {
		t.Errorf("reconnects = %d, want >= 1", back.Reconnects)
	}
}

func TestSourceNeverShowsCredentials(t *testing.T) {
	const user, pass = "viewer", "s3cret-Pa55"
	cam := testcam.Start(t, testcam.Options{User: user, Password: pass})
	if !strings.Contains(cam.URL(), pass) {
		t.Fatalf("camera URL %q does not hold the password", cam.URL())
	}

	t.Run("right password", func(t *testing.T) {
		r := startSource(t, SourceConfig{URL: cam.URL()})
		sub := r.hub.Subscribe("test", SubscribeOptions{})
		defer sub.Close()
		receive(t, sub, 3)
		st := r.waitStatus(t, "live", func(s Status) bool { return s.State == StateLive })
		r.stop(t)
		assertNoSecret(t, pass, st, r.logs.String())
	})

	t.Run("wrong password", func(t *testing.T) {
		const wrong = "wr0ng-Pa55word"
		url := strings.Replace(cam.URL(), pass, wrong, 1)
		r := startSource(t, SourceConfig{URL: url})
		st := r.waitStatus(t, "offline", func(s Status) bool { return s.State == StateOffline && s.Reconnects >= 2 })
		t.Logf("last error: %s", st.LastError)
		if !strings.Contains(st.LastError, "401") {
			t.Errorf("last error %q does not say 401", st.LastError)
		}
		r.stop(t)
		assertNoSecret(t, wrong, st, r.logs.String())
	})

	t.Run("bad config", func(t *testing.T) {
		r := startSource(t, SourceConfig{URL: "rtsp://admin:" + pass + "@127.0.0.1:1/x", Transport: "quic"})
		st := r.waitStatus(t, "offline", func(s Status) bool { return s.State == StateOffline })
		t.Logf("last error: %s", st.LastError)
		if !strings.Contains(st.LastError, "transport") {
			t.Errorf("last error %q does not name the transport", st.LastError)
		}
		err := r.stop(t)
		if err == nil || strings.Contains(err.Error(), pass) {
			t.Errorf("Run returned %v, want a redacted error", err)
		}
		assertNoSecret(t, pass, st, r.logs.String())
	})
}

func assertNoSecret(t *testing.T, secret string, st Status, logs string) {
	t.Helper()
	if strings.Contains(st.LastError, secret) || strings.Contains(st.Camera, secret) {
		t.Errorf("status shows the password: %+v", st)
	}
	if strings.Contains(logs, secret) {
		t.Errorf("logs show the password:\n%s", logs)
	}
}

func TestSourceRTSPS(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{TLS: true})
	if !strings.HasPrefix(cam.URL(), "rtsps://") {
		t.Fatalf("URL %q", cam.URL())
	}
	t.Run("trusted", func(t *testing.T) {
		r := startSource(t, SourceConfig{URL: cam.URL(), TLSConfig: cam.TLSConfig()})
		sub := r.hub.Subscribe("test", SubscribeOptions{})
		defer sub.Close()
		checkH264Units(t, receive(t, sub, 5))
		st := r.waitStatus(t, "live", func(s Status) bool { return s.State == StateLive && s.Transport != "" })
		if st.Transport != "TCP" {
			t.Errorf("rtsps transport %s, want TCP (plain UDP would bypass TLS)", st.Transport)
		}
	})
	t.Run("untrusted certificate", func(t *testing.T) {
		r := startSource(t, SourceConfig{URL: cam.URL()})
		st := r.waitStatus(t, "offline", func(s Status) bool { return s.State == StateOffline })
		t.Logf("last error: %s", st.LastError)
		if !strings.Contains(st.LastError, "certificate") {
			t.Errorf("last error %q does not mention the certificate", st.LastError)
		}
	})
}

func TestSourceReadTimeoutOnHungCamera(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{GOP: 10})
	r := startSource(t, SourceConfig{URL: cam.URL(), Transport: "tcp", ReadTimeout: 2 * time.Second})
	r.waitStatus(t, "live", func(s Status) bool { return s.State == StateLive })

	// The connection stays open but nothing arrives: that is a lost camera.
	cam.Freeze()
	off := r.waitStatus(t, "offline", func(s Status) bool { return s.State == StateOffline })
	if off.LastError == "" {
		t.Error("offline without an error")
	}
	t.Logf("hung camera: %s", off.LastError)

	cam.Thaw()
	sub := r.hub.Subscribe("test", SubscribeOptions{})
	defer sub.Close()
	r.waitStatus(t, "live again", func(s Status) bool { return s.State == StateLive })
	receive(t, sub, 5)
}

func TestSourceFile(t *testing.T) {
	clip := filepath.Join(testdataDir(t), "pets09-s2l1", "pets09-s2l1.mp4")
	cam := testcam.Start(t, testcam.Options{File: clip})
	r := startSource(t, SourceConfig{URL: cam.URL(), Transport: "tcp"})
	sub := r.hub.Subscribe("test", SubscribeOptions{Buffer: 64})
	defer sub.Close()

	// The clip (README): 768x576 at 10 fps, a key frame every 20 frames,
	// no B-frames. Every viewer gets it from frame 1.
	units := receive(t, sub, 25)
	checkH264Units(t, units)
	for i, au := range units {
		if want := time.Duration(i) * 100 * time.Millisecond; au.PTS-units[0].PTS != want {
			t.Errorf("unit %d at %v after the first, want %v", i, au.PTS-units[0].PTS, want)
		}
		if au.Key != (i%20 == 0) {
			t.Errorf("unit %d key=%v, want key frames at 0 and 20", i, au.Key)
		}
	}
	if info := r.hub.Stream(); info.Width != 768 || info.Height != 576 {
		t.Errorf("stream %dx%d, want 768x576", info.Width, info.Height)
	}
}

// testdataDir is the shared test data folder ($HALLWATCH_TESTDATA, default
// ../shared/testdata from the repository root); the test skips without it.
func testdataDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("HALLWATCH_TESTDATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "testdata")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("test data not found at %s (set HALLWATCH_TESTDATA): %v", dir, err)
	}
	return dir
}
