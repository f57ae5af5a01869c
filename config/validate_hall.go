package config

import (
	"slices"
	"strings"
	"text/template/parse"
	"time"

	"github.com/hallwatch/hallwatch/geom"
)

// Geometry limits, in normalised image units.
const (
	minLineLength = 0.01   // a and b of a counting line
	minInsideDist = 0.01   // inside point from the line, so it picks a side
	minZoneArea   = 0.0005 // window zones and privacy masks
)

// Size limits that keep the quadratic checks (crossing edges, overlapping
// entries) fast; real zones and schedules are far smaller.
const (
	maxPolygonPoints   = 100
	maxScheduleEntries = 100
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
	lineIDs, windowIDs := newIDs("line"), newIDs("window")
	for i, l := range a.Lines {
		lk := indexKey(key+".lines", i)
		c.id(lk, l.ID, lineIDs)
		c.line(lk, l)
	}
	for i := range a.Windows {
		wk := indexKey(key+".windows", i)
		c.id(wk, a.Windows[i].ID, windowIDs)
		c.window(wk, &a.Windows[i])
	}
}

func (c *checker) line(key string, l Line) {
	ok := true
	for _, p := range []struct {
		name string
		pt   Point
	}{{"a", l.A}, {"b", l.B}, {"inside", l.Inside}} {
		if !c.o.present(key + "." + p.name) {
			c.fail(key+"."+p.name, "required")
			ok = false
		} else if !c.point(key+"."+p.name, p.pt) {
			ok = false
		}
	}
	if !ok {
		return
	}
	if n := l.A.Dist(l.B); n < minLineLength {
		c.fail(key+".b", "a and b are %.4f apart, need at least %g", n, minLineLength)
		return
	}
	if d := geom.DistToLine(l.Inside, l.A, l.B); d < minInsideDist {
		c.fail(key+".inside", "inside point is %.4f from the line through a and b, need at least %g to tell the sides apart", d, minInsideDist)
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

// polygon checks a zone or mask: enough points inside the image, no
// repeated points, no crossing or folding edges, and a usable area.
func (c *checker) polygon(key string, pg Polygon) {
	if len(pg) < 3 {
		c.fail(key, "need at least 3 points, got %d", len(pg))
		return
	}
	if len(pg) > maxPolygonPoints {
		c.fail(key, "too many points (%d), at most %d", len(pg), maxPolygonPoints)
		return
	}
	ok := true
	for i, p := range pg {
		ok = c.point(indexKey(key, i), p) && ok
	}
	if !ok {
		return
	}
	n := len(pg)
	for i := range pg {
		prev, p, next := pg[(i+n-1)%n], pg[i], pg[(i+1)%n]
		if p == next {
			c.fail(key, "points %d and %d are the same", i, (i+1)%n)
			return
		}
		// Adjacent edges on one line pointing the same way fold back.
		if geom.Cross(prev, p, next) == 0 && dot(prev.Sub(p), next.Sub(p)) > 0 {
			c.fail(key, "edges meeting at point %d fold back on each other", i)
			return
		}
	}
	if i, j, crossed := pg.SelfIntersection(); crossed {
		c.fail(key, "edge %d-%d crosses edge %d-%d; the outline must not intersect itself", i, (i+1)%n, j, (j+1)%n)
		return
	}
	if a := pg.Area(); a < minZoneArea {
		c.fail(key, "area %.5f is below the minimum %g", a, minZoneArea)
	}
}

func dot(a, b Point) float64 { return a[0]*b[0] + a[1]*b[1] }

// alertKinds are the alert kinds notifiers can filter on (see events.Kind*).
var alertKinds = []string{"unstaffed", "camera_offline", "camera_blocked"}

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
