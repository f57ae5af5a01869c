package service

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/internal/testcam"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// startH265Service runs hallwatch with H.265 cameras of a GStreamer x265
// camera: hall1 without a sub-stream (transcoded for H.264 browsers),
// hall2 with an H.264 sub-stream (its live_url), hall3 like hall1, at
// most one transcode at a time.
func startH265Service(t *testing.T) (r *rig, sub *testcam.Camera) {
	t.Helper()
	main := testcam.Start(t, testcam.Options{Codec: "h265", Width: 640, Height: 360, FPS: 15, GOP: 30, BitrateKbps: 600, Pattern: "smpte", Scroll: 2})
	sub = testcam.Start(t, testcam.Options{Width: 320, Height: 180, FPS: 15, GOP: 30})
	cfg := serviceConfig(t, "", fmt.Sprintf(`
          - {id: hall1, name: 大厅一, url: %q, transport: tcp}
          - {id: hall2, name: 大厅二, url: %q, live_url: %q, transport: tcp}
          - {id: hall3, name: 大厅三, url: %q, transport: tcp}
`, main.URL(), main.URL(), sub.URL(), main.URL()), nil)
	cfg.WebRTC.MaxTranscodes = 1
	r = runService(t, cfg)
	for _, id := range []string{"hall1", "hall2", "hall3"} {
		var last map[string]any
		deadline := time.Now().Add(2 * time.Minute)
		for last = r.cameraState(t, id); last["state"] != "live" || last["codec"] != "H265"; last = r.cameraState(t, id) {
			if time.Now().After(deadline) {
				t.Fatalf("%s not live with H.265 after 2m; its status: %v", id, last)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return r, sub
}

// watch connects a pion viewer offering codecs and returns it after its
// first frames, checking they start with a key frame.
func (r *rig) watch(t *testing.T, camera string, codecs ...string) (*whepclient.Client, []whepclient.Unit, string) {
	t.Helper()
	var location string
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := whepclient.Connect(ctx, whepclient.HTTP(http.DefaultClient, r.base+"/whep/"+camera, r.admin, &location),
		whepclient.Options{Codecs: codecs, KeyFrameOnLoss: true})
	if err != nil {
		t.Fatalf("viewer of %s offering %v: %v", camera, codecs, err)
	}
	t.Cleanup(func() { c.Close() })
	units := c.Wait(t, 20, 30*time.Second)
	if !units[0].Key {
		t.Fatalf("viewer of %s offering %v: first frame is not a key frame", camera, codecs)
	}
	return c, units, location
}

// TestH265CameraReachesEveryBrowser: a browser that decodes H.265 gets the
// camera's own stream; one that does not gets H.264, from the camera's
// sub-stream when it has one, else from a transcode that runs only while
// someone watches and within webrtc.max_transcodes.
func TestH265CameraReachesEveryBrowser(t *testing.T) {
	r, _ := startH265Service(t)

	native, _, _ := r.watch(t, "hall1", webrtc.MimeTypeH265, webrtc.MimeTypeH264)
	if c := native.Codec(); !strings.EqualFold(c, webrtc.MimeTypeH265) {
		t.Errorf("viewer offering H.265 got %s, want the camera's H.265", c)
	}
	if r.svc.cameras["hall1"].live.FallbackRunning() {
		t.Error("a transcode runs though nobody needs one")
	}

	h264Only, units, location := r.watch(t, "hall1", webrtc.MimeTypeH264)
	if c := h264Only.Codec(); !strings.EqualFold(c, webrtc.MimeTypeH264) {
		t.Fatalf("viewer offering only H.264 got %s", c)
	}
	if w := spsWidth(t, units[0]); w != 640 {
		t.Errorf("transcoded stream is %d pixels wide, want the camera's 640", w)
	}
	if !r.svc.cameras["hall1"].live.FallbackRunning() {
		t.Error("no transcode runs for the H.264 viewer")
	}

	// The one transcode slot is taken: another H.265 camera cannot be
	// transcoded now, and says so.
	var loc string
	_, err := whepclient.Connect(context.Background(), whepclient.HTTP(http.DefaultClient, r.base+"/whep/hall3", r.admin, &loc),
		whepclient.Options{Codecs: []string{webrtc.MimeTypeH264}})
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), "max_transcodes") {
		t.Errorf("H.264 viewer of a second H.265 camera beyond max_transcodes: %v, want 503 naming webrtc.max_transcodes", err)
	}

	// A camera with a sub-stream serves it, not a transcode.
	fromSub, units, _ := r.watch(t, "hall2", webrtc.MimeTypeH264)
	if c := fromSub.Codec(); !strings.EqualFold(c, webrtc.MimeTypeH264) {
		t.Fatalf("viewer of hall2 got %s", c)
	}
	if w := spsWidth(t, units[0]); w != 320 {
		t.Errorf("hall2's H.264 viewer gets a %d-pixel-wide stream, want its 320-pixel sub-stream", w)
	}

	// The transcode stops after its last viewer leaves.
	req, _ := http.NewRequest(http.MethodDelete, r.base+location, nil)
	req.Header = r.admin.Clone()
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	h264Only.Close()
	waitFor(t, "transcode stopped", transcodeLinger+10*time.Second, func() bool { return !r.svc.cameras["hall1"].live.FallbackRunning() })
	if native.Stats().Units == 0 {
		t.Error("the H.265 viewer stopped receiving")
	}
}

// spsWidth reads the picture width from a key frame's SPS.
func spsWidth(t *testing.T, u whepclient.Unit) int {
	t.Helper()
	for _, n := range u.NALUs {
		if h264.NALUType(n[0]&0x1f) == h264.NALUTypeSPS {
			var sps h264.SPS
			if err := sps.Unmarshal(n); err != nil {
				t.Fatalf("SPS: %v", err)
			}
			return sps.Width()
		}
	}
	t.Fatal("key frame without SPS")
	return 0
}

// TestBrowserPlaysH265Camera opens an H.265 camera on the live wall in
// headless Debian Chromium, which decodes no H.265 (it offers none), and
// checks from the page's WebRTC stats that it decodes H.264 frames of
// the camera's size: the transcode plays in it.
func TestBrowserPlaysH265Camera(t *testing.T) {
	r, _ := startH265Service(t)
	p := openPage(t, r.base)
	ctx, cancel := context.WithTimeout(p.ctx, 90*time.Second)
	defer cancel()
	p.ctx = ctx
	p.login("test-admin", "test-admin-password")
	offersH265 := evalJS[bool](ctx, t, `RTCRtpReceiver.getCapabilities("video").codecs.some((c) => /h265|hevc/i.test(c.mimeType))`)
	t.Logf("this Chromium decodes H.265 over WebRTC: %v", offersH265)
	p.open("/?camera=hall1")
	p.waitJS("the tile playing", 45*time.Second, `(document.querySelector('figure.tile[data-camera="hall1"]') || {dataset: {}}).dataset.state === "live"`)
	type playStats struct {
		FramesDecoded float64 `json:"framesDecoded"`
		Width         float64 `json:"width"`
		Codec         string  `json:"codec"`
	}
	const probe = `(async () => {
		const p = window.hwPlayers.get("hall1");
		const v = document.querySelector('video[data-camera="hall1"]');
		let decoded = 0, codecId = "", codecs = {};
		if (p && p.player && p.player.pc) {
			(await p.player.pc.getStats()).forEach((s) => {
				if (s.type === "inbound-rtp" && s.kind === "video") { decoded = s.framesDecoded || 0; codecId = s.codecId; }
				if (s.type === "codec") codecs[s.id] = s.mimeType;
			});
		}
		return {framesDecoded: decoded, width: v ? v.videoWidth : 0, codec: codecs[codecId] || ""};
	})()`
	var stats playStats
	deadline := time.Now().Add(45 * time.Second)
	for stats.FramesDecoded < 30 {
		if time.Now().After(deadline) {
			t.Fatalf("browser did not play the H.265 camera: %+v", stats)
		}
		time.Sleep(250 * time.Millisecond)
		var err error
		if stats, err = chromedp.Run(ctx, chromedp.Evaluate[playStats](probe, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("probe: %v", err)
		}
	}
	want := "video/H264"
	if offersH265 {
		want = "video/H265"
	}
	if !strings.EqualFold(stats.Codec, want) || stats.Width != 640 {
		t.Errorf("browser plays %s %v pixels wide, want %s 640", stats.Codec, stats.Width, want)
	}
	p.shot("live-h265")
	p.check()
}
