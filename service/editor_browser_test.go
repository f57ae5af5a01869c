package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/store"
)

// clickOnPicture clicks the editor's picture at normalised points.
func clickOnPicture(p *page, pts ...geom.Point) {
	p.t.Helper()
	type box struct{ X, Y, W, H float64 }
	b := evalJS[box](p.ctx, p.t, `(() => { const r = document.getElementById("handles").getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`)
	for _, pt := range pts {
		p.do(fmt.Sprintf("click the picture at %v", pt), chromedp.MouseClickXY(b.X+pt[0]*b.W, b.Y+pt[1]*b.H))
	}
}

// TestBrowserEditorDrawsAndApplies drives the editor in headless Chromium
// as an admin on the simulated hall: the file's lines and zones show over a
// fresh picture with live counts; a self-intersecting queue zone is refused
// with its reason, in the page and by the save; a window zone drawn around
// the seated clerk of window 3 is saved as version 1, and the running
// analysis (no restart) reports that window's state within seconds; the
// live wall's overlay toggle draws the saved zones on the tile. Every step
// at 1366x768 and 390x844 in Chinese and English fits the screen.
func TestBrowserEditorDrawsAndApplies(t *testing.T) {
	cam, err := demo.NewCamera(demo.CameraOptions{Addr: "127.0.0.1:0", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Cameras: []demo.CameraSpec{{ID: "hall", Scene: boardScene}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, filepath.Join(t.TempDir(), "hallwatch.db"))
	cam.AddTo(cfg, []demo.Hall{{District: "dongcheng", DistrictName: "东城区", Center: "jingshan", CenterName: "景山街道市民服务中心",
		Camera: "hall", CameraName: "景山 一楼大厅"}})
	an := cfg.Districts[0].Centers[0].Cameras[0].Analytics
	still := an.Windows[boardScene.StillClerk-1]
	newID := fmt.Sprintf("w%d", len(an.Windows)+1)

	camCtx, stopCam := context.WithCancel(context.Background())
	camDone := make(chan error, 1)
	go func() { camDone <- cam.Run(camCtx) }()
	defer func() { stopCam(); <-camDone }()
	r := startServiceConfig(t, cfg)
	waitFor(t, "the first analysed frame", 20*time.Second, func() bool { return r.svc.cameras["hall"].analysis.Status().Analysed > 0 })
	user, pw := pageUser(t, r, "root2", auth.RoleAdmin, auth.UserScope{})
	names := placeNames(cfg, user, "窗口 "+newID[1:]) // the drawn window is named in Chinese: data from then on

	p := openPage(t, r.base)
	ctx, cancel := context.WithTimeout(p.ctx, 3*time.Minute)
	defer cancel()
	p.ctx = ctx
	p.login(user, pw)
	p.open("/editor.html")
	p.waitJS("the picture and the file's zones", 15*time.Second, fmt.Sprintf(
		`document.getElementById("picture").naturalWidth > 0 && document.querySelectorAll('#shapes g[data-kind="window"]').length === %d && document.querySelectorAll('#shapes g[data-kind="line"]').length === 1`,
		len(an.Windows)))
	p.waitJS("live window states", 10*time.Second, `[...document.querySelectorAll('#shapes g[data-kind="window"]')].every((g) => !["none", "unknown"].includes(g.dataset.state))`)
	p.checkLayout("editor", names)
	p.shot("editor-file")

	// A bow-tie queue zone: refused while drawing and when saved.
	p.do("draw a queue zone", chromedp.Click(`#add-queue`))
	clickOnPicture(p, geom.Point{0.1, 0.5}, geom.Point{0.3, 0.7}, geom.Point{0.3, 0.5}, geom.Point{0.1, 0.7}, geom.Point{0.1, 0.5})
	drawn := len(an.QueueZones) // after the hall's waiting seats
	p.waitJS("the self-intersection named", 10*time.Second, fmt.Sprintf(`document.querySelector('#problems li[data-code="self_intersecting"][data-field="queue_zones[%d].zone"]')`, drawn))
	if txt := evalJS[string](ctx, t, `document.querySelector('#problems li[data-code="self_intersecting"]').textContent`); txt == "" {
		t.Error("the problem has no text")
	}
	p.shot("editor-refused")
	p.expect("geometry answered 422")
	p.do("save the bad drawing", chromedp.Click(`#save`))
	p.waitJS("the refusal shown", 10*time.Second, `document.getElementById("error").textContent.includes("自相交")`)
	if v := r.geometryVersion(t, "hall"); v != 0 {
		t.Errorf("a refused drawing was saved: version %d", v)
	}
	p.do("delete the queue zone", chromedp.Click(`#items .item[data-kind="queue"][data-id="queue1"] button.danger`))

	// A window zone around window 3's seated clerk, saved and applied.
	z := still.Zone
	p.do("draw a window zone", chromedp.Click(`#add-window`))
	clickOnPicture(p, append(append(geom.Polygon{}, z...), z[0])...)
	p.waitJS("the drawing checked", 10*time.Second, fmt.Sprintf(
		`(() => { const e = window.hwEditor; return e.seq === e.checkedSeq && e.problems.length === 0 && e.g.windows.length === %d && document.querySelector("#problems li.ok"); })()`, len(an.Windows)+1))
	p.do("save", chromedp.Click(`#save`))
	p.waitJS("saved as version 1", 10*time.Second, `window.hwEditor.state.version === 1 && !window.hwEditor.dirty`)
	saved := time.Now()
	waitFor(t, "the drawn window in the analysis's events", 20*time.Second, func() bool {
		evs, err := r.svc.store.Events(context.Background(), store.EventQuery{Cameras: []string{"hall"}, Types: []string{events.TypeWindow}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Window == newID {
				t.Logf("drawn window %s: %s at %s, %.1f s after the save", newID, e.State, e.Time.Format("15:04:05.0"), time.Since(saved).Seconds())
				return true
			}
		}
		return false
	})
	p.waitJS("the new zone's live state", 10*time.Second, fmt.Sprintf(`!["none", "unknown"].includes((document.querySelector('#shapes g[data-kind="window"][data-id=%q]') || {dataset: {state: "none"}}).dataset.state)`, newID))
	p.shot("editor-saved")
	p.check()

	for _, step := range []struct {
		size browser.Size
		lang string
	}{{browser.Desktop, "en"}, {browser.Phone, "zh"}, {browser.Phone, "en"}} {
		p.resize(step.size)
		p.setLang(step.lang)
		p.open("/editor.html?camera=hall")
		p.waitJS("the saved zones", 15*time.Second, fmt.Sprintf(`document.getElementById("picture").naturalWidth > 0 && document.querySelector('#shapes g[data-kind="window"][data-id=%q]')`, newID))
		p.checkLayout("editor", names)
		p.shot("editor")
		p.check()
	}

	// The live wall's overlay shows the saved geometry on the tile.
	p.resize(browser.Desktop)
	p.setLang("zh")
	p.open("/")
	p.waitJS("the camera tree", 10*time.Second, `document.querySelector('#tree button.cam[data-camera="hall"]')`)
	p.do("open the camera", chromedp.Click(`#tree button.cam[data-camera="hall"]`))
	p.waitJS("the tile playing", 20*time.Second, `(document.querySelector('figure.tile[data-camera="hall"]') || {dataset: {}}).dataset.state === "live"`)
	p.do("show lines and zones", chromedp.Click(`figure.tile[data-camera="hall"] button.shapes-toggle`))
	p.waitJS("the overlay with the saved zone", 10*time.Second, fmt.Sprintf(
		`(() => { const s = document.querySelector('figure.tile[data-camera="hall"] svg.tile-shapes'); return s && s.dataset.version === "1" && s.querySelector('g[data-kind="window"][data-id=%q]') && s.querySelector('g[data-kind="line"] text').textContent.includes("进"); })()`, newID))
	p.shot("wall-overlay")
	p.do("hide lines and zones", chromedp.Click(`figure.tile[data-camera="hall"] button.shapes-toggle`))
	p.waitJS("the overlay gone", 5*time.Second, `!document.querySelector('figure.tile[data-camera="hall"] svg.tile-shapes')`)
	p.check()
}

// geometryVersion is a camera's saved geometry version in force.
func (r *rig) geometryVersion(t *testing.T, camera string) int {
	t.Helper()
	st, err := r.svc.geometry.State(camera)
	if err != nil {
		t.Fatal(err)
	}
	return st.Version
}
