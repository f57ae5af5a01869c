package service

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/internal/testzone"
	"github.com/hallwatch/hallwatch/store"
)

// rolePage is a page a role uses and what shows it is ready.
type rolePage struct {
	name, path, ready string
}

// TestBrowserPagesPerRole logs in through the login page as each role and
// checks where it lands (supervisor: live wall, manager: window board,
// planner: counts), then shows each of its pages at 1366×768 and 390×844,
// in Chinese and English: nothing wider than the screen, no wording left
// untranslated, no script error or failed request; screenshots of every
// one. On the way: login errors in the user's language (a lockout says how
// long), the board greys the windows of an offline camera, a manager
// acknowledges two alerts at once, a comment typed when the login expires
// is kept and sent after the next login, a new alert sounds and notifies,
// and the admin page shows cameras by name, times locally, refreshes its
// lists after a change and unlocks the locked-out account.
func TestBrowserPagesPerRole(t *testing.T) {
	zone := testzone.Midday()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	dbPath := filepath.Join(t.TempDir(), "hallwatch.db")
	seedVisits(t, dbPath, loc, today)
	alertIDs := seedAlerts(t, dbPath)
	cfg := testConfig(t, dbPath)
	twoCenters(t, cfg, zone)
	cfg.Alerts.CameraOfflineAfter = config.Duration(time.Hour) // the alerts shown are the test's own
	r := startServiceConfig(t, cfg)
	users := map[string]string{}
	for _, u := range []struct {
		name, role string
		scope      auth.UserScope
	}{
		{"root", auth.RoleAdmin, auth.UserScope{}},
		{"wang", auth.RoleDistrictSupervisor, auth.UserScope{Districts: []string{"dongcheng"}}},
		{"zhang", auth.RoleCenterManager, auth.UserScope{Centers: []string{"jingshan"}}},
		{"li", auth.RolePlanner, auth.UserScope{Districts: []string{"dongcheng"}}},
		{"chen", auth.RoleCenterManager, auth.UserScope{Centers: []string{"donghuamen"}}},
	} {
		_, users[u.name] = pageUser(t, r, u.name, u.role, u.scope)
	}
	names := placeNames(cfg, "root", "wang", "zhang", "li", "chen", "东华门窗口已联系", "两个窗口都已联系", "新员工")

	p := openPage(t, r.base)
	ctx, cancel := context.WithTimeout(p.ctx, 6*time.Minute)
	defer cancel()
	p.ctx = ctx

	// The login page, its errors in both languages; a lockout says how long.
	p.expect("/api/login answered 401")
	p.expect("/api/login answered 429")
	p.open("/healthz")
	p.setLang("zh")
	p.open("/login.html")
	loginForm := func(user, pw string) {
		t.Helper()
		p.do("log in as "+user,
			chromedp.WaitVisible(`#login input[name=username]`),
			chromedp.SetValue(`#login input[name=username]`, user),
			chromedp.SetValue(`#login input[name=password]`, pw),
			chromedp.Click(`#login button[type=submit]`))
	}
	errorText := func() string {
		p.waitJS("a login error", 10*time.Second, `document.querySelector("#login .error").textContent !== ""`)
		msg := evalJS[string](ctx, t, `document.querySelector("#login .error").textContent`)
		evalJS[bool](ctx, t, `(document.querySelector("#login .error").textContent = "") || true`)
		return msg
	}
	loginForm("chen", "wrong-password-0")
	if msg := errorText(); msg != "用户名或密码错误" {
		t.Errorf("wrong password, in Chinese: %q", msg)
	}
	p.do("English", chromedp.Click(`#lang`))
	p.lang = "en"
	for range 4 { // the default lockout is 5 failures
		loginForm("chen", "wrong-password-0")
		if msg := errorText(); msg != "Wrong user name or password" {
			t.Errorf("wrong password, in English: %q", msg)
		}
	}
	loginForm("chen", users["chen"])
	if msg := errorText(); !strings.Contains(msg, "locked") || !strings.Contains(msg, "15 min") {
		t.Errorf("locked out, in English: %q", msg)
	}
	shotPages(p, []rolePage{{"login", "/login.html", `document.querySelector("#login input[name=username]")`}}, names)

	landing := map[string]string{"root": "/", "wang": "/", "zhang": "/board.html?center=jingshan", "li": "/planner.html"}
	pages := map[string][]rolePage{
		"root": {
			{"admin", "/admin.html", `document.querySelectorAll("#users tbody tr").length >= 5 && document.querySelectorAll("#audit tbody tr").length > 0`},
			{"alert-record", fmt.Sprintf("/alert.html?id=%d", alertIDs.resolved), `document.querySelectorAll("#facts dt").length > 4 && document.querySelector("#bigshot img").naturalWidth > 0`},
		},
		"wang": {
			{"wall-offline", "/?district=dongcheng", `document.querySelectorAll('#tiles figure.tile[data-state="offline"]').length === 2`},
			{"alerts", "/alerts.html", `document.querySelectorAll("#list .alert").length === 3`},
		},
		"zhang": {
			{"board", "/board.html?center=jingshan", `document.querySelectorAll("#windows .win").length === 2 && document.querySelectorAll("#open-alerts .alert").length > 0`},
		},
		"li": {
			{"planner", "/planner.html", `document.querySelectorAll("#compare tbody tr[data-center]").length === 2 && document.querySelector("#chart svg")`},
		},
	}
	for _, role := range []string{"wang", "zhang", "li", "root"} {
		p.resize(browser.Desktop)
		p.setLang("zh")
		p.open("/login.html")
		loginForm(role, users[role])
		p.waitJS(role+" lands on its page", 10*time.Second, fmt.Sprintf(`location.pathname + location.search === %q`, landing[role]))
		shotPages(p, pages[role], names)
		switch role {
		case "zhang":
			managerFeatures(t, p, r, alertIDs, users["zhang"])
		case "root":
			adminFeatures(t, p, r, users["chen"])
		}
		p.resize(browser.Desktop)
		p.do("log out", chromedp.Click(`#logout`))
		p.waitJS("the login page", 10*time.Second, `location.pathname === "/login.html"`)
	}
	p.check()
}

