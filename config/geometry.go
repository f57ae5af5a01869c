package config

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Geometry is what the editor draws on a camera's picture: the counting
// lines, each window's staff zone, service zone, name and backup, and the
// queue zones. Saved geometry replaces these parts of the camera's
// analytics section (Apply); everything else (opening hours, absent_after,
// the detector…) stays as the file says.
type Geometry struct {
	Lines      []Line           `json:"lines"`
	Windows    []WindowGeometry `json:"windows"`
	QueueZones []QueueZone      `json:"queue_zones"`
}

// WindowGeometry is the drawn part of a service window.
type WindowGeometry struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Zone        Polygon `json:"zone"`
	ServiceZone Polygon `json:"service_zone,omitempty"`
	Backup      string  `json:"backup,omitempty"`
}

// Limits of one camera's geometry: far more than a hall has, few enough
// that checking and drawing stay cheap.
const (
	maxGeometryItems = 64  // lines, windows and queue zones, each
	maxNameRunes     = 100 // a line's, window's or queue zone's name
)

// Problem is one thing wrong with geometry: where (a key path such as
// windows[1].zone), a stable code (Code* constants) and a message.
type Problem struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	Msg   string `json:"message"`
}

func (p Problem) Error() string { return p.Field + ": " + p.Msg }

// GeometryOf returns the drawn part of an analytics section.
func GeometryOf(a *Analytics) Geometry {
	g := Geometry{Lines: []Line{}, Windows: []WindowGeometry{}, QueueZones: []QueueZone{}}
	if a == nil {
		return g
	}
	g.Lines = append(g.Lines, a.Lines...)
	for _, w := range a.Windows {
		g.Windows = append(g.Windows, WindowGeometry{ID: w.ID, Name: w.Name, Zone: w.Zone, ServiceZone: w.ServiceZone, Backup: w.Backup})
	}
	g.QueueZones = append(g.QueueZones, a.QueueZones...)
	return g
}

// Apply returns base with its lines, windows and queue zones replaced by
// g's. A window keeps the file's settings (schedule, absent_after,
// min_staff, holidays, service_min) when the file has one with its id, and
// takes the defaults otherwise. base is not changed; the result shares g's
// slices, so g must not be changed afterwards.
func (g Geometry) Apply(base *Analytics) *Analytics {
	out := *base
	out.Lines = g.Lines
	out.QueueZones = g.QueueZones
	out.Windows = make([]Window, len(g.Windows))
	for i, wg := range g.Windows {
		w := Window{AbsentAfter: defaultAbsentAfter, MinStaff: defaultMinStaff, ServiceMin: defaultServiceMin}
		if j := slices.IndexFunc(base.Windows, func(b Window) bool { return b.ID == wg.ID }); j >= 0 {
			w = base.Windows[j]
		}
		w.ID, w.Name, w.Zone, w.ServiceZone, w.Backup = wg.ID, wg.Name, wg.Zone, wg.ServiceZone, wg.Backup
		out.Windows[i] = w
	}
	return &out
}

// Check returns every problem of g, in order; none means it can be saved.
func (g Geometry) Check() []Problem {
	var ps []Problem
	add := func(field string, e *ShapeFault) {
		if e != nil {
			ps = append(ps, Problem{Field: field + shapeField(e.Field), Code: e.Code, Msg: e.Msg})
		}
	}
	for _, l := range []struct {
		key string
		n   int
	}{{"lines", len(g.Lines)}, {"windows", len(g.Windows)}, {"queue_zones", len(g.QueueZones)}} {
		if l.n > maxGeometryItems {
			add(l.key, shapeFault(CodeTooMany, "", "%d items, at most %d per camera", l.n, maxGeometryItems))
		}
	}
	if len(ps) > 0 {
		return ps
	}
	lineIDs, windowIDs, queueIDs := map[string]int{}, map[string]int{}, map[string]int{}
	for i, l := range g.Lines {
		key := indexKey("lines", i)
		add(key+".id", checkItemID("line", l.ID, i, lineIDs))
		add(key+".name", checkName(l.Name, false))
		add(key, CheckLine(l))
	}
	for i, w := range g.Windows {
		key := indexKey("windows", i)
		add(key+".id", checkItemID("window", w.ID, i, windowIDs))
		add(key+".name", checkName(w.Name, true))
		add(key+".zone", checkZone(w.Zone, true))
		add(key+".service_zone", checkZone(w.ServiceZone, false))
	}
	for i, w := range g.Windows {
		add(indexKey("windows", i)+".backup", checkBackup(w.ID, w.Backup, windowIDs))
	}
	for i, q := range g.QueueZones {
		key := indexKey("queue_zones", i)
		add(key+".id", checkItemID("queue zone", q.ID, i, queueIDs))
		add(key+".name", checkName(q.Name, false))
		add(key+".zone", checkZone(q.Zone, true))
		for j, w := range q.Windows {
			add(indexKey(key+".windows", j), checkFeeds(w, windowIDs))
		}
	}
	return ps
}

// shapeField joins a shape's part to its key: ".a" for a line's end,
// "[2]" for a zone's point.
func shapeField(f string) string {
	if f == "" || strings.HasPrefix(f, "[") {
		return f
	}
	return "." + f
}

