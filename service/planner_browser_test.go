package service

import (
	"context"
	"fmt"
	"math"
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
	"github.com/hallwatch/hallwatch/internal/testzone"
	"github.com/hallwatch/hallwatch/store"
)

// twoCenters is a district of two centers in zone, each with one hall
// camera that nothing answers at (the pages read stored data only) and two
// windows.
func twoCenters(t *testing.T, cfg *config.Config, zone string) {
	t.Helper()
	scene, err := demo.NewScene(demo.SceneOptions{Windows: 2})
	if err != nil {
		t.Fatal(err)
	}
	dead := deadURL(t)
	cam := func(id, name string) []config.Camera {
		return []config.Camera{{ID: id, Name: name, URL: dead, Analytics: scene.Analytics()}}
	}
	cfg.Districts = []config.District{{ID: "dongcheng", Name: "东城区", Centers: []config.Center{
		{ID: "jingshan", Name: "景山街道市民服务中心", Timezone: zone, Cameras: cam("js-hall", "景山 一楼大厅")},
		{ID: "donghuamen", Name: "东华门街道市民服务中心", Timezone: zone, Cameras: cam("dhm-hall", "东华门 一楼大厅")},
	}}}
}

// visits is the ground truth a planner test stores: per center, the
// instants people came in, and the first event stored (when its camera's
// analysis began: its data starts there, visitors or not).
type visits struct {
	at       map[string][]time.Time
	first    map[string]time.Time
	services map[string]int // per center: at w1, half 120 s and half 300 s long
}

// day and hour add up a center's visitors of a local day (YYYY-MM-DD), or
// of the hour starting at start.
func (v visits) day(center, day string, loc *time.Location) int {
	n := 0
	for _, at := range v.at[center] {
		if at.In(loc).Format(time.DateOnly) == day {
			n++
		}
	}
	return n
}

func (v visits) hour(center string, start time.Time) int {
	n := 0
	for _, at := range v.at[center] {
		if !at.Before(start) && at.Before(start.Add(time.Hour)) {
			n++
		}
	}
	return n
}

