package service

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/internal/testcam"
	"github.com/hallwatch/hallwatch/record"
	"github.com/hallwatch/hallwatch/store"
)

// TestBrowserPlaybackPage opens the playback page as each role, in both
// languages, at desktop and phone size: the timeline shows what was
// recorded, a click on it plays from there; planners get no video.
func TestBrowserPlaybackPage(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{Width: 320, Height: 240, FPS: 15, GOP: 15})
	r := startService(t, "record:\n  min_free: 1MiB\n", fmt.Sprintf(`
          - id: hall1
            name: 大厅一
            url: %s
            analytics:
              detector: motion
              lines:
                - {id: door, name: 正门, a: [0.1, 0.8], b: [0.9, 0.8], inside: [0.5, 0.5]}
              windows:
                - {id: w1, name: 1号窗口, zone: [[0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]]}
`, cam.URL()))
	hall1, _ := r.svc.camera("hall1")
	rec := hall1.rec
	waitFor(t, "recording", 30*time.Second, func() bool { return rec.Status().State == record.StateRecording })
	time.Sleep(8 * time.Second)
	manager, mpw := pageUser(t, r, "wang", auth.RoleCenterManager, auth.UserScope{Centers: []string{"jingshan"}})
	super, spw := pageUser(t, r, "li", auth.RoleDistrictSupervisor, auth.UserScope{Districts: []string{"dongcheng"}})
	planner, ppw := pageUser(t, r, "chen", auth.RolePlanner, auth.UserScope{Districts: []string{"dongcheng"}})

	for _, tc := range []struct {
		user, pw, lang, title string
		size                  browser.Size
	}{
		{manager, mpw, "zh", "录像回放", browser.Phone},
		{super, spw, "en", "Playback", browser.Desktop},
		{manager, mpw, "en", "Playback", browser.Phone},
		{super, spw, "zh", "录像回放", browser.Desktop},
	} {
		t.Run(fmt.Sprintf("%s-%s-%s", tc.user, tc.lang, tc.size.Name), func(t *testing.T) {
			p := openPage(t, r.base)
			p.lang = tc.lang
			p.resize(tc.size)
			p.login(tc.user, tc.pw)
			p.open("/playback.html")
			p.waitJS("the recorded span on the timeline", 20*time.Second, `document.querySelector("#timeline .pb-track .rec")`)
			if h1 := evalJS[string](p.ctx, t, `document.querySelector("h1").textContent`); h1 != tc.title {
				t.Errorf("title %q, want %q", h1, tc.title)
			}
			if evalJS[bool](p.ctx, t, `!document.querySelector('#topbar a[href="/playback.html"]')`) {
				t.Error("no Playback link in the top bar")
			}
			// A real click on the recorded span plays from there.
			type box struct{ X, Y float64 }
			b := evalJS[box](p.ctx, t, `(() => { const r = document.querySelector("#timeline .pb-track .rec").getBoundingClientRect();
				return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()`)
			p.do("click the recorded span", chromedp.MouseClickXY(b.X, b.Y))
			p.waitJS("the video to play", 20*time.Second, `document.getElementById("video").currentTime > 0.5 && document.getElementById("video").videoWidth === 320`)
			ref, _ := r.svc.cfg.Camera("hall1")
			p.checkLayout("playback", []string{ref.Camera.Name, ref.Center.Name, ref.District.Name})
			p.shot("playback")
			p.check()
		})
	}

	t.Run("http", func(t *testing.T) { playbackHTTP(t, r) })
	t.Run("overlay", func(t *testing.T) { playbackOverlay(t, r, manager, mpw) })

	t.Run("planner", func(t *testing.T) {
		p := openPage(t, r.base)
		p.login(planner, ppw)
		p.expect("/playback.html") // the page sends a planner home
		p.expect("/api/cameras/hall1/")
		p.open("/playback.html")
		p.waitJS("the planner's home page", 20*time.Second, `location.pathname !== "/playback.html"`)
		p.waitJS("the top bar", 20*time.Second, `document.querySelector('#topbar a')`)
		if evalJS[bool](p.ctx, t, `!!document.querySelector('#topbar a[href="/playback.html"]:not([hidden])')`) {
			t.Error("a planner sees the Playback link")
		}
		for _, path := range []string{"/api/cameras/hall1/recordings", "/api/cameras/hall1/playback?at=" + time.Now().UTC().Format(time.RFC3339),
			"/api/cameras/hall1/recording.mp4?from=" + time.Now().Add(-time.Minute).UTC().Format(time.RFC3339) + "&to=" + time.Now().UTC().Format(time.RFC3339)} {
			if code := evalJS[int](p.ctx, t, fmt.Sprintf(`fetch(%q).then((r) => r.status)`, path)); code != 403 {
				t.Errorf("planner GET %s: %d, want 403", path, code)
			}
		}
		p.check()
	})
}

