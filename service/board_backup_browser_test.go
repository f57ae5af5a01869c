package service

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/report"
	"github.com/hallwatch/hallwatch/store"
)

// abPostHall: three windows, w1's backup is w2 (the AB post). w1's clerk
// leaves within seconds for over a minute and a half and w2's clerk walks
// over and covers; nobody comes in meanwhile (the first visitor is due
// after two and a half minutes).
var abPostHall = demo.SceneOptions{Seed: 3, Windows: 3, Covered: 1, StillClerk: -1,
	VisitorInterval:   demo.Range{Min: 5 * time.Minute, Max: 6 * time.Minute},
	ClerkAway:         demo.Range{Min: 100 * time.Second, Max: 110 * time.Second},
	ClerkAwayInterval: demo.Range{Min: 6 * time.Second, Max: 8 * time.Second}}

// TestBrowserBoardABPost runs the service on the simulated AB-post hall:
// the manager's board shows w1 staffed by its backup and w2 covering it,
// in both languages at desktop and phone size, neither raises an alert,
// and the staffing report counts minutes by backup and covering.
func TestBrowserBoardABPost(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the simulated hall for a minute")
	}
	cam := runDemoCamera(t, abPostHall)
	cfg := testConfig(t, filepath.Join(t.TempDir(), "hallwatch.db"))
	cam.AddTo(cfg, []demo.Hall{{District: "dongcheng", DistrictName: "东城区", Center: "jingshan", CenterName: "景山街道市民服务中心",
		Camera: "hall", CameraName: "景山 一楼大厅"}})
	if b := cfg.Districts[0].Centers[0].Cameras[0].Analytics.Windows[0].Backup; b != "w2" {
		t.Fatalf("w1's backup %q, want w2", b)
	}
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "zhang", auth.RoleCenterManager, auth.UserScope{Centers: []string{"jingshan"}})
	names := placeNames(cfg, "zhang")

	p := openPage(t, r.base)
	p.login(user, pw)
	tiles := `(() => { const s = (w) => (document.querySelector('#windows .win[data-window="' + w + '"]') || {dataset: {}}).dataset.state;
		return s("w1") === "staffed_by_backup" && s("w2") === "covering"; })()`
	p.open("/board.html?center=jingshan")
	p.waitJS("w1 staffed by backup, w2 covering", 90*time.Second, tiles)
	for _, step := range []struct {
		size                   browser.Size
		lang, backup, covering string
	}{
		{browser.Desktop, "zh", "AB岗顶岗中", "顶岗 1号窗口"},
		{browser.Phone, "en", "Staffed by backup", "Covering 1号窗口"},
		{browser.Desktop, "en", "Staffed by backup", "Covering 1号窗口"},
		{browser.Phone, "zh", "AB岗顶岗中", "顶岗 1号窗口"},
	} {
		p.resize(step.size)
		p.setLang(step.lang)
		p.open("/board.html?center=jingshan")
		p.waitJS("the AB post on the board", 20*time.Second, tiles)
		type tile struct{ State, Meta string }
		got := evalJS[map[string]tile](p.ctx, t, `Object.fromEntries([...document.querySelectorAll("#windows .win")].map((w) =>
			[w.dataset.window, {state: w.querySelector(".win-state").textContent, meta: w.querySelector(".win-meta").textContent}]))`)
		if got["w1"].State != step.backup || got["w2"].State != step.covering {
			t.Errorf("%s %s: w1 reads %q, w2 %q; want %q and %q", step.lang, step.size.Name, got["w1"].State, got["w2"].State, step.backup, step.covering)
		}
		if want := map[string]string{"zh": "由 2号窗口 顶岗", "en": "covered by 2号窗口"}[step.lang]; !strings.Contains(got["w1"].Meta, want) {
			t.Errorf("%s: w1's line %q, want it to name its backup: %q", step.lang, got["w1"].Meta, want)
		}
		p.checkLayout("board", append(names, "1号窗口", "2号窗口"))
		p.shot("board-ab-post")
	}
	p.check()

	// No alert at w1 or w2 while covered; the staffing report counts it.
	ctx := context.Background()
	alerts, err := r.svc.store.Alerts(ctx, store.AlertQuery{Centers: []string{"jingshan"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		if a.Kind == events.KindUnstaffed && (a.Window == "w1" || a.Window == "w2") {
			t.Errorf("unstaffed alert at %s raised %v during the AB post", a.Window, a.RaisedAt)
		}
	}
	waitFor(t, "minutes by backup and covering in the staffing report", 30*time.Second, func() bool {
		var rep struct {
			Windows []report.WindowTotal `json:"windows"`
		}
		r.getJSON(t, "/api/reports/staffing", &rep)
		by := map[string]report.WindowTotal{}
		for _, w := range rep.Windows {
			by[w.Window] = w
		}
		// At least 0.15 minutes, so that the CSV (a tenth of a minute) shows them.
		return by["w1"].BackupMinutes >= 0.15 && by["w2"].CoveringMinutes >= 0.15 && by["w2"].BackupMinutes == 0 && by["w3"].BackupMinutes == 0
	})
	// And its CSV, a column each.
	resp := r.get(t, "/api/reports/staffing.csv")
	defer resp.Body.Close()
	recs, err := csv.NewReader(bufio.NewReader(resp.Body)).ReadAll()
	if err != nil || len(recs) < 4 {
		t.Fatalf("staffing CSV: %v, %d records", err, len(recs))
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	// A row per window and day: the hall may have run across the center's
	// midnight, so the minutes are summed over each window's days.
	type minutes struct{ backup, covering float64 }
	sum := map[string]minutes{}
	for _, rec := range recs[1:] {
		backup, err1 := strconv.ParseFloat(rec[col["backup_minutes"]], 64)
		covering, err2 := strconv.ParseFloat(rec[col["covering_minutes"]], 64)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("staffing CSV row %q: %v", rec, err)
		}
		m := sum[rec[col["window"]]]
		sum[rec[col["window"]]] = minutes{m.backup + backup, m.covering + covering}
	}
	for _, w := range []string{"w1", "w2", "w3"} {
		if m := sum[w]; (w == "w1") != (m.backup > 0) || (w == "w2") != (m.covering > 0) {
			t.Errorf("staffing CSV, window %s: backup %.1f, covering %.1f minutes", w, m.backup, m.covering)
		}
	}
}
