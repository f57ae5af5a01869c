package service

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/store"
)

// twoCenters is a district of two centers, each with one hall camera that
// nothing answers at (the pages read stored data only) and two windows.
func twoCenters(t *testing.T, cfg *config.Config) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "rtsp://" + ln.Addr().String() + "/none"
	ln.Close()
	scene, err := demo.NewScene(demo.SceneOptions{Windows: 2})
	if err != nil {
		t.Fatal(err)
	}
	cam := func(id, name string) []config.Camera {
		return []config.Camera{{ID: id, Name: name, URL: dead, Analytics: scene.Analytics()}}
	}
	cfg.Districts = []config.District{{ID: "dongcheng", Name: "东城区", Centers: []config.Center{
		{ID: "jingshan", Name: "景山街道市民服务中心", Cameras: cam("js-hall", "景山 一楼大厅")},
		{ID: "donghuamen", Name: "东华门街道市民服务中心", Cameras: cam("dhm-hall", "东华门 一楼大厅")},
	}}}
}

// seededVisits is the ground truth the planner test stores: visitors in per
// center, local day and hour.
type seededVisits map[string]map[string]map[int]int // center → YYYY-MM-DD → hour → in

func (v seededVisits) day(center, day string) int {
	n := 0
	for _, c := range v[center][day] {
		n += c
	}
	return n
}