// seedVisits stores, before the service opens the database, crossings of
// both centers from their installation (jingshan 4 days ago, donghuamen 6)
// up to now, window states for the staffing report and one alert. Today
// always has visitors, whatever the hour.
func seedVisits(t *testing.T, dbPath string, loc *time.Location, today time.Time) visits {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	truth := visits{at: map[string][]time.Time{}, first: map[string]time.Time{}, services: map[string]int{}}
	var recs []store.EventRecord
	stored := func(center string, at time.Time) {
		if f, ok := truth.first[center]; !ok || at.Before(f) {
			truth.first[center] = at
		}
	}
	cameras := map[string]string{"jingshan": "js-hall", "donghuamen": "dhm-hall"}
	installed := map[string]int{"jingshan": 4, "donghuamen": 6}
	cross := func(center string, at time.Time) {
		truth.at[center] = append(truth.at[center], at)
		stored(center, at)
		for _, dir := range []string{events.DirectionIn, events.DirectionOut} {
			recs = append(recs, store.EventRecord{District: "dongcheng", Center: center, Loc: loc,
				Event: events.Event{Type: events.TypeCrossing, Camera: cameras[center], Line: "door", Direction: dir, Time: at.Add(time.Duration(len(dir)) * time.Second)}})
		}
	}
	for ci, center := range []string{"jingshan", "donghuamen"} {
		for di := installed[center]; di >= 0; di-- {
			day := today.AddDate(0, 0, -di)
			for h := 8; h < 18; h++ {
				for k := range (di*7 + ci*3 + h*5) % 5 {
					if at := day.Add(time.Duration(h)*time.Hour + time.Duration(5+10*k)*time.Minute); at.Before(now.Add(-time.Minute)) {
						cross(center, at)
					}
				}
			}
			// Two visitors served at w1 from 09:30, for 2 and 5 minutes.
			if start := day.Add(9*time.Hour + 30*time.Minute); start.Add(5 * time.Minute).Before(now) {
				for _, secs := range []float64{120, 300} {
					truth.services[center]++
					recs = append(recs, store.EventRecord{District: "dongcheng", Center: center, Loc: loc,
						Event: events.Event{Type: events.TypeService, Camera: cameras[center], Window: "w1", Duration: secs,
							Time: start.Add(time.Duration(secs) * time.Second)}})
				}
			}
			// A staffed day with one absence, for the staffing report:
			// w2's clerk covers w1 (AB post) 12:02-12:40.
			for _, w := range []string{"w1", "w2"} {
				abPost := map[string]string{"w1": events.StateStaffedByBackup, "w2": events.StateCovering}[w]
				for _, ch := range []struct {
					hour, min int
					state     string
				}{{9, 0, events.StateStaffed}, {12, 0, events.StateAbsent}, {12, 2, abPost}, {12, 40, events.StateStaffed}} {
					at := day.Add(time.Duration(ch.hour)*time.Hour + time.Duration(ch.min)*time.Minute)
					if at.After(now) {
						continue
					}
					one := 1
					if ch.state == events.StateAbsent || ch.state == events.StateCovering {
						one = 0
					}
					stored(center, at)
					recs = append(recs, store.EventRecord{District: "dongcheng", Center: center, Loc: loc,
						Event: events.Event{Type: events.TypeWindow, Camera: cameras[center], Window: w, State: ch.state, Count: &one, Time: at}})
				}
			}
		}
		cross(center, today.Add(now.Sub(today)/2)) // today is never empty, whatever the hour
	}
	if err := st.AppendEvents(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// One alert at jingshan w1 the day before yesterday.
	d := today.AddDate(0, 0, -2)
	a, _, err := st.RaiseAlert(ctx, store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: "jingshan",
		Camera: "js-hall", Window: "w1", RaisedAt: d.Add(12*time.Hour + time.Minute)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ResolveAlert(ctx, a.ID, d.Add(12*time.Hour+40*time.Minute), nil); err != nil {
		t.Fatal(err)
	}
	// Its manager judged it a false alarm: the clerk was there.
	if err := st.AckAlert(ctx, a.ID, store.Ack{By: "zhang", Verdict: store.VerdictFalseAlarm, Reason: store.ReasonClerkPresent,
		At: time.Date(d.Year(), d.Month(), d.Day(), 13, 0, 0, 0, loc)}); err != nil {
		t.Fatal(err)
	}
	return truth
}

// TestBrowserPlannerInTheCentersDay opens the planner as a planner in a
// browser whose clock runs in UTC, for centers in a zone whose day is
// another: the page shows the centers' last 7 days (today's visitors
// included), each center from the day it was installed (no zeros before);
// the daily, hour-of-day and weekday views overlay both centers with the
// stored numbers; the comparison and the staffing report (totals per
// window) agree with what was stored; the CSV has the chart's rows.
func TestBrowserPlannerInTheCentersDay(t *testing.T) {
	zone := testzone.NotOnUTCDay()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	var days []string
	for i := 6; i >= 0; i-- {
		days = append(days, today.AddDate(0, 0, -i).Format(time.DateOnly))
	}
	dbPath := filepath.Join(t.TempDir(), "hallwatch.db")
	truth := seedVisits(t, dbPath, loc, today)
	cfg := testConfig(t, dbPath)
	twoCenters(t, cfg, zone)
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "li", auth.RolePlanner, auth.UserScope{Districts: []string{"dongcheng"}})
	names := placeNames(cfg, user)

	p := openPage(t, r.base)
	p.do("a browser in UTC", browser.Timezone("UTC"))
	p.login(user, pw)
	if got := evalJS[string](p.ctx, t, `new Date().toLocaleDateString("en-CA")`); got == days[6] {
		t.Fatalf("the browser's day %s is the center's: the test shows nothing", got)
	}
	p.open("/planner.html")
	p.waitJS("the chart and the tables", 20*time.Second,
		`document.querySelectorAll("#chart circle.pt").length > 0 && document.querySelectorAll("#compare tbody tr[data-center]").length === 2`)
	if to := evalJS[string](p.ctx, t, `document.getElementById("to").value`); to != days[6] {
		t.Errorf("the page ends its range at %s, want the center's today %s", to, days[6])
	}

	// Daily: both centers overlaid, each from its installation.
	type point struct {
		Series string  `json:"series"`
		Index  int     `json:"index"`
		Label  string  `json:"label"`
		Value  float64 `json:"value"`
	}
	points := func() []point {
		return evalJS[[]point](p.ctx, t, `[...document.querySelectorAll("#chart .series")].flatMap((g) =>
			[...g.querySelectorAll("circle.pt")].map((c) => ({series: g.dataset.series, index: +c.dataset.index, label: c.dataset.label, value: +c.dataset.value})))`)
	}
	first := map[string]int{"jingshan": 2, "donghuamen": 0} // index of the installation day
	perCenter := map[string][]float64{}
	for _, pt := range points() {
		perCenter[pt.Series] = append(perCenter[pt.Series], pt.Value)
		if pt.Index < first[pt.Series] {
			t.Errorf("%s has a point on %s, before it was installed", pt.Series, days[pt.Index])
		} else if want := truth.day(pt.Series, days[pt.Index], loc); pt.Value != float64(want) {
			t.Errorf("%s %s: chart %v, stored %d", pt.Series, days[pt.Index], pt.Value, want)
		}
	}
	for c, idx := range first {
		if len(perCenter[c]) != 7-idx {
			t.Errorf("%s: %d daily points, want %d (from its installation)", c, len(perCenter[c]), 7-idx)
		}
		if today := perCenter[c][len(perCenter[c])-1]; today == 0 {
			t.Errorf("%s: no visitors today on the chart", c)
		}
	}

	// The comparison table: totals, days with data, average.
	type row struct {
		Total int     `json:"total"`
		Days  int     `json:"days"`
		Avg   float64 `json:"avg"`
	}
	table := evalJS[map[string]row](p.ctx, t, `Object.fromEntries([...document.querySelectorAll("#compare tbody tr[data-center]")].map((tr) =>
		[tr.dataset.center, {total: +tr.querySelector("td.total").dataset.value, days: +tr.querySelector("td.days").dataset.value, avg: +tr.querySelector("td.avg").textContent}]))`)
	for c, idx := range first {
		total := len(truth.at[c])
		if got := table[c]; got.Total != total || got.Days != 7-idx || math.Abs(got.Avg-float64(total)/float64(7-idx)) > 0.051 {
			t.Errorf("%s: table %+v, want %d visitors in %d days", c, got, total, 7-idx)
		}
	}

	// The CSV has the chart's rows, days without visitors included.
	csv := evalJS[string](p.ctx, t, `fetch(document.querySelector('#downloads a[data-csv="day"]').href).then((r) => r.text())`)
	if lines := strings.Count(strings.TrimSpace(csv), "\n") + 1; lines != len(points())+1 {
		t.Errorf("day CSV has %d lines, want a header and the chart's %d points", lines, len(points()))
	}
	p.checkLayout("planner", names)
	p.shot("planner-day")

	// Hour of day: each hour's average over the days it has data.
	p.do("hour of day", chromedp.Click(`#views button[data-view="hour"]`))
	p.waitJS("the hour profile", 5*time.Second, `document.getElementById("chart-title").textContent.includes("时段")`)
	firstHour := map[string]time.Time{}
	for c, at := range truth.first {
		firstHour[c] = at.In(loc).Truncate(time.Hour)
	}
	hourNow := time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), 0, 0, 0, loc)
	checked := 0
	for _, pt := range points() {
		h := 0
		fmt.Sscanf(pt.Label, "%d", &h)
		sum, n := 0, 0
		for _, d := range days {
			dd, _ := time.ParseInLocation(time.DateOnly, d, loc)
			start := time.Date(dd.Year(), dd.Month(), dd.Day(), h, 0, 0, 0, loc)
			if start.Before(firstHour[pt.Series]) || start.After(hourNow) {
				continue
			}
			sum += truth.hour(pt.Series, start)
			n++
		}
		if want := math.Round(10*float64(sum)/float64(n)) / 10; n == 0 || pt.Value != want {
			t.Errorf("%s %s:00: chart %v, stored average %v over %d days", pt.Series, pt.Label, pt.Value, want, n)
		}
		checked++
	}
	if checked < 2*10 {
		t.Errorf("the hour profile has %d points, want the opening hours of both centers", checked)
	}
	p.shot("planner-hour")

	// Weekday: each weekday's average over the days of that weekday.
	p.do("weekday", chromedp.Click(`#views button[data-view="weekday"]`))
	p.waitJS("the weekday profile", 5*time.Second, `document.getElementById("chart-title").textContent.includes("星期")`)
	for _, pt := range points() {
		wd := time.Weekday((pt.Index + 1) % 7) // Monday first
		sum, n := 0, 0
		for i, d := range days[first[pt.Series]:] {
			dd, _ := time.ParseInLocation(time.DateOnly, d, loc)
			if dd.Weekday() == wd {
				sum += truth.day(pt.Series, days[first[pt.Series]+i], loc)
				n++
			}
		}
		if want := math.Round(10*float64(sum)/float64(n)) / 10; n == 0 || pt.Value != want {
			t.Errorf("%s %v: chart %v, stored average %v over %d days", pt.Series, wd, pt.Value, want, n)
		}
	}
	p.shot("planner-weekday")

	// Staffing: a row per window with totals over the days since installation.
	type window struct {
		Days   int `json:"days"`
		Alerts int `json:"alerts"`
	}
	windows := evalJS[map[string]window](p.ctx, t, `Object.fromEntries([...document.querySelectorAll("#staffing tbody tr[data-window]")].map((tr) =>
		[tr.dataset.window, {days: +tr.querySelector("td.days").dataset.value, alerts: +tr.querySelector("td.alerts").dataset.value}]))`)
	if len(windows) != 2 || windows["w1"].Days != 5 || windows["w2"].Days != 5 || windows["w1"].Alerts+windows["w2"].Alerts != 1 {
		t.Errorf("staffing totals of jingshan %+v: want 2 windows of 5 days, 1 alert", windows)
	}
	// The one alert was judged a false alarm: its window's row says so, the
	// other has nothing judged, and so do the per-day rows.
	for _, table := range []string{"#staffing tbody", "#staffing-daily tbody"} {
		rates := evalJS[[]string](p.ctx, t, `[...document.querySelectorAll("`+table+` tr[data-window] td.false-alarms")].map((td) => td.textContent)`)
		if judged := slices.DeleteFunc(slices.Clone(rates), func(s string) bool { return s == "–" }); len(rates) == 0 || !slices.Equal(judged, []string{"100% (1/1)"}) {
			t.Errorf("%s: false-alarm cells %q, want one 100%% (1/1)", table, rates)
		}
	}
	if n := evalJS[int](p.ctx, t, `document.querySelectorAll("#staffing-daily tbody tr[data-day]").length`); n != 2*5 {
		t.Errorf("%d staffing rows per day, want 2 windows × 5 days", n)
	}
	// The day before yesterday, w2's clerk covered w1 for 38 minutes.
	abPost := evalJS[[]string](p.ctx, t, `[...document.querySelectorAll("#staffing-daily tbody tr[data-day='`+today.AddDate(0, 0, -2).Format(time.DateOnly)+`']")].map((tr) =>
		tr.dataset.window + " " + tr.querySelector("td.backup").dataset.value + " " + tr.querySelector("td.covering").dataset.value)`)
	if !slices.Equal(abPost, []string{"w1 38 0", "w2 0 38"}) {
		t.Errorf("minutes by backup and covering the day before yesterday: %q, want w1 38 by backup, w2 38 covering", abPost)
	}
	p.do("per day", chromedp.Click(`#staffing-days summary`))
	p.shot("planner-staffing")

	// Services at jingshan's w1: as many as stored, median 3:30 (half 2,
	// half 5 minutes), p90 5:00.
	type served struct {
		Count  int    `json:"count"`
		Median string `json:"median"`
		P90    string `json:"p90"`
	}
	sv := evalJS[served](p.ctx, t, `(() => { const tr = document.querySelector('#services tbody tr[data-window="w1"]');
		return tr ? {count: +tr.querySelector("td.count").dataset.value, median: tr.querySelector("td.median").textContent, p90: tr.querySelector("td.p90").textContent} : {}; })()`)
	if sv.Count != truth.services["jingshan"] || sv.Median != "03:30" || sv.P90 != "05:00" {
		t.Errorf("jingshan's w1 services %+v, want %d, median 03:30, p90 05:00", sv, truth.services["jingshan"])
	}

	for _, lang := range []string{"en", "zh"} {
		for _, size := range []browser.Size{browser.Phone, browser.Desktop} {
			p.resize(size)
			p.setLang(lang)
			p.open("/planner.html")
			p.waitJS("the planner", 20*time.Second, `document.querySelectorAll("#compare tbody tr[data-center]").length === 2`)
			p.checkLayout("planner", names)
			p.shot("planner")
		}
	}
	p.check()
}

