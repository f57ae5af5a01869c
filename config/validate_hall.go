package config

import (
	"slices"
	"strings"
	"text/template/parse"
	"time"
)

// districts checks the hall tree. District, center and camera ids are
// unique across the file: pages and the API address them by id alone.
func (c *checker) districts(ds []District) {
	districtIDs, centerIDs, cameraIDs := newIDs("district"), newIDs("center"), newIDs("camera")
	for di := range ds {
		d := &ds[di]
		dk := indexKey("districts", di)
		c.id(dk, d.ID, districtIDs)
		c.required(dk+".name", d.Name)
		for ci := range d.Centers {
			ctr := &d.Centers[ci]
			ck := indexKey(dk+".centers", ci)
			c.id(ck, ctr.ID, centerIDs)
			c.required(ck+".name", ctr.Name)
			c.timezone(ck+".timezone", ctr)
			c.holidays(ck+".holidays", ctr.Holidays)
			for ki := range ctr.Cameras {
				kk := indexKey(ck+".cameras", ki)
				c.id(kk, ctr.Cameras[ki].ID, cameraIDs)
				c.camera(kk, &ctr.Cameras[ki])
			}
		}
	}
}

// timezone resolves the center's zone for Center.Location.
func (c *checker) timezone(key string, ctr *Center) {
	loc, err := time.LoadLocation(ctr.Timezone)
	if err != nil || ctr.Timezone == "" || ctr.Timezone == "Local" {
		c.fail(key, "unknown time zone %q; use an IANA name such as Asia/Shanghai", ctr.Timezone)
		return
	}
	ctr.loc = loc
}

func (c *checker) holidays(key string, days []string) {
	for i, day := range days {
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			c.fail(indexKey(key, i), "invalid date %q, want YYYY-MM-DD", day)
		}
	}
}

func (c *checker) camera(key string, cam *Camera) {
	c.required(key+".name", cam.Name)
	c.cameraURL(key+".url", cam.URL)
	if cam.LiveURL != "" {
		c.cameraURL(key+".live_url", cam.LiveURL)
	}
	switch cam.Transport {
	case "auto", "tcp", "udp":
	default:
		c.fail(key+".transport", "invalid transport %q, want auto, tcp or udp", cam.Transport)
	}
	for i, mask := range cam.Privacy {
		c.polygon(indexKey(key+".privacy_masks", i), mask)
	}
	if cam.Analytics != nil {
		c.analytics(key+".analytics", cam.Analytics)
	}
}

func (c *checker) analytics(key string, a *Analytics) {
	if !(a.FPS > 0 && a.FPS <= 30) {
		c.fail(key+".fps", "must be more than 0 and at most 30, got %g", a.FPS)
	}
	switch a.Detector {
	case "", "auto", "yolo", "motion":
	default:
		c.fail(key+".detector", "invalid detector %q, want auto, yolo or motion (empty: detector.kind)", a.Detector)
	}
	lineIDs, windowIDs, queueIDs := newIDs("line"), newIDs("window"), newIDs("queue zone")
	for i, l := range a.Lines {
		lk := indexKey(key+".lines", i)
		c.id(lk, l.ID, lineIDs)
		c.line(lk, l)
	}
	windows := map[string]int{}
	for i := range a.Windows {
		wk := indexKey(key+".windows", i)
		c.id(wk, a.Windows[i].ID, windowIDs)
		c.window(wk, &a.Windows[i])
		windows[a.Windows[i].ID] = i
	}
	for i, w := range a.Windows {
		if e := checkBackup(w.ID, w.Backup, windows); e != nil {
			c.fail(indexKey(key+".windows", i)+".backup", "%s", e.Msg)
		}
	}
	for i, q := range a.QueueZones {
		qk := indexKey(key+".queue_zones", i)
		c.id(qk, q.ID, queueIDs)
		if !c.o.present(qk + ".zone") {
			c.fail(qk+".zone", "required")
		} else {
			c.polygon(qk+".zone", q.Zone)
		}
		for j, w := range q.Windows {
			if e := checkFeeds(w, windows); e != nil {
				c.fail(indexKey(qk+".windows", j), "%s", e.Msg)
			}
		}
	}
	if qa := a.QueueAlert; qa != nil {
		qk := key + ".queue_alert"
		c.atLeast(qk+".people", qa.People, 0)
		if qa.People == 0 && qa.Wait == 0 {
			c.fail(qk, "set people (more than this many waiting) or wait (the longest wait above this), or both")
		}
		c.positive(qk+".for", qa.For)
	}
}