// seedVisits stores crossings for the 7 days up to today (Asia/Shanghai)
// through the store, before the service opens the database. One day of
// jingshan has none, to check that the chart shows empty days.
func seedVisits(t *testing.T, dbPath string, loc *time.Location, days []time.Time) seededVisits {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	truth := seededVisits{}
	var recs []store.EventRecord
	cameras := map[string]string{"jingshan": "js-hall", "donghuamen": "dhm-hall"}
	for ci, center := range []string{"jingshan", "donghuamen"} {
		truth[center] = map[string]map[int]int{}
		for di, day := range days {
			key := day.Format(time.DateOnly)
			truth[center][key] = map[int]int{}
			if center == "jingshan" && di == 2 {
				continue
			}
			for h := 8; h < 18; h++ {
				n := (di*7 + ci*3 + h*5) % 5
				truth[center][key][h] = n
				for k := range n {
					at := time.Date(day.Year(), day.Month(), day.Day(), h, 5+10*k, 0, 0, loc)
					for _, dir := range []string{events.DirectionIn, events.DirectionOut} {
						recs = append(recs, store.EventRecord{District: "dongcheng", Center: center, Loc: loc,
							Event: events.Event{Type: events.TypeCrossing, Camera: cameras[center], Line: "door", Direction: dir, Time: at.Add(time.Duration(len(dir)) * time.Minute)}})
					}
				}
			}
			// A staffed day with one absence, for the staffing report.
			for _, w := range []string{"w1", "w2"} {
				for _, ch := range []struct {
					hour, min int
					state     string
				}{{9, 0, events.StateStaffed}, {12, 0, events.StateAbsent}, {12, 40, events.StateStaffed}} {
					one := 1
					if ch.state == events.StateAbsent {
						one = 0
					}
					recs = append(recs, store.EventRecord{District: "dongcheng", Center: center, Loc: loc,
						Event: events.Event{Type: events.TypeWindow, Camera: cameras[center], Window: w, State: ch.state, Count: &one,
							Time: time.Date(day.Year(), day.Month(), day.Day(), ch.hour, ch.min, 0, 0, loc)}})
				}
			}
		}
	}
	if err := st.AppendEvents(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// One alert at jingshan w1 on the day before yesterday.
	d := days[len(days)-3]
	a, _, err := st.RaiseAlert(ctx, store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: "jingshan",
		Camera: "js-hall", Window: "w1", RaisedAt: time.Date(d.Year(), d.Month(), d.Day(), 12, 1, 0, 0, loc)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ResolveAlert(ctx, a.ID, time.Date(d.Year(), d.Month(), d.Day(), 12, 40, 0, 0, loc), nil); err != nil {
		t.Fatal(err)
	}
	// Its manager judged it a false alarm: the clerk was there.
	if err := st.AckAlert(ctx, a.ID, store.Ack{By: "zhang", Verdict: store.VerdictFalseAlarm, Reason: store.ReasonClerkPresent,
		At: time.Date(d.Year(), d.Month(), d.Day(), 13, 0, 0, 0, loc)}); err != nil {
		t.Fatal(err)
	}
	return truth
}

// TestBrowserPlannerShowsStoredCounts stores a week of crossings for two
// centers, opens the planner as a planner and checks the chart's bars, the
// comparison table and the staffing table against what was stored and
// against the API.
func TestBrowserPlannerShowsStoredCounts(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	now := time.Now().In(loc)
	var days []time.Time
	for i := 6; i >= 0; i-- {
		days = append(days, time.Date(now.Year(), now.Month(), now.Day()-i, 0, 0, 0, 0, loc))
	}
	from, to := days[0].Format(time.DateOnly), days[6].Format(time.DateOnly)
	dbPath := filepath.Join(t.TempDir(), "hallwatch.db")
	truth := seedVisits(t, dbPath, loc, days)
	cfg := testConfig(t, dbPath)
	twoCenters(t, cfg)
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "li", auth.RolePlanner, auth.UserScope{Districts: []string{"dongcheng"}})

	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	pageErrs := watchPageErrors(ctx)
	browserLogin(ctx, t, r.base, user, pw)
	url := fmt.Sprintf("%s/planner.html?scope=d:dongcheng&from=%s&to=%s&bucket=day&center=jingshan", r.base, from, to)
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "planner chart and table", 20*time.Second,
		`document.querySelectorAll("#chart rect.bar").length > 0 && document.querySelectorAll("#compare tbody tr[data-center]").length === 2`)

	// The chart: one bar per day of the range, each the day's stored visitors.
	bars := evalJS[[]int](ctx, t, `[...document.querySelectorAll("#chart rect.bar")].map((r) => +r.dataset.value)`)
	var want []int
	for _, d := range days {
		want = append(want, truth.day("jingshan", d.Format(time.DateOnly)))
	}
	if !slices.Equal(bars, want) {
		t.Errorf("chart bars %v, want the stored visitors per day %v", bars, want)
	}
	tips := evalJS[[]string](ctx, t, `[...document.querySelectorAll("#chart g.slot > title")].map((e) => e.textContent)`)
	if len(tips) != 7 || !strings.HasPrefix(tips[0], from) {
		t.Errorf("bar tooltips %q: want 7, the first for %s", tips, from)
	}

	// The comparison table against the API and the stored truth.
	type countsAnswer struct {
		Rows []struct {
			Center string `json:"center"`
			Start  string `json:"start"`
			In     int    `json:"in"`
		} `json:"rows"`
	}
	api := evalJS[countsAnswer](ctx, t, fmt.Sprintf(`fetch("/api/counts?district=dongcheng&from=%s&to=%s&bucket=day").then((r) => r.json())`, from, to))
	apiTotal := map[string]int{}
	for _, row := range api.Rows {
		apiTotal[row.Center] += row.In
	}
	table := evalJS[map[string]int](ctx, t, `Object.fromEntries([...document.querySelectorAll("#compare tbody tr[data-center]")].map((tr) =>
		[tr.dataset.center, +tr.querySelector("td.total").dataset.value]))`)
	sum := 0
	for _, c := range []string{"jingshan", "donghuamen"} {
		stored := 0
		for _, d := range days {
			stored += truth.day(c, d.Format(time.DateOnly))
		}
		if table[c] != apiTotal[c] || table[c] != stored {
			t.Errorf("%s: table total %d, API %d, stored %d", c, table[c], apiTotal[c], stored)
		}
		sum += stored
	}
	if foot := evalJS[int](ctx, t, `+document.querySelector("#compare tfoot td.total").dataset.value`); foot != sum {
		t.Errorf("table sum %d, want %d", foot, sum)
	}
	busiest, most := "", -1
	for _, d := range days {
		if n := truth.day("jingshan", d.Format(time.DateOnly)); n > most {
			busiest, most = d.Format(time.DateOnly), n
		}
	}
	if cell := evalJS[string](ctx, t, `document.querySelector('#compare tr[data-center="jingshan"] td.busy-day').textContent`); !strings.HasPrefix(cell, busiest) {
		t.Errorf("busiest day of jingshan %q, want %s (%d visitors)", cell, busiest, most)
	}

	// The staffing table of the chosen center against the API.
	type staffingAnswer struct {
		Rows []struct {
			Center string `json:"center"`
			Alerts int    `json:"alerts"`
		} `json:"rows"`
	}
	staff := evalJS[staffingAnswer](ctx, t, fmt.Sprintf(`fetch("/api/reports/staffing?center=jingshan&from=%s&to=%s").then((r) => r.json())`, from, to))
	staffAlerts := 0
	for _, row := range staff.Rows {
		staffAlerts += row.Alerts
	}
	shown := evalJS[[]int](ctx, t, `[...document.querySelectorAll("#staffing tbody tr[data-window] td.alerts")].map((td) => +td.dataset.value)`)
	shownAlerts := 0
	for _, n := range shown {
		shownAlerts += n
	}
	if len(shown) != len(staff.Rows) || len(shown) != 2*7 || shownAlerts != staffAlerts || shownAlerts != 1 {
		t.Errorf("staffing table: %d rows with %d alerts; API %d rows with %d alerts; stored 2 windows × 7 days, 1 alert",
			len(shown), shownAlerts, len(staff.Rows), staffAlerts)
	}
	// The one alert was judged a false alarm: its row says so, the others
	// have nothing judged.
	rates := evalJS[[]string](ctx, t, `[...document.querySelectorAll("#staffing tbody tr[data-window] td.false-alarms")].map((td) => td.textContent)`)
	if judged := slices.DeleteFunc(slices.Clone(rates), func(s string) bool { return s == "–" }); len(rates) != 2*7 || !slices.Equal(judged, []string{"100% (1/1)"}) {
		t.Errorf("staffing table's false-alarm cells %q, want one 100%% (1/1)", rates)
	}

	// The CSV download link answers a CSV with a row per API row.
	csv := evalJS[string](ctx, t, `fetch(document.querySelector('#downloads a[href^="/api/counts.csv"]').href).then((r) => r.text())`)
	if lines := strings.Count(strings.TrimSpace(csv), "\n") + 1; lines != len(api.Rows)+1 {
		t.Errorf("counts CSV has %d lines, want a header and %d rows", lines, len(api.Rows))
	}
	t.Logf("screenshot: %s", browser.Screenshot(ctx, t, "planner-day"))

	// Per hour: a point per hour of the range, adding up to the week's visitors.
	evalJS[bool](ctx, t, `(() => { const s = document.getElementById("bucket"); s.value = "hour"; s.dispatchEvent(new Event("change")); return true; })()`)
	points := evalJS[[]int](ctx, t, `[...document.querySelectorAll("#chart circle.pt")].map((c) => +c.dataset.value)`)
	total := 0
	for _, n := range points {
		total += n
	}
	if len(points) != 7*24 || total != table["jingshan"] {
		t.Errorf("hourly chart: %d points adding up to %d, want %d points adding up to %d", len(points), total, 7*24, table["jingshan"])
	}
	for _, d := range days {
		for h, n := range truth["jingshan"][d.Format(time.DateOnly)] {
			if i := 24*int(d.Sub(days[0]).Round(24*time.Hour).Hours()/24) + h; i < len(points) && points[i] != n {
				t.Errorf("hourly chart %s %02d:00: %d, stored %d", d.Format(time.DateOnly), h, points[i], n)
			}
		}
	}
	t.Logf("screenshot: %s", browser.Screenshot(ctx, t, "planner-hour"))
	pageErrs.check(t)
}

