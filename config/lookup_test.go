package config

import (
	"testing"
	"time"
)

func TestLookups(t *testing.T) {
	cfg := mustParse(t, base+
		"      - id: c2\n        name: 景山\n        timezone: Asia/Urumqi\n        cameras:\n"+
		"          - {id: cam2, name: 门口, url: \"rtsp://10.0.0.2/x\"}\n"+
		"          - {id: cam3, name: 后门, url: \"rtsp://10.0.0.3/x\"}\n"+
		"  - id: d2\n    name: 西城区\n")
	var ids []string
	for _, ref := range cfg.Cameras() {
		ids = append(ids, ref.District.ID+"/"+ref.Center.ID+"/"+ref.Camera.ID)
	}
	if want := "d1/c1/cam1 d1/c2/cam2 d1/c2/cam3"; join(ids) != want {
		t.Errorf("Cameras() = %v, want %s", ids, want)
	}
	ref, ok := cfg.Camera("cam3")
	if !ok || ref.Camera.Name != "后门" || ref.Center.ID != "c2" || ref.District.ID != "d1" {
		t.Errorf("Camera(cam3) = %+v, %v", ref, ok)
	}
	// The refs point into the config.
	ref.Camera.Name = "changed"
	if cfg.Districts[0].Centers[1].Cameras[1].Name != "changed" {
		t.Error("CameraRef does not point into the Config")
	}
	if _, ok := cfg.Camera("nope"); ok {
		t.Error("Camera(nope) found")
	}
	d, c, ok := cfg.Center("c2")
	if !ok || d.ID != "d1" || c.Name != "景山" || c.Location().String() != "Asia/Urumqi" {
		t.Errorf("Center(c2) = %v, %v, %v", d, c, ok)
	}
	if _, _, ok := cfg.Center("d1"); ok {
		t.Error("Center(d1) found a district")
	}
	if d, ok := cfg.District("d2"); !ok || d.Name != "西城区" {
		t.Errorf("District(d2) = %v, %v", d, ok)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out
}

// TestHandBuiltCenter covers centers that did not come through Load.
func TestHandBuiltCenter(t *testing.T) {
	if got := (&Center{}).Location().String(); got != "Asia/Shanghai" {
		t.Errorf("zero Center: %s", got)
	}
	if got := (&Center{Timezone: "Europe/Paris"}).Location().String(); got != "Europe/Paris" {
		t.Errorf("Paris: %s", got)
	}
	if got := (&Center{Timezone: "Nowhere/Land"}).Location(); got != time.UTC {
		t.Errorf("unknown zone: %s", got)
	}
	w := &Window{Schedule: Schedule{mustEntry(t, "daily 09:00-17:00")}}
	// A nil center means Shanghai, no center holidays.
	if !w.OpenAt(time.Date(2026, 3, 16, 2, 0, 0, 0, time.UTC), nil) {
		t.Error("nil center: closed at 10:00 Shanghai")
	}
	if n := len(w.OpenIntervals(time.Date(2026, 3, 16, 2, 0, 0, 0, time.UTC), nil)); n != 1 {
		t.Errorf("nil center: %d intervals", n)
	}
}
