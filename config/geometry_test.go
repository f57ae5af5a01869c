package config

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func square(x, y, side float64) Polygon {
	return Polygon{{x, y}, {x + side, y}, {x + side, y + side}, {x, y + side}}
}

func validGeometry() Geometry {
	return Geometry{
		Lines: []Line{{ID: "door", Name: "正门", A: Point{0.3, 0.9}, B: Point{0.7, 0.9}, Inside: Point{0.5, 0.7}}},
		Windows: []WindowGeometry{
			{ID: "w1", Name: "1号窗口", Zone: square(0.1, 0.1, 0.1), ServiceZone: square(0.1, 0.4, 0.1), Backup: "w2"},
			{ID: "w2", Name: "2号窗口", Zone: square(0.5, 0.1, 0.1)},
		},
		QueueZones: []QueueZone{{ID: "seats", Name: "等候区", Zone: square(0.1, 0.6, 0.3)}},
	}
}

// Every rule answers its stable code at the right key.
func TestGeometryCheck(t *testing.T) {
	if ps := validGeometry().Check(); len(ps) != 0 {
		t.Fatalf("valid geometry refused: %v", ps)
	}
	cases := []struct {
		name        string
		edit        func(g *Geometry)
		field, code string
	}{
		{"zero-length line", func(g *Geometry) { g.Lines[0].B = g.Lines[0].A }, "lines[0].b", CodeLineTooShort},
		{"inside on the line", func(g *Geometry) { g.Lines[0].Inside = Point{0.5, 0.9} }, "lines[0].inside", CodeInsideOnLine},
		{"line end outside", func(g *Geometry) { g.Lines[0].A = Point{-0.1, 0.9} }, "lines[0].a", CodeOutsidePicture},
		{"line without id", func(g *Geometry) { g.Lines[0].ID = "" }, "lines[0].id", CodeRequired},
		{"bad id", func(g *Geometry) { g.Lines[0].ID = "Door!" }, "lines[0].id", CodeInvalidID},
		{"self-intersecting zone", func(g *Geometry) {
			g.Windows[0].Zone = Polygon{{0.1, 0.1}, {0.2, 0.2}, {0.2, 0.1}, {0.1, 0.2}}
		}, "windows[0].zone", CodeSelfIntersecting},
		{"zero-area zone", func(g *Geometry) {
			g.Windows[0].Zone = Polygon{{0.1, 0.1}, {0.2, 0.1}, {0.3, 0.1}}
		}, "windows[0].zone", CodeSelfIntersecting},
		{"tiny zone", func(g *Geometry) { g.Windows[1].Zone = square(0.5, 0.1, 0.01) }, "windows[1].zone", CodeAreaTooSmall},
		{"zone outside the picture", func(g *Geometry) { g.Windows[1].Zone = square(0.95, 0.1, 0.1) }, "windows[1].zone[1]", CodeOutsidePicture},
		{"zone of two points", func(g *Geometry) { g.Windows[1].Zone = g.Windows[1].Zone[:2] }, "windows[1].zone", CodeTooFewPoints},
		{"repeated point", func(g *Geometry) {
			z := g.Windows[1].Zone
			g.Windows[1].Zone = Polygon{z[0], z[1], z[1], z[2]}
		}, "windows[1].zone", CodeRepeatedPoint},
		{"service zone crossing itself", func(g *Geometry) {
			g.Windows[0].ServiceZone = Polygon{{0.1, 0.4}, {0.2, 0.5}, {0.2, 0.4}, {0.1, 0.5}}
		}, "windows[0].service_zone", CodeSelfIntersecting},
		{"window without zone", func(g *Geometry) { g.Windows[1].Zone = nil }, "windows[1].zone", CodeRequired},
		{"window without name", func(g *Geometry) { g.Windows[1].Name = "  " }, "windows[1].name", CodeRequired},
		{"name too long", func(g *Geometry) { g.Windows[1].Name = strings.Repeat("窗", 101) }, "windows[1].name", CodeTooLong},
		{"name with a control character", func(g *Geometry) { g.QueueZones[0].Name = "a\x00b" }, "queue_zones[0].name", CodeInvalidText},
		{"duplicate window", func(g *Geometry) { g.Windows[1].ID, g.Windows[0].Backup = "w1", "" }, "windows[1].id", CodeDuplicateID},
		{"unknown backup", func(g *Geometry) { g.Windows[0].Backup = "w9" }, "windows[0].backup", CodeUnknownBackup},
		{"own backup", func(g *Geometry) { g.Windows[0].Backup = "w1" }, "windows[0].backup", CodeUnknownBackup},
		{"queue feeding no window", func(g *Geometry) { g.QueueZones[0].Windows = []string{"w1", "w9"} }, "queue_zones[0].windows[1]", CodeUnknownWindow},
		{"queue zone outside", func(g *Geometry) { g.QueueZones[0].Zone = square(0.8, 0.8, 0.3) }, "queue_zones[0].zone[1]", CodeOutsidePicture},
		{"too many lines", func(g *Geometry) {
			for i := range maxGeometryItems {
				g.Lines = append(g.Lines, Line{ID: fmt.Sprint("l", i), A: Point{0.1, 0.5}, B: Point{0.9, 0.5}, Inside: Point{0.5, 0.9}})
			}
		}, "lines", CodeTooMany},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := validGeometry()
			c.edit(&g)
			ps := g.Check()
			if len(ps) != 1 || ps[0].Field != c.field || ps[0].Code != c.code || ps[0].Msg == "" {
				t.Fatalf("got %+v, want one problem %s at %s", ps, c.code, c.field)
			}
		})
	}
}