// TestBrowserDistrictAlertsLive opens the district's open alerts as its
// supervisor and checks that an acknowledgement made elsewhere reaches the
// page over the live stream.
func TestBrowserDistrictAlertsLive(t *testing.T) {
	ctx0 := context.Background()
	dbPath := filepath.Join(t.TempDir(), "hallwatch.db")
	st, err := store.Open(ctx0, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ids []int64
	for i, a := range []store.AlertRecord{
		{Kind: events.KindUnstaffed, District: "dongcheng", Center: "jingshan", Camera: "js-hall", Window: "w2", RaisedAt: now.Add(-9 * time.Minute)},
		{Kind: events.KindUnstaffed, District: "dongcheng", Center: "donghuamen", Camera: "dhm-hall", Window: "w1", RaisedAt: now.Add(-4 * time.Minute)},
	} {
		a.Snapshot = testJPEG(t, i)
		stored, _, err := st.RaiseAlert(ctx0, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, stored.ID)
	}
	st.Close()
	cfg := testConfig(t, dbPath)
	twoCenters(t, cfg)
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "wang", auth.RoleDistrictSupervisor, auth.UserScope{Districts: []string{"dongcheng"}})

	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	pageErrs := watchPageErrors(ctx)
	browserLogin(ctx, t, r.base, user, pw)
	if err := chromedp.Do(ctx, chromedp.Navigate(r.base+"/alerts.html?district=dongcheng")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "two alert cards, the stream live", 20*time.Second,
		`document.querySelectorAll("#list .alert").length === 2 && document.getElementById("live").dataset.state === "live"`)
	order := evalJS[[]int64](ctx, t, `[...document.querySelectorAll("#list .alert")].map((e) => +e.dataset.alert)`)
	if !slices.Equal(order, []int64{ids[1], ids[0]}) {
		t.Errorf("alert cards %v, want the newest first %v", order, []int64{ids[1], ids[0]})
	}
	links := evalJS[[]string](ctx, t, `[...document.querySelectorAll("#list .alert .where a")].map((a) => a.getAttribute("href"))`)
	if !slices.Equal(links, []string{"/board.html?center=donghuamen", "/board.html?center=jingshan"}) {
		t.Errorf("links to the boards %q", links)
	}
	if n := evalJS[int](ctx, t, `document.querySelectorAll("#list .alert form.ack").length`); n != 0 {
		t.Errorf("a district supervisor may not acknowledge, yet %d cards offer it", n)
	}
	waitJS(ctx, t, "snapshots loaded", 10*time.Second, `[...document.querySelectorAll("#list .alert .thumb img")].every((i) => i.complete && i.naturalWidth > 0)`)

	// The center manager acknowledges (here through the alert desk); the
	// supervisor's page shows it without a reload.
	if _, err := r.svc.alerts.Ack(ctx0, ids[0], store.Ack{By: "zhang", Verdict: store.VerdictConfirmed, Comment: "已联系窗口"}); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "the acknowledgement on the page", 10*time.Second,
		fmt.Sprintf(`(document.querySelector('#list .alert[data-alert="%d"] .acked-by') || {}).textContent`, ids[0]))
	if txt := evalJS[string](ctx, t, fmt.Sprintf(`document.querySelector('#list .alert[data-alert="%d"]').innerText`, ids[0])); !strings.Contains(txt, "zhang") || !strings.Contains(txt, "已联系窗口") {
		t.Errorf("acknowledged card says %q, want who and the comment", txt)
	}
	summary := evalJS[map[string]string](ctx, t, `Object.fromEntries([...document.querySelectorAll("#summary li")].map((li) => [li.dataset.center, li.className]))`)
	if summary["jingshan"] != "bad" || summary["donghuamen"] != "bad" {
		t.Errorf("center summary %v: both centers have an open alert", summary)
	}
	t.Logf("screenshot: %s", browser.Screenshot(ctx, t, "district-alerts"))

	// Without a center, the board offers the user's centers.
	if err := chromedp.Do(ctx, chromedp.Navigate(r.base+"/board.html")); err != nil {
		t.Fatal(err)
	}
	waitJS(ctx, t, "the center picker", 10*time.Second, `document.querySelectorAll("#centers a[data-center]").length === 2`)
	pageErrs.check(t)
}
