package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
	"github.com/hallwatch/hallwatch/store"
)

// cam1Analytics gives the rig's cam1 a door line and one window.
const cam1Analytics = `            analytics:
              lines:
                - {id: door, a: [0.3, 0.9], b: [0.7, 0.9], inside: [0.5, 0.7]}
              windows:
                - id: w1
                  name: 1号窗口
                  zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]
`

// drawing is what the editor sends: w1 moved, w2 with a service zone and
// w1 as backup, a queue zone; edit changes it before it goes.
func drawing(edit func(g map[string]any)) map[string]any {
	g := map[string]any{
		"lines": []any{map[string]any{"id": "door", "name": "正门", "a": []float64{0.3, 0.9}, "b": []float64{0.7, 0.9}, "inside": []float64{0.5, 0.7}}},
		"windows": []any{
			map[string]any{"id": "w1", "name": "1号窗口", "zone": [][]float64{{0.1, 0.1}, {0.35, 0.1}, {0.35, 0.3}, {0.1, 0.3}}},
			map[string]any{"id": "w2", "name": "2号窗口", "zone": [][]float64{{0.5, 0.1}, {0.7, 0.1}, {0.7, 0.3}, {0.5, 0.3}},
				"service_zone": [][]float64{{0.5, 0.4}, {0.7, 0.4}, {0.7, 0.5}, {0.5, 0.5}}, "backup": "w1"},
		},
		"queue_zones": []any{map[string]any{"id": "seats", "name": "等候区", "zone": [][]float64{{0.1, 0.6}, {0.9, 0.6}, {0.9, 0.75}, {0.1, 0.75}}}},
	}
	if edit != nil {
		edit(g)
	}
	return g
}

func window(g map[string]any, i int) map[string]any { return g["windows"].([]any)[i].(map[string]any) }
func line(g map[string]any) map[string]any          { return g["lines"].([]any)[0].(map[string]any) }

func saveBody(base int, g map[string]any) string {
	return mustJSON(map[string]any{"base_version": base, "geometry": g})
}

type apiProblem struct {
	Error    string           `json:"error"`
	Code     string           `json:"code"`
	Field    string           `json:"field"`
	Problems []config.Problem `json:"problems"`
	Version  int              `json:"version"`
}

type geometryAnswer struct {
	Camera   string          `json:"camera"`
	Version  int             `json:"version"`
	Source   string          `json:"source"`
	SavedBy  string          `json:"saved_by"`
	Geometry config.Geometry `json:"geometry"`
	File     config.Geometry `json:"file"`
	MayEdit  bool            `json:"may_edit"`
}