func (c *checker) line(key string, l Line) {
	ok := true
	for _, name := range []string{"a", "b", "inside"} {
		if !c.o.present(key + "." + name) {
			c.fail(key+"."+name, "required")
			ok = false
		}
	}
	if !ok {
		return
	}
	if e := CheckLine(l); e != nil {
		c.fail(key+"."+e.Field, "%s", e.Msg)
	}
}

func (c *checker) window(key string, w *Window) {
	c.required(key+".name", w.Name)
	if !c.o.present(key + ".zone") {
		c.fail(key+".zone", "required")
	} else {
		c.polygon(key+".zone", w.Zone)
	}
	c.positive(key+".absent_after", w.AbsentAfter)
	c.atLeast(key+".min_staff", w.MinStaff, 1)
	if len(w.ServiceZone) > 0 {
		c.polygon(key+".service_zone", w.ServiceZone)
	}
	c.positive(key+".service_min", w.ServiceMin)
	c.holidays(key+".holidays", w.Holidays)
	if n := len(w.Schedule); n > maxScheduleEntries {
		c.fail(key+".schedule", "too many entries (%d), at most %d", n, maxScheduleEntries)
		return
	}
	for j := range w.Schedule {
		for i := range j {
			if day, ok := overlaps(w.Schedule[i], w.Schedule[j]); ok {
				c.fail(indexKey(key+".schedule", j), "%q overlaps %q (schedule[%d]) on %s",
					w.Schedule[j].String(), w.Schedule[i].String(), i, dayName(day))
			}
		}
	}
}

// polygon checks a zone or mask (CheckPolygon).
func (c *checker) polygon(key string, pg Polygon) {
	if e := CheckPolygon(pg); e != nil {
		c.fail(key+e.Field, "%s", e.Msg)
	}
}

// alertKinds are the alert kinds notifiers can filter on (see events.Kind*).
var alertKinds = []string{"unstaffed", "camera_offline", "camera_blocked", "storage_full", "queue_long"}

func (c *checker) notifiers(cfg *Config) {
	notifierIDs := newIDs("notifier")
	for i, n := range cfg.Notifiers {
		key := indexKey("notifiers", i)
		c.id(key, n.ID, notifierIDs)
		switch n.Kind {
		case "webhook", "wecom", "dingtalk":
		default:
			c.fail(key+".kind", "invalid kind %q, want webhook, wecom or dingtalk", n.Kind)
		}
		c.webhookURL(key+".url", n.URL)
		if n.Template != "" {
			c.template(key+".template", n.Template)
		}
		for j, id := range n.Districts {
			if _, ok := cfg.District(id); !ok {
				c.fail(indexKey(key+".districts", j), "unknown district %q", id)
			}
		}
		for j, kind := range n.Kinds {
			if !slices.Contains(alertKinds, kind) {
				c.fail(indexKey(key+".kinds", j), "unknown alert kind %q, want one of %s", kind, strings.Join(alertKinds, ", "))
			}
		}
		c.positive(key+".timeout", n.Timeout)
	}
}

// template checks the syntax of a text/template. Function names are not
// checked: the notifier that runs the template defines them.
func (c *checker) template(key, text string) {
	tree := parse.New("template")
	tree.Mode = parse.SkipFuncCheck
	if _, err := tree.Parse(text, "", "", map[string]*parse.Tree{}); err != nil {
		c.fail(key, "invalid template: %s", strings.TrimPrefix(err.Error(), "template: "))
	}
}
