package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geom"
	"github.com/hallwatch/hallwatch/geometry"
	"github.com/hallwatch/hallwatch/store"
)

const exportTestConfig = `
storage:
  path: %DB%
districts:
  - id: d1
    name: One
    centers:
      - id: c1
        name: Center One
        cameras:
          - id: cam1
            name: Hall
            url: rtsp://127.0.0.1:1/x
            analytics:
              lines:
                - {id: door, a: [0.3, 0.8], b: [0.7, 0.8], inside: [0.5, 0.6]}
              windows:
                - id: w1
                  name: Window 1
                  zone: [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.2]]
                  absent_after: 90s
`

// TestConfigExport saves geometry in the database as the editor does and
// checks that `hallwatch config export` writes it in place of the file's,
// keeping the file's other settings, as a file hallwatch loads again.
func TestConfigExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hw.db")
	path := filepath.Join(dir, "hw.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(exportTestConfig, "%DB%", db)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	m := geometry.New(geometry.Options{Config: cfg, Store: st})
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	g := config.GeometryOf(cfg.Districts[0].Centers[0].Cameras[0].Analytics)
	g.Windows[0].Zone = geom.Polygon{{0.5, 0.1}, {0.6, 0.1}, {0.6, 0.25}, {0.5, 0.25}}
	g.Windows[0].ServiceZone = geom.Polygon{{0.5, 0.3}, {0.6, 0.3}, {0.6, 0.4}, {0.5, 0.4}}
	g.QueueZones = []config.QueueZone{{ID: "seats", Name: "Seats", Zone: geom.Polygon{{0.1, 0.5}, {0.4, 0.5}, {0.4, 0.7}, {0.1, 0.7}}}}
	if _, err := m.Save(ctx, "cam1", 0, &g, "root", "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	st.Close()

	var out, errb bytes.Buffer
	if code := run(ctx, []string{"config", "export", path}, &out, &errb); code != 0 {
		t.Fatalf("config export: exit %d\n%s", code, &errb)
	}
	got, err := config.Parse("exported.yaml", out.Bytes(), nil)
	if err != nil {
		t.Fatalf("the export does not load: %v\n%s", err, &out)
	}
	an := got.Districts[0].Centers[0].Cameras[0].Analytics
	if w := an.Windows[0]; !slices.Equal(w.Zone, g.Windows[0].Zone) || !slices.Equal(w.ServiceZone, g.Windows[0].ServiceZone) {
		t.Errorf("exported window %+v, want the saved zones", w)
	}
	if an.Windows[0].AbsentAfter.D().Seconds() != 90 {
		t.Errorf("exported absent_after %v, want the file's 90s", an.Windows[0].AbsentAfter)
	}
	if len(an.QueueZones) != 1 || an.QueueZones[0].ID != "seats" {
		t.Errorf("exported queue zones %+v, want the saved one", an.QueueZones)
	}

	if code := run(ctx, []string{"config", "export", filepath.Join(dir, "missing.yaml")}, &out, &errb); code == 0 {
		t.Error("export of a missing file succeeded")
	}
}
