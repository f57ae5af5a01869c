package service

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/internal/testzone"
	"github.com/hallwatch/hallwatch/store"
)

// seedQueues stores yesterday's queue at jingshan's seats: 2 waiting in the
// 09:00 hour, 5 (mean 4) in the 10:00 hour, and three waits of 4, 12 and
// 25 minutes, the last one estimated.
func seedQueues(t *testing.T, dbPath string, loc *time.Location, day time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := func(e events.Event) store.EventRecord {
		e.Camera, e.Zone = "js-hall", "seats"
		return store.EventRecord{District: "dongcheng", Center: "jingshan", Loc: loc, Event: e}
	}
	var recs []store.EventRecord
	for _, m := range []struct {
		at   time.Duration
		most int
		mean float64
	}{{9 * time.Hour, 2, 1.5}, {10 * time.Hour, 5, 4}, {10*time.Hour + time.Minute, 5, 4}} {
		recs = append(recs, rec(events.Event{Type: events.TypeQueue, Count: &m.most, Mean: m.mean, Time: day.Add(m.at)}))
	}
	for i, w := range []struct {
		mins      float64
		window    string
		estimated bool
	}{{4, "w1", false}, {12, "w2", false}, {25, "", true}} {
		reached := day.Add(10*time.Hour + time.Duration(30+i)*time.Minute)
		recs = append(recs, rec(events.Event{Type: events.TypeWait, Window: w.window, Track: i + 1, Duration: w.mins * 60,
			Estimated: w.estimated, Time: reached}))
	}
	if err := st.AppendEvents(ctx, recs); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserPlannerQueues opens the planner as a planner: jingshan's
// queue section shows yesterday's busiest hour, people waiting, waits and
// median, and the longest waits with the estimate marked, in both
// languages at phone and desktop sizes; its CSV link has the day's row.
func TestBrowserPlannerQueues(t *testing.T) {
	zone := testzone.Midday()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Skipf("no time zone data: %v", err)
	}
	now := time.Now().In(loc)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, -1)
	dbPath := filepath.Join(t.TempDir(), "hallwatch.db")
	seedQueues(t, dbPath, loc, day)
	cfg := testConfig(t, dbPath)
	twoCenters(t, cfg, zone)
	for i := range cfg.Districts[0].Centers {
		c := &cfg.Districts[0].Centers[i]
		c.Cameras[0].Analytics.QueueZones = []config.QueueZone{{ID: "seats", Name: "等候区", Zone: config.Polygon{{0.05, 0.7}, {0.95, 0.7}, {0.95, 0.8}, {0.05, 0.8}}}}
	}
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "wang", auth.RolePlanner, auth.UserScope{Districts: []string{"dongcheng"}})
	names := placeNames(cfg, user)

	p := openPage(t, r.base)
	p.login(user, pw)
	type dayRow struct {
		Busiest string  `json:"busiest"`
		Max     int     `json:"max"`
		Mean    float64 `json:"mean"`
		Waits   int     `json:"waits"`
		Median  string  `json:"median"`
		Longest string  `json:"longest"`
	}
	ymd := day.Format(time.DateOnly)
	for _, lang := range []string{"zh", "en"} {
		for _, size := range []browser.Size{browser.Phone, browser.Desktop} {
			p.resize(size)
			p.setLang(lang)
			p.open("/planner.html?scope=c:jingshan")
			p.waitJS("the queue section", 20*time.Second, `document.querySelector('#queues tbody tr[data-day="`+ymd+`"]') !== null`)
			got := evalJS[dayRow](p.ctx, t, `(() => { const tr = document.querySelector('#queues tbody tr[data-day="`+ymd+`"]');
				const v = (c) => tr.querySelector("td." + c);
				return {busiest: v("busiest").textContent, max: +v("max").dataset.value, mean: +v("mean").dataset.value,
					waits: +v("waits").dataset.value, median: v("median").textContent, longest: v("longest").textContent}; })()`)
			// Mean over the three minutes: (1.5 + 4 + 4) / 3 = 3.2; busiest
			// hour 10:00 (mean 4); waits 4, 12, 25 minutes.
			if want := (dayRow{Busiest: "10:00", Max: 5, Mean: 3.2, Waits: 3, Median: "12:00", Longest: "25:00"}); got != want {
				t.Errorf("%s %v: jingshan's queue on %s %+v, want %+v", lang, size, ymd, got, want)
			}
			long := evalJS[[]string](p.ctx, t, `[...document.querySelectorAll("#long-waits tbody tr")].map((tr) => tr.dataset.estimated + " " + tr.querySelector("td.wait").textContent)`)
			estimate := map[string]string{"zh": "估算", "en": "estimate"}[lang]
			if len(long) != 3 || long[0] != "true 25:00 ("+estimate+")" || long[1] != "false 12:00" || long[2] != "false 04:00" {
				t.Errorf("%s: longest waits %q, want 25:00 (%s), 12:00, 04:00", lang, long, estimate)
			}
			p.checkLayout("planner queues", names)
			p.shot("planner-queues")
		}
	}
	csv := evalJS[string](p.ctx, t, `fetch(document.querySelector('#downloads a[data-csv="queues"]').href).then((r) => r.text())`)
	if !strings.Contains(csv, "jingshan,day,"+ymd+",5,3.2,3,1,720.0,") {
		t.Errorf("queues CSV:\n%s", csv)
	}
	p.check()
}