// The API saves versions, puts them in force, refuses bad drawings with
// a stable code and the field at fault, and refuses stale saves.
func TestGeometryAPI(t *testing.T) {
	r := newAuthRig(t, rigOptions{analytics: cam1Analytics})
	root := r.login(t, "root", passwordAdmin)
	const path = "/api/cameras/cam1/geometry"

	var g0 geometryAnswer
	r.call(t, root, "GET", path, "", 200, &g0)
	if g0.Version != 0 || g0.Source != "file" || len(g0.Geometry.Windows) != 1 || !g0.MayEdit {
		t.Fatalf("initial: %+v", g0)
	}

	var g1 geometryAnswer
	resp, body := r.do(t, root, "PUT", path, saveBody(0, drawing(nil)), nil)
	wantJSON(t, resp, body, 200, &g1)
	if g1.Version != 1 || g1.Source != "editor" || g1.SavedBy != "root" || len(g1.Geometry.Windows) != 2 || g1.Geometry.Windows[1].Backup != "w1" {
		t.Fatalf("saved: %+v", g1)
	}
	ref, _ := r.cfg.Camera("cam1")
	if an := ref.Camera.Effective(); len(an.Windows) != 2 || len(an.QueueZones) != 1 || an.Windows[0].Zone[1] != (geom.Point{0.35, 0.1}) {
		t.Fatalf("not in force: %+v", an)
	}

	refusals := []struct {
		name        string
		body        string
		status      int
		code, field string
	}{
		{"stale base", saveBody(0, drawing(nil)), 409, codeGeometryConflict, ""},
		{"self-intersecting zone", saveBody(1, drawing(func(g map[string]any) {
			window(g, 1)["zone"] = [][]float64{{0.5, 0.1}, {0.7, 0.3}, {0.7, 0.1}, {0.5, 0.3}}
		})), 422, config.CodeSelfIntersecting, "windows[1].zone"},
		{"zero-area zone", saveBody(1, drawing(func(g map[string]any) {
			window(g, 0)["zone"] = [][]float64{{0.1, 0.1}, {0.2, 0.1}, {0.3, 0.1}}
		})), 422, config.CodeSelfIntersecting, "windows[0].zone"},
		{"tiny service zone", saveBody(1, drawing(func(g map[string]any) {
			window(g, 1)["service_zone"] = [][]float64{{0.5, 0.4}, {0.51, 0.4}, {0.51, 0.41}}
		})), 422, config.CodeAreaTooSmall, "windows[1].service_zone"},
		{"zero-length line", saveBody(1, drawing(func(g map[string]any) { line(g)["b"] = []float64{0.3, 0.9} })),
			422, config.CodeLineTooShort, "lines[0].b"},
		{"inside point on the line", saveBody(1, drawing(func(g map[string]any) { line(g)["inside"] = []float64{0.5, 0.9} })),
			422, config.CodeInsideOnLine, "lines[0].inside"},
		{"zone outside the picture", saveBody(1, drawing(func(g map[string]any) {
			window(g, 0)["zone"] = [][]float64{{0.1, 0.1}, {1.2, 0.1}, {0.3, 0.3}}
		})), 422, config.CodeOutsidePicture, "windows[0].zone[1]"},
		{"unknown backup", saveBody(1, drawing(func(g map[string]any) { window(g, 1)["backup"] = "w7" })),
			422, config.CodeUnknownBackup, "windows[1].backup"},
		{"three coordinates", saveBody(1, drawing(func(g map[string]any) { line(g)["a"] = []float64{0.3, 0.9, 1} })),
			400, codeBadGeometry, ""},
		{"unknown key", saveBody(1, drawing(func(g map[string]any) { g["doors"] = 1 })), 400, codeBadGeometry, ""},
		{"no base version", `{"geometry":{}}`, 400, codeBadGeometry, ""},
	}
	for _, c := range refusals {
		var p apiProblem
		resp, body := r.do(t, root, "PUT", path, c.body, nil)
		wantJSON(t, resp, body, c.status, &p)
		if p.Code != c.code || p.Field != c.field || p.Error == "" {
			t.Errorf("%s: %+v, want code %s field %q", c.name, p, c.code, c.field)
		}
		if c.status == 422 && (len(p.Problems) != 1 || p.Problems[0].Code != c.code || !strings.HasPrefix(p.Error, c.field+": ")) {
			t.Errorf("%s: problems %+v", c.name, p.Problems)
		}
		if c.code == codeGeometryConflict && p.Version != 1 {
			t.Errorf("%s: newest version %d, want 1", c.name, p.Version)
		}
	}
	if an := ref.Camera.Effective(); len(an.Windows) != 2 {
		t.Fatal("a refused save changed the geometry in force")
	}

	// The editor checks as it draws, saving nothing.
	var check struct {
		OK       bool             `json:"ok"`
		Problems []config.Problem `json:"problems"`
	}
	bad := drawing(func(g map[string]any) { line(g)["b"] = []float64{0.3, 0.9} })
	r.call(t, root, "POST", path+"/check", mustJSON(bad), 200, &check)
	if check.OK || len(check.Problems) != 1 || check.Problems[0].Code != config.CodeLineTooShort {
		t.Errorf("check: %+v", check)
	}

	// A camera without analytics cannot be drawn on.
	var p apiProblem
	r.call(t, root, "PUT", "/api/cameras/cam1b/geometry", saveBody(0, drawing(nil)), 409, &p)
	if p.Code != codeCameraNotAnalysed {
		t.Errorf("relay-only camera: %+v", p)
	}

	// Revert, versions, one version.
	var g2 geometryAnswer
	r.call(t, root, "DELETE", path+"?base=1", "", 200, &g2)
	if g2.Version != 2 || g2.Source != "file" || len(g2.Geometry.Windows) != 1 || ref.Camera.Effective() != ref.Camera.Analytics {
		t.Fatalf("revert: %+v", g2)
	}
	var vs struct {
		Versions []versionView `json:"versions"`
	}
	r.call(t, root, "GET", path+"/versions", "", 200, &vs)
	if len(vs.Versions) != 2 || vs.Versions[0].Source != "file" || vs.Versions[1].SavedBy != "root" ||
		!strings.Contains(vs.Versions[1].Changes, "window w2 added") || !strings.Contains(vs.Versions[1].Changes, "queue zone seats added") {
		t.Fatalf("versions: %+v", vs)
	}
	var v1 struct {
		Version  versionView     `json:"version"`
		Geometry config.Geometry `json:"geometry"`
	}
	r.call(t, root, "GET", path+"/versions/1", "", 200, &v1)
	if v1.Version.Version != 1 || len(v1.Geometry.Windows) != 2 {
		t.Errorf("version 1: %+v", v1)
	}
	r.call(t, root, "GET", path+"/versions/9", "", 404, &p)
	if p.Code != codeNoGeometryVersion {
		t.Errorf("missing version: %+v", p)
	}

	// Who, when, what, from where: the audit log.
	entries, err := r.st.Audit(context.Background(), store.AuditQuery{User: "root"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		if strings.HasPrefix(e.Action, "geometry_") {
			actions = append(actions, e.Action+" "+e.Target+": "+e.Detail)
			if e.RemoteAddr == "" {
				t.Errorf("audit entry without address: %+v", e)
			}
		}
	}
	if len(actions) != 2 || !strings.HasPrefix(actions[0], "geometry_revert cam1: version 2") ||
		!strings.Contains(actions[1], "window w1: staff zone changed") {
		t.Errorf("audit: %q", actions)
	}
}

// call sends a request and decodes its JSON answer of the wanted status.
func (r *authRig) call(t *testing.T, c *caller, method, path, body string, status int, v any) {
	t.Helper()
	resp, b := r.do(t, c, method, path, body, nil)
	wantJSON(t, resp, b, status, v)
}

// Center managers edit their own cameras only when an admin allows it.
func TestGeometryManagersWhenAllowed(t *testing.T) {
	r := newAuthRig(t, rigOptions{analytics: cam1Analytics})
	root, mgr, sup := r.login(t, "root", passwordAdmin), r.login(t, "mgr", passwordMgr), r.login(t, "sup", passwordSup)
	const path = "/api/cameras/cam1/geometry"
	access := func(c *caller) bool {
		var me meView
		r.call(t, c, "GET", "/api/me", "", 200, &me)
		return me.Access["geometry"]
	}
	var p apiProblem
	r.call(t, mgr, "PUT", path, saveBody(0, drawing(nil)), 403, &p)
	if p.Code != codeEditingNotAllowed || access(mgr) {
		t.Fatalf("manager before the admin allowed it: %+v", p)
	}
	var mine geometryAnswer
	r.call(t, mgr, "GET", path, "", 200, &mine)
	if mine.MayEdit {
		t.Error("may_edit true for a manager not allowed")
	}

	r.call(t, mgr, "PUT", "/api/editing", `{"center_managers":true}`, 403, nil)
	r.call(t, root, "PUT", "/api/editing", `{"center_managers":true}`, 200, nil)
	if !access(mgr) || access(sup) {
		t.Fatal("/api/me geometry access: manager should have it now, supervisor never")
	}
	var list struct {
		CenterManagers bool             `json:"center_managers"`
		Cameras        []editableCamera `json:"cameras"`
	}
	r.call(t, mgr, "GET", "/api/editing", "", 200, &list)
	if !list.CenterManagers || len(list.Cameras) != 1 || list.Cameras[0].ID != "cam1" || !list.Cameras[0].Analysed {
		t.Fatalf("manager's editable cameras: %+v", list)
	}
	r.call(t, sup, "GET", "/api/editing", "", 200, &list)
	if len(list.Cameras) != 0 {
		t.Errorf("supervisor may edit %+v", list.Cameras)
	}

	var saved geometryAnswer
	r.call(t, mgr, "PUT", path, saveBody(0, drawing(nil)), 200, &saved)
	if saved.Version != 1 || saved.SavedBy != "mgr" || !saved.MayEdit {
		t.Fatalf("manager's save: %+v", saved)
	}
	p = apiProblem{}
	r.call(t, mgr, "PUT", "/api/cameras/cam2/geometry", saveBody(0, drawing(nil)), 403, &p)
	if p.Code == codeEditingNotAllowed {
		t.Errorf("another district's camera: refused for the wrong reason %+v", p)
	}
	r.call(t, sup, "PUT", path, saveBody(1, drawing(nil)), 403, nil)

	r.call(t, root, "PUT", "/api/editing", `{"center_managers":false}`, 200, nil)
	r.call(t, mgr, "DELETE", path+"?base=1", "", 403, &p)
	if p.Code != codeEditingNotAllowed {
		t.Errorf("after the admin forbade it again: %+v", p)
	}
	if a, _ := r.st.Audit(context.Background(), store.AuditQuery{Action: "setting_change"}); len(a) != 2 || a[0].User != "root" {
		t.Errorf("setting changes audited: %+v", a)
	}
}

// The overlay shows the geometry in force with live counts, or for a past
// time the geometry, window states and crossings of then.
func TestOverlayLiveAndPast(t *testing.T) {
	r := newAuthRig(t, rigOptions{analytics: cam1Analytics})
	root := r.login(t, "root", passwordAdmin)
	ctx := context.Background()
	ref, _ := r.cfg.Camera("cam1")
	loc := ref.Center.Location()
	// The crossings fall on the center's today: an hour ago, or just after
	// its midnight if that was later, with a few seconds between them and now.
	now := time.Now().In(loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	before := later(now.Add(-time.Hour), midnight.Add(time.Second))
	if wait := 5*time.Second - now.Sub(before); wait > 0 {
		time.Sleep(wait)
	}
	crossing := func(at time.Time, dir string) store.EventRecord {
		return store.EventRecord{Event: events.Event{Type: events.TypeCrossing, Camera: "cam1", Line: "door", Direction: dir, Time: at},
			District: "d1", Center: "c1", Loc: loc}
	}
	n := 2
	stored := []store.EventRecord{crossing(before, events.DirectionIn), crossing(before.Add(time.Second), events.DirectionIn),
		{Event: events.Event{Type: events.TypeWindow, Camera: "cam1", Window: "w1", State: events.StateStaffed, Count: &n, Time: before},
			District: "d1", Center: "c1", Loc: loc}}
	if err := r.st.AppendEvents(ctx, stored); err != nil {
		t.Fatal(err)
	}
	if _, err := r.geometry.Save(ctx, "cam1", 0, mustGeometry(t, drawing(nil)), "root", ""); err != nil {
		t.Fatal(err)
	}
	// Feet in w1's zone, in w2's service zone, and two in the queue zone.
	r.scenes.set("cam1", Scene{Time: time.Now(), Width: 960, Height: 540,
		People: []ScenePerson{{ID: 1, Feet: geom.Point{0.2, 0.2}}, {ID: 2, Feet: geom.Point{0.6, 0.45}},
			{ID: 3, Feet: geom.Point{0.3, 0.7}}, {ID: 4, Feet: geom.Point{0.6, 0.7}}, {ID: 5, Feet: geom.Point{0.95, 0.95}}},
		Windows: []SceneWindow{{ID: "w1", State: events.StateStaffed, Count: 1}, {ID: "w2", State: events.StateAbsent, Alerting: true}}}, nil)

	var live overlayView
	r.call(t, root, "GET", "/api/cameras/cam1/overlay", "", 200, &live)
	if !live.Live || live.Version != 1 || len(live.People) != 5 || live.Width != 960 {
		t.Fatalf("live overlay: %+v", live)
	}
	if w := live.Windows; len(w) != 2 || w[0].State != events.StateStaffed || w[0].Name != "1号窗口" || w[1].Service != 1 || !w[1].Alerting {
		t.Errorf("windows: %+v", w)
	}
	if q := live.Queues; len(q) != 1 || q[0].Count != 2 || q[0].Name != "等候区" {
		t.Errorf("queues: %+v", q)
	}
	if l := live.Lines; len(l) != 1 || l[0].In != 2 || l[0].Out != 0 || l[0].Name != "正门" {
		t.Errorf("lines today: %+v (the center's day in %s)", l, loc)
	}

	var past overlayView
	at := before.Add(2 * time.Second).UTC().Format(time.RFC3339)
	r.call(t, root, "GET", "/api/cameras/cam1/overlay?at="+at, "", 200, &past)
	if past.Live || past.Version != 0 || len(past.Geometry.Windows) != 1 || len(past.People) != 0 {
		t.Fatalf("past overlay should show the file's geometry of then: %+v", past)
	}
	if w := past.Windows; len(w) != 1 || w[0].State != events.StateStaffed || w[0].Count != 2 {
		t.Errorf("past windows: %+v", w)
	}
	if l := past.Lines; len(l) != 1 || l[0].In != 2 {
		t.Errorf("past lines: %+v", l)
	}
	r.call(t, root, "GET", "/api/cameras/cam1/overlay?at=yesterday", "", 400, nil)
	r.call(t, root, "GET", "/api/cameras/cam1b/overlay", "", 409, nil)
}

func TestCameraSnapshot(t *testing.T) {
	r := newAuthRig(t, rigOptions{analytics: cam1Analytics})
	root := r.login(t, "root", passwordAdmin)
	var p apiProblem
	r.call(t, root, "GET", "/api/cameras/cam1/snapshot.jpg", "", 503, &p)
	if p.Code != codeNoPicture {
		t.Fatalf("no picture yet: %+v", p)
	}
	jpeg := []byte("\xff\xd8\xff\xe0 a picture")
	r.scenes.set("cam1", Scene{Time: time.Now()}, jpeg)
	resp, body := r.do(t, root, "GET", "/api/cameras/cam1/snapshot.jpg", "", nil)
	if resp.StatusCode != 200 || string(body) != string(jpeg) || resp.Header.Get("Content-Type") != "image/jpeg" ||
		resp.Header.Get("Cache-Control") == "" || resp.Header.Get("X-Frame-Time") == "" {
		t.Fatalf("snapshot: %s %q %v", resp.Status, body, resp.Header)
	}
	if a, _ := r.st.Audit(context.Background(), store.AuditQuery{Action: "snapshot"}); len(a) != 1 || a[0].Target != "cam1" {
		t.Errorf("snapshot not audited: %+v", a)
	}
}

func mustGeometry(t *testing.T, g map[string]any) *config.Geometry {
	t.Helper()
	var out config.Geometry
	if err := json.Unmarshal([]byte(mustJSON(g)), &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