// shotPages shows each page at both sizes and in both languages, checks it
// and keeps a screenshot.
func shotPages(p *page, pages []rolePage, names []string) {
	p.t.Helper()
	for _, pg := range pages {
		for _, lang := range []string{"zh", "en"} {
			for _, size := range []browser.Size{browser.Desktop, browser.Phone} {
				p.resize(size)
				p.setLang(lang)
				p.open(pg.path)
				p.waitJS(pg.name, 20*time.Second, pg.ready)
				p.checkLayout(pg.name, names)
				p.shot(pg.name)
			}
		}
	}
	p.check()
}

// seededAlerts are the alerts seedAlerts stored.
type seededAlerts struct {
	jingshan []int64 // open, at jingshan's windows w1 and w2
	other    int64   // open, at donghuamen
	resolved int64   // at jingshan, resolved, with a snapshot
}

// seedAlerts stores open alerts (with snapshots) at both centers and a
// resolved one, before the service opens the database.
func seedAlerts(t *testing.T, dbPath string) seededAlerts {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	raise := func(center, camera, window string, ago time.Duration, seed int) int64 {
		a, _, err := st.RaiseAlert(ctx, store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: center,
			Camera: camera, Window: window, RaisedAt: now.Add(-ago), Snapshot: testJPEG(t, seed)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	var s seededAlerts
	s.resolved = raise("jingshan", "js-hall", "w2", 50*time.Minute, 3)
	if _, _, err := st.ResolveAlert(ctx, s.resolved, now.Add(-45*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	s.jingshan = []int64{raise("jingshan", "js-hall", "w1", 9*time.Minute, 0), raise("jingshan", "js-hall", "w2", 6*time.Minute, 1)}
	s.other = raise("donghuamen", "dhm-hall", "w1", 4*time.Minute, 2)
	return s
}

// managerFeatures, as the manager of jingshan on the board: the offline
// camera's windows are grey; a new alert sounds and notifies; two alerts
// acknowledged at once; a comment typed as the login expires is kept and
// sent after the next login.
func managerFeatures(t *testing.T, p *page, r *rig, alerts seededAlerts, password string) {
	t.Helper()
	ctx0 := context.Background()
	p.resize(browser.Desktop)
	p.setLang("zh")
	p.do("allow notifications", browser.GrantNotifications(r.base))
	evalJS[bool](p.ctx, t, `localStorage.setItem("hw.notify.zhang", JSON.stringify({desktop: true, sound: true})) || true`)
	p.open("/board.html?center=jingshan")
	p.waitJS("the board, live", 20*time.Second, `document.querySelectorAll("#windows .win").length === 2 && document.getElementById("live").dataset.state === "live"`)
	if states := evalJS[[]string](p.ctx, t, `[...document.querySelectorAll("#windows .win")].map((w) => w.dataset.state)`); strings.Join(states, ",") != "offline,offline" {
		t.Errorf("windows of an offline camera show %v, want grey offline (not red alerted)", states)
	}
	if c := evalJS[string](p.ctx, t, `getComputedStyle(document.querySelector("#windows .win")).backgroundColor`); c != "rgb(238, 241, 245)" {
		t.Errorf("an offline camera's window is %s, want the legend's grey", c)
	}

	// A new alert in the manager's center: sound and desktop notification.
	ref, _ := r.svc.cfg.Camera("js-hall")
	jpeg := testJPEG(t, 4)
	if err := r.svc.alerts.Record(ctx0, ref, []events.Event{{Type: events.TypeAlert, Kind: events.KindUnstaffed, Camera: "js-hall", Window: "w3",
		State: events.AlertRaised, Time: time.Now()}}, func(string) []byte { return jpeg }); err != nil {
		t.Fatal(err)
	}
	p.waitJS("the reminder of the new alert", 10*time.Second, `window.hwReminded.some((r) => r.desktop && r.sound && r.title.includes("窗口无人值守"))`)
	p.waitJS("three open alerts", 10*time.Second, `document.querySelectorAll("#open-alerts .alert").length === 3`)
	p.shot("board-new-alert")

	// Two at once, with one comment.
	picks := fmt.Sprintf(`#open-alerts .alert[data-alert="%d"] input.pick`, alerts.jingshan[0])
	picks2 := fmt.Sprintf(`#open-alerts .alert[data-alert="%d"] input.pick`, alerts.jingshan[1])
	p.do("tick two", chromedp.Click(picks), chromedp.Click(picks2))
	if !evalJS[bool](p.ctx, t, `document.querySelector("form.bulkack button[type=submit]").disabled`) {
		t.Error("bulk acknowledgement enabled before a verdict is chosen")
	}
	p.pickVerdict("form.bulkack", "confirmed")
	p.do("acknowledge two",
		chromedp.SendKeys(`form.bulkack input[name=comment]`, "两个窗口都已联系"),
		chromedp.Click(`form.bulkack button[type=submit]`))
	p.waitJS("both acknowledged", 10*time.Second, fmt.Sprintf(`[%d, %d].every((id) => (document.querySelector('#open-alerts .alert[data-alert="' + id + '"] .acked-by') || {}).textContent)`,
		alerts.jingshan[0], alerts.jingshan[1]))
	for _, id := range alerts.jingshan {
		if a, _ := r.svc.store.Alert(ctx0, id); a.AckedBy != "zhang" || a.AckComment != "两个窗口都已联系" || a.Verdict != store.VerdictConfirmed {
			t.Errorf("alert %d acknowledged by %q with %q, verdict %q", id, a.AckedBy, a.AckComment, a.Verdict)
		}
	}
	p.shot("board-bulk-acked")

	// A comment typed while the login expires: kept as a draft over a
	// reload, sent after the next login.
	open := evalJS[int64](p.ctx, t, `+[...document.querySelectorAll("#open-alerts .alert")].find((e) => e.querySelector("form.ack")).dataset.alert`)
	card := fmt.Sprintf(`#open-alerts .alert[data-alert="%d"]`, open)
	p.pickVerdict(card, "clerk_present")
	p.do("type a comment", chromedp.SendKeys(card+` input[name=comment]`, "东华门窗口已联系"))
	p.open("/board.html?center=jingshan")
	p.waitJS("the draft kept over a reload", 10*time.Second, fmt.Sprintf(`(document.querySelector('%s input[name=comment]') || {}).value === "东华门窗口已联系" &&
		document.querySelector('%s select[name=verdict]').value === "clerk_present" && !document.querySelector('%s button[type=submit]').disabled`, card, card, card))
	u, _ := r.svc.store.UserByName(ctx0, "zhang")
	if _, err := r.svc.store.DeleteUserSessions(ctx0, u.ID); err != nil { // the login expires
		t.Fatal(err)
	}
	p.expect(fmt.Sprintf("/api/alerts/%d/ack answered 401", open))
	p.expect("answered 401") // the page's next refresh meets the expired login too
	// The click goes at once; a refresh of the page may still find the
	// login expired first and go to the login page, the comment kept as a
	// draft: then it is acknowledged after the login.
	clicked := evalJS[bool](p.ctx, t, fmt.Sprintf(`(() => { const b = document.querySelector('%s button[type=submit]'); if (b) b.click(); return !!b; })()`, card))
	p.waitJS("the login page", 10*time.Second, `location.pathname === "/login.html"`)
	p.do("log in again",
		chromedp.WaitVisible(`#login input[name=username]`),
		chromedp.SetValue(`#login input[name=username]`, "zhang"),
		chromedp.SetValue(`#login input[name=password]`, password),
		chromedp.Click(`#login button[type=submit]`))
	p.waitJS("back on the board", 10*time.Second, `location.pathname === "/board.html"`)
	acked := func() bool {
		a, _ := r.svc.store.Alert(ctx0, open)
		return a.AckComment == "东华门窗口已联系" && a.AckedBy == "zhang" && a.VerdictReason == store.ReasonClerkPresent
	}
	for deadline := time.Now().Add(10 * time.Second); !acked() && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if !acked() {
		t.Logf("the page went to the login before the click took (clicked: %v): the draft is acknowledged after it", clicked)
		clicked = false
		p.waitJS("the draft back in its card", 10*time.Second, fmt.Sprintf(`(document.querySelector('%s input[name=comment]') || {}).value === "东华门窗口已联系"`, card))
		p.do("acknowledge", chromedp.Click(card+` button[type=submit]`))
		waitFor(t, "the acknowledgement with the kept comment", 10*time.Second, acked)
	}
	if clicked {
		p.waitJS("the page says it was sent", 10*time.Second, `[...document.querySelectorAll(".toast")].some((e) => e.textContent.includes("已提交")) ||
			document.querySelector(".acked-by")`)
	}
	// Acknowledged alerts, their comments and the history, in English too.
	p.setLang("en")
	p.open("/board.html?center=jingshan")
	p.waitJS("the board with its acknowledgements", 20*time.Second, `document.querySelectorAll("#today td.acked-by").length > 0 &&
		[...document.querySelectorAll("#today td.acked-by")].some((td) => td.textContent.includes("by zhang"))`)
	p.checkLayout("board after acknowledgements", placeNames(r.svc.cfg, "zhang", "两个窗口都已联系", "东华门窗口已联系"))
	p.shot("board-acked")
	p.check()
}

// adminFeatures, on the admin page: a viewing's camera by name and its
// end in local time; a new user shows in the users and the audit log at
// once; the account locked out by failed logins is unlocked and logs in.
func adminFeatures(t *testing.T, p *page, r *rig, chenPassword string) {
	t.Helper()
	ctx0 := context.Background()
	started := time.Now().Add(-3 * time.Minute).Truncate(time.Second)
	ended := started.Add(2*time.Minute + 5*time.Second)
	if err := r.svc.store.AppendAudit(ctx0, store.AuditEntry{Time: started, User: "wang", Action: "watch", Target: "dhm-hall",
		Detail: fmt.Sprintf("until %s, 2m5s of video", ended.UTC().Format(time.RFC3339)), RemoteAddr: "10.1.2.3"}); err != nil {
		t.Fatal(err)
	}
	p.resize(browser.Desktop)
	p.setLang("en")
	p.open("/admin.html")
	p.waitJS("the viewing in the audit log", 10*time.Second, `document.querySelector('#audit tr[data-action="watch"]')`)
	row := evalJS[string](p.ctx, t, `document.querySelector('#audit tr[data-action="watch"]').innerText`)
	local := evalJS[string](p.ctx, t, fmt.Sprintf(`new Date(%q).toLocaleString("en-GB", {hour12: false, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit"})`,
		ended.UTC().Format(time.RFC3339)))
	if !strings.Contains(row, "东华门 一楼大厅") || strings.Contains(row, "dhm-hall") || !strings.Contains(row, local) || strings.Contains(row, "Z,") || !strings.Contains(row, "02:05") {
		t.Errorf("audit row of a viewing %q: want the camera's name and its end at %s local, 02:05 of video", row, local)
	}
	p.do("add a user",
		chromedp.SendKeys(`#userform input[name=name]`, "zhao"),
		chromedp.SendKeys(`#userform input[name=display_name]`, "新员工"),
		chromedp.SetValue(`#userform select[name=role]`, "planner"),
		chromedp.Click(`#centers input[value=jingshan]`),
		chromedp.Click(`#userform button[type=submit]`))
	p.waitJS("the new user listed and audited without a reload", 10*time.Second,
		`document.querySelector('#users tr[data-user="zhao"]') && [...document.querySelectorAll('#audit tr[data-action="user_create"]')].some((tr) => tr.innerText.includes("zhao"))`)
	p.shot("admin-user-added")

	// The account locked out at the start of the test: unlocked from the
	// page, it logs in again.
	p.waitJS("the locked account", 10*time.Second, `document.querySelector('#users tr[data-user="chen"] button.unlock') &&
		document.querySelector('#users tr[data-user="chen"] td.locked').textContent.startsWith("locked until")`)
	p.shot("admin-locked")
	p.do("unlock", chromedp.Click(`#users tr[data-user="chen"] button.unlock`))
	p.waitJS("unlocked, and audited", 10*time.Second, `!document.querySelector('#users tr[data-user="chen"] button.unlock') &&
		[...document.querySelectorAll('#audit tr[data-action="user_unlock"]')].some((tr) => tr.innerText.includes("chen"))`)
	resp, err := http.Post(r.base+"/api/login", "application/json", strings.NewReader(fmt.Sprintf(`{"username":"chen","password":%q}`, chenPassword)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("login after the unlock: %s", resp.Status)
	}
	p.check()
}