// playbackHTTP checks the MP4 endpoint as a plain HTTP client: ranges,
// 416, download, and one audit entry for the many requests of one span.
func playbackHTTP(t *testing.T, r *rig) {
	var play struct {
		URL   string    `json:"url"`
		Start time.Time `json:"start"`
	}
	if code := r.getJSON(t, "/api/cameras/hall1/playback?at="+url.QueryEscape(time.Now().Add(-5*time.Second).UTC().Format(time.RFC3339)), &play); code != http.StatusOK {
		t.Fatalf("playback: HTTP %d", code)
	}
	get := func(path, rng string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, r.base+path, nil)
		req.Header = r.admin.Clone()
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	resp, whole := get(play.URL, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "video/mp4" || resp.Header.Get("Accept-Ranges") != "bytes" ||
		resp.ContentLength != int64(len(whole)) || !bytes.Equal(whole[4:8], []byte("ftyp")) {
		t.Fatalf("whole MP4: %s, %v, %d bytes", resp.Status, resp.Header, len(whole))
	}
	resp, part := get(play.URL, "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(whole)) ||
		!bytes.Equal(part, whole[100:200]) {
		t.Errorf("range 100-199: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Range"), len(part))
	}
	resp, tail := get(play.URL, "bytes=-50")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(tail, whole[len(whole)-50:]) {
		t.Errorf("suffix range: %s, %d bytes", resp.Status, len(tail))
	}
	if resp, _ := get(play.URL, fmt.Sprintf("bytes=%d-", len(whole))); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", len(whole)) {
		t.Errorf("range past the end: %s %q", resp.Status, resp.Header.Get("Content-Range"))
	}
	resp, dl := get(play.URL+"&download=1", "")
	if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="hall1_`) || !bytes.Equal(dl, whole) {
		t.Errorf("download: %q, %d bytes", resp.Header.Get("Content-Disposition"), len(dl))
	}
	from := time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)
	if resp, body := get("/api/cameras/hall1/recording.mp4?from="+from+"&to="+time.Now().UTC().Format(time.RFC3339), ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a span of 2 h: %s %s, want 400", resp.Status, body)
	}
	entries, err := r.svc.store.Audit(context.Background(), store.AuditQuery{User: "test-admin"})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range entries {
		if e.Target == "hall1" {
			n[e.Action]++
		}
	}
	if n["playback"] != 1 || n["download"] != 1 {
		t.Errorf("audit: %d playback and %d download entries for one span played in 4 requests and downloaded once; want 1 and 1", n["playback"], n["download"])
	}
}

// playbackOverlay: the geometry is edited now; played back from before,
// the overlay (the live wall's toggle) draws the file's lines and zones,
// in force then, with the window's state then, in both languages at both
// sizes; live, the edited ones are in force.
func playbackOverlay(t *testing.T, r *rig, user, pw string) {
	ctx := context.Background()
	st, err := r.svc.geometry.State("hall1")
	if err != nil {
		t.Fatal(err)
	}
	g := st.Geometry
	g.Windows[0].ID, g.Windows[0].Name = "w7", "7号窗口"
	saved := time.Now()
	if _, err := r.svc.geometry.Save(ctx, "hall1", st.Version, &g, "root", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if v := r.geometryVersion(t, "hall1"); v != 1 {
		t.Fatalf("geometry version %d in force after the save, want 1", v)
	}
	p := openPage(t, r.base)
	p.login(user, pw)
	for _, step := range []struct {
		size browser.Size
		lang string
		in   string // the line's label
	}{{browser.Desktop, "zh", "进"}, {browser.Phone, "en", "in"}, {browser.Desktop, "en", "in"}, {browser.Phone, "zh", "进"}} {
		p.resize(step.size)
		p.setLang(step.lang)
		p.open("/playback.html?camera=hall1")
		p.waitJS("the recorded span on the timeline", 20*time.Second, `document.querySelector("#timeline .pb-track .rec")`)
		// Go to 15 s before the save (the browser's clock runs in this
		// machine's zone).
		p.do("go to a time before the save", chromedp.SetValue(`#goto`, saved.Add(-15*time.Second).Format("15:04:05")), chromedp.Click(`#go`))
		p.waitJS("the video to play", 20*time.Second, `document.getElementById("video").currentTime > 0.5`)
		if !evalJS[bool](p.ctx, t, `document.getElementById("shapes-toggle").getAttribute("aria-pressed") === "true"`) {
			p.do("show lines and zones", chromedp.Click(`#shapes-toggle`))
		}
		// Played from before the save: version 0 (the file), its window w1.
		p.waitJS("the overlay of the played time", 15*time.Second, fmt.Sprintf(`(() => { const s = document.querySelector("#stage svg.pb-shapes");
			return s && s.dataset.version === "0" && s.querySelector('g[data-kind="window"][data-id="w1"]') && !s.querySelector('g[data-kind="window"][data-id="w7"]') &&
				s.querySelector('g[data-kind="line"] text').textContent.includes(%q); })()`, step.in))
		played := evalJS[float64](p.ctx, t, `+document.querySelector("#stage svg.pb-shapes").dataset.at`)
		if at := time.UnixMilli(int64(played)); !at.Before(saved) {
			t.Errorf("overlay drawn for %v, want a played time before the save", at)
		}
		// The window's state then, as stored: the page shows the answer for
		// that time, labelled in the page's language.
		var want struct {
			Windows []struct{ ID, State string } `json:"windows"`
		}
		r.getJSON(t, "/api/cameras/hall1/overlay?at="+url.QueryEscape(time.UnixMilli(int64(played)).UTC().Format(time.RFC3339Nano)), &want)
		state := evalJS[string](p.ctx, t, `document.querySelector('#stage svg.pb-shapes g[data-kind="window"][data-id="w1"]').dataset.state`)
		if len(want.Windows) != 1 || state != want.Windows[0].State || state == "none" {
			t.Errorf("w1 drawn %q at the played time, the stored state then is %+v", state, want.Windows)
		}
		p.checkLayout("playback overlay", []string{"大厅一", "景山街道市民服务中心", "东城区", "1号窗口", "正门"})
		p.shot("playback-overlay")
	}
	p.do("hide lines and zones", chromedp.Click(`#shapes-toggle`))
	p.waitJS("the overlay gone", 5*time.Second, `!document.querySelector("#stage svg.pb-shapes")`)
	p.check()
}