// checkItemID checks an id and records it in seen (id → first index).
func checkItemID(kind, id string, i int, seen map[string]int) *ShapeFault {
	switch {
	case id == "":
		return shapeFault(CodeRequired, "", "required")
	case !slug.MatchString(id):
		return shapeFault(CodeInvalidID, "", "invalid id %q: use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit", id)
	}
	if first, dup := seen[id]; dup {
		return shapeFault(CodeDuplicateID, "", "duplicate %s id %q, first used by item %d", kind, id, first)
	}
	seen[id] = i
	return nil
}

func checkName(name string, required bool) *ShapeFault {
	switch {
	case required && strings.TrimSpace(name) == "":
		return shapeFault(CodeRequired, "", "required")
	case utf8.RuneCountInString(name) > maxNameRunes:
		return shapeFault(CodeTooLong, "", "%d characters, at most %d", utf8.RuneCountInString(name), maxNameRunes)
	case strings.ContainsFunc(name, unicode.IsControl) || !utf8.ValidString(name):
		return shapeFault(CodeInvalidText, "", "holds control characters or invalid UTF-8")
	}
	return nil
}

func checkZone(pg Polygon, required bool) *ShapeFault {
	if len(pg) == 0 {
		if required {
			return shapeFault(CodeRequired, "", "required")
		}
		return nil
	}
	return CheckPolygon(pg)
}

// checkBackup checks that a window's backup is another window of the camera.
func checkBackup(id, backup string, windows map[string]int) *ShapeFault {
	if backup == "" {
		return nil
	}
	if _, ok := windows[backup]; !ok || backup == id {
		return shapeFault(CodeUnknownBackup, "", "backup %q is not another window of this camera", backup)
	}
	return nil
}

// checkFeeds checks a window a queue zone feeds.
func checkFeeds(window string, windows map[string]int) *ShapeFault {
	if _, ok := windows[window]; !ok {
		return shapeFault(CodeUnknownWindow, "", "window %q is not a window of this camera", window)
	}
	return nil
}

// Changes describes what differs from old to g, one phrase per change, in
// the order lines, windows, queue zones: what the audit log says of a save.
func (g Geometry) Changes(old Geometry) []string {
	var out []string
	out = append(out, diffItems("line", old.Lines, g.Lines, func(l Line) string { return l.ID },
		func(a, b Line) []string {
			var c []string
			if a.A != b.A || a.B != b.B {
				c = append(c, "moved")
			}
			if a.Inside != b.Inside {
				c = append(c, "inside side changed")
			}
			return append(c, renamed(a.Name, b.Name)...)
		})...)
	out = append(out, diffItems("window", old.Windows, g.Windows, func(w WindowGeometry) string { return w.ID },
		func(a, b WindowGeometry) []string {
			var c []string
			if !slices.Equal(a.Zone, b.Zone) {
				c = append(c, "staff zone changed")
			}
			switch {
			case len(a.ServiceZone) == 0 && len(b.ServiceZone) > 0:
				c = append(c, "service zone drawn")
			case len(a.ServiceZone) > 0 && len(b.ServiceZone) == 0:
				c = append(c, "service zone removed")
			case !slices.Equal(a.ServiceZone, b.ServiceZone):
				c = append(c, "service zone changed")
			}
			if a.Backup != b.Backup {
				c = append(c, fmt.Sprintf("backup %s → %s", orNone(a.Backup), orNone(b.Backup)))
			}
			return append(c, renamed(a.Name, b.Name)...)
		})...)
	out = append(out, diffItems("queue zone", old.QueueZones, g.QueueZones, func(q QueueZone) string { return q.ID },
		func(a, b QueueZone) []string {
			var c []string
			if !slices.Equal(a.Zone, b.Zone) {
				c = append(c, "zone changed")
			}
			return append(c, renamed(a.Name, b.Name)...)
		})...)
	return out
}

// diffItems lists the items added, removed and changed (by id) from old to
// now, and a change of order among those kept.
func diffItems[T any](kind string, old, now []T, id func(T) string, changes func(a, b T) []string) []string {
	var out, keptOld, keptNow []string
	for _, o := range old {
		if !slices.ContainsFunc(now, func(n T) bool { return id(n) == id(o) }) {
			out = append(out, fmt.Sprintf("%s %s removed", kind, id(o)))
		} else {
			keptOld = append(keptOld, id(o))
		}
	}
	for _, n := range now {
		i := slices.IndexFunc(old, func(o T) bool { return id(o) == id(n) })
		if i < 0 {
			out = append(out, fmt.Sprintf("%s %s added", kind, id(n)))
			continue
		}
		keptNow = append(keptNow, id(n))
		if c := changes(old[i], n); len(c) > 0 {
			out = append(out, fmt.Sprintf("%s %s: %s", kind, id(n), strings.Join(c, ", ")))
		}
	}
	if !slices.Equal(keptOld, keptNow) {
		out = append(out, kind+"s reordered")
	}
	return out
}

func renamed(a, b string) []string {
	if a == b {
		return nil
	}
	return []string{fmt.Sprintf("renamed %q → %q", a, b)}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
