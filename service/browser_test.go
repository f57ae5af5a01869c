package service

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/internal/testcam"
)

// TestBrowserPlaysLiveWall opens the live wall in headless Chromium, starts
// a camera and checks from the page's own WebRTC stats that frames were
// decoded and the video clock advances.
func TestBrowserPlaysLiveWall(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{Width: 640, Height: 360, FPS: 15, GOP: 60})
	r := startService(t, "", fmt.Sprintf(`
          - id: hall1
            name: 大厅一
            url: %s
`, cam.URL()))
	waitFor(t, "camera live", 20*time.Second, func() bool { return r.cameraState(t, "hall1")["state"] == "live" })

	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	browserLogin(ctx, t, r.base, "test-admin", "test-admin-password")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(r.base+"/"),
		chromedp.WaitVisible(`button.cam[data-camera="hall1"]`),
		chromedp.Click(`button.cam[data-camera="hall1"]`),
	); err != nil {
		t.Fatalf("open live wall: %v", err)
	}

	type playStats struct {
		FramesDecoded float64 `json:"framesDecoded"`
		CurrentTime   float64 `json:"currentTime"`
		Width         float64 `json:"width"`
		Post          float64 `json:"post"`
		FirstFrame    float64 `json:"firstFrame"`
	}
	var stats playStats
	const probe = `(async () => {
		const p = window.hwPlayers.get("hall1");
		const v = document.querySelector('video[data-camera="hall1"]');
		let decoded = 0;
		if (p && p.player.pc) {
			(await p.player.pc.getStats()).forEach((s) => {
				if (s.type === "inbound-rtp" && s.kind === "video") decoded = s.framesDecoded || 0;
			});
		}
		return {framesDecoded: decoded, currentTime: v ? v.currentTime : 0, width: v ? v.videoWidth : 0,
			post: p ? p.player.timing.post || 0 : 0, firstFrame: p ? p.player.timing.firstFrame || 0 : 0};
	})()`
	deadline := time.Now().Add(30 * time.Second)
	for stats.FramesDecoded < 30 || stats.CurrentTime <= 1 {
		if time.Now().After(deadline) {
			t.Fatalf("browser did not play: %+v", stats)
		}
		time.Sleep(250 * time.Millisecond)
		var err error
		if stats, err = chromedp.Run(ctx, chromedp.Evaluate[playStats](probe, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("probe: %v", err)
		}
	}
	if stats.Width != 640 {
		t.Errorf("video width %v, want the camera's 640", stats.Width)
	}
	t.Logf("browser: WHEP POST → first decoded frame %.0f ms; %v frames decoded", stats.FirstFrame-stats.Post, stats.FramesDecoded)
	t.Logf("screenshot: %s", browser.Screenshot(ctx, t, "live-wall"))
}