// seedOpenAlerts stores open alerts, each with a snapshot, in the
// database at dbPath before a service opens it, and returns their ids.
func seedOpenAlerts(t *testing.T, dbPath string, list ...store.AlertRecord) []int64 {
	t.Helper()
	st, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var ids []int64
	for i, a := range list {
		a.Snapshot = testJPEG(t, i)
		stored, _, err := st.RaiseAlert(context.Background(), a, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, stored.ID)
	}
	return ids
}

// TestBrowserDistrictAlertsLive opens the district's open alerts as its
// supervisor and checks that an acknowledgement made elsewhere reaches the
// page over the live stream.
func TestBrowserDistrictAlertsLive(t *testing.T) {
	ctx0 := context.Background()
	dbPath := filepath.Join(t.TempDir(), "hallwatch.db")
	now := time.Now()
	ids := seedOpenAlerts(t, dbPath,
		store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: "jingshan", Camera: "js-hall", Window: "w2", RaisedAt: now.Add(-9 * time.Minute)},
		store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: "donghuamen", Camera: "dhm-hall", Window: "w1", RaisedAt: now.Add(-4 * time.Minute)})
	cfg := testConfig(t, dbPath)
	twoCenters(t, cfg, testzone.Midday())
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "wang", auth.RoleDistrictSupervisor, auth.UserScope{Districts: []string{"dongcheng"}})

	p := openPage(t, r.base)
	p.login(user, pw)
	p.open("/alerts.html?district=dongcheng")
	p.waitJS("two alert cards, the stream live", 20*time.Second,
		`document.querySelectorAll("#list .alert").length === 2 && document.getElementById("live").dataset.state === "live"`)
	order := evalJS[[]int64](p.ctx, t, `[...document.querySelectorAll("#list .alert")].map((e) => +e.dataset.alert)`)
	if !slices.Equal(order, []int64{ids[1], ids[0]}) {
		t.Errorf("alert cards %v, want the newest first %v", order, []int64{ids[1], ids[0]})
	}
	links := evalJS[[]string](p.ctx, t, `[...document.querySelectorAll("#list .alert .where a")].map((a) => a.getAttribute("href"))`)
	if !slices.Equal(links, []string{"/board.html?center=donghuamen", "/board.html?center=jingshan"}) {
		t.Errorf("links to the boards %q", links)
	}
	live := evalJS[[]string](p.ctx, t, `[...document.querySelectorAll("#list .alert a.live-link")].map((a) => a.getAttribute("href"))`)
	record := evalJS[[]string](p.ctx, t, `[...document.querySelectorAll("#list .alert a.record-link")].map((a) => a.getAttribute("href"))`)
	if !slices.Equal(live, []string{"/?camera=dhm-hall", "/?camera=js-hall"}) || !slices.Equal(record, []string{fmt.Sprintf("/alert.html?id=%d", ids[1]), fmt.Sprintf("/alert.html?id=%d", ids[0])}) {
		t.Errorf("links to the cameras %q and records %q", live, record)
	}
	if n := evalJS[int](p.ctx, t, `document.querySelectorAll("#list .alert form.ack, #list input.pick").length`); n != 0 {
		t.Errorf("a district supervisor may not acknowledge, yet %d cards offer it", n)
	}
	p.waitJS("snapshots loaded", 10*time.Second, `[...document.querySelectorAll("#list .alert .thumb img")].every((i) => i.complete && i.naturalWidth > 0)`)

	// The center manager acknowledges (here through the alert desk); the
	// supervisor's page shows it without a reload.
	if _, err := r.svc.alerts.Ack(ctx0, ids[0], store.Ack{By: "zhang", Verdict: store.VerdictConfirmed, Comment: "已联系窗口"}); err != nil {
		t.Fatal(err)
	}
	p.waitJS("the acknowledgement on the page", 10*time.Second,
		fmt.Sprintf(`(document.querySelector('#list .alert[data-alert="%d"] .acked-by') || {}).textContent`, ids[0]))
	if txt := evalJS[string](p.ctx, t, fmt.Sprintf(`document.querySelector('#list .alert[data-alert="%d"]').innerText`, ids[0])); !strings.Contains(txt, "zhang") || !strings.Contains(txt, "已联系窗口") {
		t.Errorf("acknowledged card says %q, want who and the comment", txt)
	}
	summary := evalJS[map[string]string](p.ctx, t, `Object.fromEntries([...document.querySelectorAll("#summary li")].map((li) => [li.dataset.center, li.className]))`)
	if summary["jingshan"] != "bad" || summary["donghuamen"] != "bad" {
		t.Errorf("center summary %v: both centers have an open alert", summary)
	}
	p.shot("district-alerts")

	// Without a center, the board offers the user's centers.
	p.open("/board.html")
	p.waitJS("the center picker", 10*time.Second, `document.querySelectorAll("#centers a[data-center]").length === 2`)
	p.check()
}
