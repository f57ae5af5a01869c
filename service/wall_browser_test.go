package service

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/internal/testcam"
)

// placeNames are the names of places, cameras, windows and queue zones:
// data that pages show as configured, in any language.
func placeNames(cfg *config.Config, more ...string) []string {
	names := append([]string{}, more...)
	for _, d := range cfg.Districts {
		names = append(names, d.Name)
		for _, c := range d.Centers {
			names = append(names, c.Name)
			for _, cam := range c.Cameras {
				names = append(names, cam.Name)
				if cam.Analytics != nil {
					for _, w := range cam.Analytics.Windows {
						names = append(names, w.Name)
					}
					for _, q := range cam.Analytics.QueueZones {
						names = append(names, q.Name)
					}
				}
			}
		}
	}
	return names
}

// deadURL is an RTSP address nothing answers at.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "rtsp://" + ln.Addr().String() + "/none"
}

// TestBrowserLiveWall drives the live wall as a district supervisor in
// headless Chromium with two GStreamer cameras and one that never answers:
// a whole center opened at once plays in its tiles; layouts, one camera
// alone (double-click), full screen per tile and for the wall, a snapshot;
// the camera that never answers shows offline, not "connecting" forever;
// a saved view and the last wall survive a reload and reach another
// browser; a camera that sends nothing for a moment shows "no signal"
// and then live again; a camera that stops shows offline within 5 s, raises an alert
// that sounds and notifies and marks its tile; closing a tile ends its
// WHEP session with a DELETE that is answered (no 404). Every step at both
// sizes and in both languages fits the screen, and nothing fails.
func TestBrowserLiveWall(t *testing.T) {
	camA := testcam.Start(t, testcam.Options{Width: 640, Height: 360, FPS: 15, GOP: 30})
	camB := testcam.Start(t, testcam.Options{Width: 640, Height: 360, FPS: 15, GOP: 30, Pattern: "smpte"})
	cfg := testConfig(t, filepath.Join(t.TempDir(), "hallwatch.db"))
	cfg.Alerts.CameraOfflineAfter = config.Duration(2 * time.Second)
	cfg.Districts = []config.District{{ID: "dongcheng", Name: "东城区", Centers: []config.Center{
		{ID: "jingshan", Name: "景山街道市民服务中心", Cameras: []config.Camera{
			{ID: "js-hall", Name: "景山 一楼大厅", URL: camA.URL()},
			{ID: "js-door", Name: "景山 入口", URL: camB.URL()},
		}},
		{ID: "donghuamen", Name: "东华门街道市民服务中心", Cameras: []config.Camera{
			{ID: "dhm-hall", Name: "东华门 一楼大厅", URL: deadURL(t)},
		}},
	}}}
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "wang", auth.RoleDistrictSupervisor, auth.UserScope{Districts: []string{"dongcheng"}})
	names := placeNames(cfg, user, "早班大屏")
	waitFor(t, "both cameras live", 20*time.Second, func() bool {
		return r.cameraState(t, "js-hall")["state"] == "live" && r.cameraState(t, "js-door")["state"] == "live"
	})

	p := openPage(t, r.base)
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	p.ctx = ctx
	p.login(user, pw)
	p.do("allow notifications", browser.GrantNotifications(r.base))
	evalJS[bool](ctx, t, fmt.Sprintf(`localStorage.setItem("hw.notify.%s", JSON.stringify({desktop: true, sound: true})) || true`, user))
	p.open("/")
	p.waitJS("the camera tree", 10*time.Second, `document.querySelectorAll("#tree button.cam").length === 3`)
	p.checkLayout("empty wall", names)
	p.shot("wall-empty")

	// A whole center at once; both play.
	p.do("open the center", chromedp.Click(`#tree details[data-key="c:jingshan"] button.openall`))
	p.waitJS("two tiles playing", 20*time.Second,
		`["js-hall", "js-door"].every((id) => (document.querySelector('figure.tile[data-camera="' + id + '"]') || {dataset: {}}).dataset.state === "live")`)
	type playStats struct {
		Width      float64 `json:"width"`
		Post       float64 `json:"post"`
		FirstFrame float64 `json:"firstFrame"`
	}
	st := evalJS[playStats](ctx, t, `(() => { const p = window.hwPlayers.get("js-hall"); const v = document.querySelector('video[data-camera="js-hall"]');
		return {width: v.videoWidth, post: p.player.timing.post || 0, firstFrame: p.player.timing.firstFrame || 0}; })()`)
	if st.Width != 640 {
		t.Errorf("video width %v, want the camera's 640", st.Width)
	}
	t.Logf("browser: WHEP POST → first decoded frame %.0f ms", st.FirstFrame-st.Post)
	if n := evalJS[int](ctx, t, `document.querySelectorAll("#tiles .slot.free").length`); n != 2 {
		t.Errorf("layout 4 with two cameras: %d free tiles, want 2", n)
	}
	p.shot("wall-center")

	// Layouts, one camera alone, full screen.
	p.do("layout 9", chromedp.Click(`#toolbar button[data-layout="9"]`))
	p.waitJS("nine tiles", 5*time.Second, `document.getElementById("tiles").dataset.layout === "9" && document.querySelectorAll("#tiles .slot.free").length === 7`)
	p.shot("wall-9")
	p.do("layout 4", chromedp.Click(`#toolbar button[data-layout="4"]`))
	p.do("double-click a tile", chromedp.DoubleClick(`figure.tile[data-camera="js-door"] video`))
	p.waitJS("one camera alone", 5*time.Second, `document.getElementById("tiles").dataset.layout === "1" &&
		document.querySelectorAll("#tiles figure.tile").length === 1 && document.querySelector('figure.tile[data-camera="js-door"]') && !document.getElementById("single-back").hidden`)
	p.shot("wall-single")
	p.do("back to the grid", chromedp.Click(`#single-back`))
	p.waitJS("the grid again", 5*time.Second, `document.getElementById("tiles").dataset.layout === "4" && document.querySelectorAll("#tiles figure.tile").length === 2`)
	p.do("tile full screen", chromedp.Click(`figure.tile[data-camera="js-hall"] button.fs`))
	p.waitJS("the tile full screen", 5*time.Second, `document.fullscreenElement && document.fullscreenElement.dataset.camera === "js-hall"`)
	evalJS[bool](ctx, t, `document.exitFullscreen().then(() => true)`)
	p.do("wall full screen", chromedp.Click(`#wall-fs`))
	p.waitJS("the wall full screen", 5*time.Second, `document.fullscreenElement && document.fullscreenElement.id === "wallarea"`)
	p.shot("wall-fullscreen")
	evalJS[bool](ctx, t, `document.exitFullscreen().then(() => true)`)

	// A snapshot of what the tile shows.
	p.do("snapshot", chromedp.Click(`figure.tile[data-camera="js-hall"] button.snap`))
	p.waitJS("the snapshot", 5*time.Second, `window.hwSnapshots.length === 1 && window.hwSnapshots[0].width === 640 && window.hwSnapshots[0].bytes > 1000`)

	// The camera that never answers: offline, with since when.
	p.do("open the dead camera", chromedp.Click(`#tree button.cam[data-camera="dhm-hall"]`))
	p.waitJS("the dead camera's tile offline", 15*time.Second, `(document.querySelector('figure.tile[data-camera="dhm-hall"]') || {dataset: {}}).dataset.state === "offline"`)
	if txt := evalJS[string](ctx, t, `document.querySelector('figure.tile[data-camera="dhm-hall"] .overlay').innerText`); !strings.Contains(txt, "离线") || !strings.Contains(txt, "自") {
		t.Errorf("offline tile says %q, want offline since when", txt)
	}
	p.checkLayout("wall with three tiles", names)
	p.shot("wall-three")

	// A named view, kept by the server.
	p.do("save a view",
		chromedp.Click(`#view-save`),
		chromedp.WaitVisible(`#save-dialog input[name=name]`),
		chromedp.SendKeys(`#save-dialog input[name=name]`, "早班大屏"),
		chromedp.Click(`#save-dialog button[type=submit]`))
	p.waitJS("the view listed", 5*time.Second, `[...document.querySelectorAll("#views option")].some((o) => o.textContent === "早班大屏")`)
	time.Sleep(time.Second) // the last wall is kept 0.6 s after a change
	p.open("/")
	p.waitJS("the wall restored after a reload", 10*time.Second,
		`[...document.querySelectorAll("#tiles figure.tile")].map((f) => f.dataset.camera).join() === "js-hall,js-door,dhm-hall" &&
		document.getElementById("tiles").dataset.layout === "4"`)
	other := openPage(t, r.base) // another browser, same user
	other.login(user, pw)
	other.open("/")
	other.waitJS("the wall in another browser", 10*time.Second,
		`[...document.querySelectorAll("#tiles figure.tile")].map((f) => f.dataset.camera).join() === "js-hall,js-door,dhm-hall" &&
		[...document.querySelectorAll("#views option")].some((o) => o.textContent === "早班大屏")`)
	other.check()

	// Both languages and sizes.
	p.do("switch to English", chromedp.Click(`#lang`))
	p.waitJS("English tiles", 5*time.Second, `document.querySelector('figure.tile[data-camera="js-hall"] .pstate').textContent.startsWith("live")`)
	p.lang = "en"
	p.checkLayout("wall", names)
	p.shot("wall")
	p.resize(browser.Phone)
	p.checkLayout("wall", names)
	p.shot("wall")
	p.do("the camera list on a phone", chromedp.Click(`#tree-toggle`))
	p.checkLayout("wall with its camera list", names)
	p.shot("wall-tree")
	p.setLang("zh")
	p.open("/")
	p.waitJS("tiles", 10*time.Second, `document.querySelectorAll("#tiles figure.tile").length === 3`)
	p.checkLayout("wall", names)
	p.shot("wall")
	p.resize(browser.Desktop)

	// A camera that sends nothing for a moment: "no signal" while the
	// picture stands still, live again when it moves on.
	p.waitJS("js-hall playing", 20*time.Second, `document.querySelector('figure.tile[data-camera="js-hall"]').dataset.state === "live"`)
	camA.Freeze()
	p.waitJS("no signal on the frozen camera's tile", 8*time.Second, `document.querySelector('figure.tile[data-camera="js-hall"]').dataset.state === "nosignal"`)
	p.shot("wall-no-signal")
	camA.Thaw()
	p.waitJS("the thawed camera live again", 20*time.Second, `document.querySelector('figure.tile[data-camera="js-hall"]').dataset.state === "live"`)

	// A camera stops: its tile is offline within 5 s, an alert is raised
	// (camera_offline_after 2 s) that sounds, notifies and marks the tile.
	p.waitJS("js-door playing", 20*time.Second, `document.querySelector('figure.tile[data-camera="js-door"]').dataset.state === "live"`)
	// A person has the camera's tree button focused (a keyboard user, or
	// one about to click it) when the camera stops.
	if !evalJS[bool](ctx, t, `(() => { const b = document.querySelector('#tree button.cam[data-camera="js-door"]');
		window.hwTreeProbe = b; b.focus(); return document.activeElement === b; })()`) {
		t.Fatal("cannot focus js-door's button in the camera tree")
	}
	stopped := time.Now()
	camB.Stop()
	p.waitJS("the stopped camera's tile offline", 5*time.Second, `document.querySelector('figure.tile[data-camera="js-door"]').dataset.state === "offline"`)
	t.Logf("camera stopped → tile offline in %v", time.Since(stopped).Round(10*time.Millisecond))
	p.waitJS("the alert reminder", 15*time.Second, `window.hwReminded.some((r) => r.desktop && r.sound && r.title.includes("摄像机离线"))`)
	p.waitJS("the alert on the tile", 10*time.Second, `document.querySelector('figure.tile[data-camera="js-door"]').classList.contains("alerting") &&
		document.querySelector('figure.tile[data-camera="js-door"] .alertbar a.record-link')`)
	// The tree shows the change on the same button, which keeps the focus:
	// a redrawn tree would swallow a click and lose the keyboard's place.
	p.waitJS("the tree marks the stopped camera", 10*time.Second, `(() => { const b = document.querySelector('#tree button.cam[data-camera="js-door"]');
		return b.classList.contains("alerting") && b.nextElementSibling.classList.contains("offline"); })()`)
	if !evalJS[bool](ctx, t, `document.contains(window.hwTreeProbe) && document.activeElement === window.hwTreeProbe`) {
		t.Error("the camera tree was redrawn for a status change: the focused camera button was replaced")
	}
	p.shot("wall-camera-down")

	// Closing a tile ends its WHEP session: DELETE answered, session gone.
	before := r.svc.viewers.Count()
	p.do("close a tile", chromedp.Click(`figure.tile[data-camera="js-hall"] button.close`))
	waitFor(t, "the WHEP session ended", 10*time.Second, func() bool { return r.svc.viewers.Count() < before })
	time.Sleep(500 * time.Millisecond)
	p.mu.Lock()
	deletes := 0
	for _, req := range p.requests {
		if strings.HasPrefix(req, "DELETE ") && strings.Contains(req, "/whep/js-hall/") {
			deletes++
		}
	}
	p.mu.Unlock()
	if deletes == 0 {
		t.Error("closing the tile sent no WHEP DELETE")
	}
	p.check()
}