// Apply replaces the drawn parts and keeps the file's other settings of a
// window with the same id; new windows take the defaults.
func TestGeometryApply(t *testing.T) {
	base := &Analytics{FPS: 5, IdleAfter: DefaultIdleAfter, Windows: []Window{
		{ID: "w2", Name: "old", Zone: square(0.2, 0.2, 0.1), AbsentAfter: Duration(90 * time.Second), MinStaff: 2,
			ServiceMin: Duration(30 * time.Second), Schedule: Schedule{mustEntry(t, "mon-fri 09:00-12:00")}},
	}, QueueAlert: &QueueAlert{People: 8, For: Duration(time.Minute)}}
	g := validGeometry()
	a := g.Apply(base)
	if a == base || len(base.Windows) != 1 || base.Windows[0].Name != "old" {
		t.Fatal("Apply changed its base")
	}
	if a.FPS != 5 || a.QueueAlert != base.QueueAlert || len(a.Lines) != 1 || len(a.QueueZones) != 1 {
		t.Fatalf("camera settings or drawn items lost: %+v", a)
	}
	w1, w2 := a.Windows[0], a.Windows[1]
	if w1.ID != "w1" || w1.AbsentAfter != defaultAbsentAfter || w1.MinStaff != 1 || w1.ServiceMin != defaultServiceMin || w1.Backup != "w2" {
		t.Errorf("new window w1: %+v", w1)
	}
	if w2.Name != "2号窗口" || w2.AbsentAfter != Duration(90*time.Second) || w2.MinStaff != 2 || len(w2.Schedule) != 1 ||
		w2.ServiceMin != Duration(30*time.Second) || w2.Zone[0] != (Point{0.5, 0.1}) {
		t.Errorf("file window w2 should keep its settings and take the drawn zone and name: %+v", w2)
	}
	if back := GeometryOf(a); !jsonEqual(t, back, g) {
		t.Errorf("GeometryOf(Apply(g)) != g")
	}
}

func jsonEqual(t *testing.T, a, b any) bool {
	t.Helper()
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return string(x) == string(y)
}

func TestGeometryChanges(t *testing.T) {
	old := validGeometry()
	g := validGeometry()
	if c := g.Changes(old); len(c) != 0 {
		t.Fatalf("no change, got %q", c)
	}
	g.Lines[0].B = Point{0.8, 0.9}
	g.Windows[0].ServiceZone = nil
	g.Windows[0].Backup = ""
	g.Windows[1].Name = "2号 社保"
	g.Windows[0], g.Windows[1] = g.Windows[1], g.Windows[0]
	g.QueueZones = append(g.QueueZones, QueueZone{ID: "line", Zone: square(0.5, 0.5, 0.1)})
	g.Lines = append(g.Lines, Line{ID: "side", A: Point{0.1, 0.5}, B: Point{0.1, 0.8}, Inside: Point{0.3, 0.6}})
	got := strings.Join(g.Changes(old), "; ")
	want := `line door: moved; line side added; window w2: renamed "2号窗口" → "2号 社保"; ` +
		`window w1: service zone removed, backup w2 → none; windows reordered; queue zone line added`
	if got != want {
		t.Fatalf("changes:\n got %s\nwant %s", got, want)
	}
	if got := strings.Join(old.Changes(g), "; "); !strings.Contains(got, "line side removed") || !strings.Contains(got, "queue zone line removed") {
		t.Fatalf("removals not named: %s", got)
	}
}

// Points in JSON have exactly two coordinates.
func TestGeometryJSONPoints(t *testing.T) {
	for _, body := range []string{
		`{"lines":[{"id":"l","a":[0.1],"b":[0.9,0.5],"inside":[0.5,0.9]}]}`,
		`{"lines":[{"id":"l","a":[0.1,0.5,0.3],"b":[0.9,0.5],"inside":[0.5,0.9]}]}`,
		`{"windows":[{"id":"w","name":"n","zone":[[0.1,0.1],"x",[0.2,0.2]]}]}`,
	} {
		var g Geometry
		if err := json.Unmarshal([]byte(body), &g); err == nil {
			t.Errorf("%s: accepted", body)
		}
	}
}

// FuzzGeometry: whatever JSON arrives, Check never panics, and geometry it
// accepts, written into a configuration file, loads (the editor accepts
// nothing the file would refuse).
func FuzzGeometry(f *testing.F) {
	good, _ := json.Marshal(validGeometry())
	f.Add(good)
	f.Add([]byte(`{"windows":[{"id":"w1","name":"x","zone":[[0,0],[1,0],[1,1]],"backup":"w1"}]}`))
	f.Add([]byte(`{"lines":[{"id":"a","a":[0,0],"b":[0,0],"inside":[0,0]}]}`))
	f.Add([]byte(`{"queue_zones":[{"id":"q","zone":[[0.1,0.1],[0.2,0.2],[0.2,0.1],[0.1,0.2]]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var g Geometry
		if json.Unmarshal(data, &g) != nil {
			return
		}
		if len(g.Check()) > 0 {
			return
		}
		cfg, err := Parse("base.yaml", []byte(base), nil)
		if err != nil {
			t.Fatal(err)
		}
		cam := cfg.Districts[0].Centers[0].Cameras[0]
		cfg.Districts[0].Centers[0].Cameras[0].Analytics = g.Apply(cam.Analytics)
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse("export.yaml", out, nil); err != nil {
			t.Fatalf("accepted geometry does not load from the file:\n%v\n%s", err, out)
		}
	})
}
