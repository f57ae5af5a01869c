package geometry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geom"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/store"
)

const hallYAML = `
storage:
  path: %s
districts:
  - id: d1
    name: D
    centers:
      - id: c1
        name: C
        cameras:
          - id: hall1
            name: Hall
            url: rtsp://127.0.0.1:1/x
            analytics:
              lines:
                - {id: door, a: [0.3, 0.9], b: [0.7, 0.9], inside: [0.5, 0.7]}
              windows:
                - id: w1
                  name: 1号窗口
                  zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]
                  absent_after: 90s
                  schedule: [mon-fri 09:00-12:00]
          - id: relayonly
            name: Door
            url: rtsp://127.0.0.1:1/y
`

// node is one hallwatch's view: its own configuration, the shared store.
type node struct {
	cfg     *config.Config
	m       *Manager
	mu      sync.Mutex
	applied []*config.Analytics
	log     *syncbuf.Buffer
}

func newNode(t *testing.T, db string, st *store.Store) *node {
	t.Helper()
	cfg, err := config.Parse("hall.yaml", []byte(fmt.Sprintf(hallYAML, db)), nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &node{cfg: cfg, log: &syncbuf.Buffer{}}
	n.m = New(Options{Config: cfg, Store: st, Log: slog.New(slog.NewTextHandler(n.log, nil)), Poll: 20 * time.Millisecond,
		Apply: func(ref config.CameraRef, an *config.Analytics) {
			n.mu.Lock()
			n.applied = append(n.applied, an)
			n.mu.Unlock()
		}})
	if err := n.m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return n
}

func (n *node) hall() *config.Camera {
	ref, _ := n.cfg.Camera("hall1")
	return ref.Camera
}

func openStore(t *testing.T) (string, *store.Store) {
	t.Helper()
	db := filepath.Join(t.TempDir(), "hw.db")
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return db, st
}

func drawn() config.Geometry {
	return config.Geometry{
		Lines: []config.Line{{ID: "door2", A: geom.Point{0.2, 0.8}, B: geom.Point{0.8, 0.8}, Inside: geom.Point{0.5, 0.6}}},
		Windows: []config.WindowGeometry{
			{ID: "w1", Name: "1号 社保", Zone: geom.Polygon{{0.1, 0.1}, {0.25, 0.1}, {0.25, 0.3}, {0.1, 0.3}},
				ServiceZone: geom.Polygon{{0.1, 0.4}, {0.3, 0.4}, {0.3, 0.5}, {0.1, 0.5}}},
			{ID: "w2", Name: "2号", Zone: geom.Polygon{{0.5, 0.1}, {0.7, 0.1}, {0.7, 0.3}, {0.5, 0.3}}, Backup: "w1"},
		},
		QueueZones: []config.QueueZone{{ID: "seats", Zone: geom.Polygon{{0.1, 0.6}, {0.9, 0.6}, {0.9, 0.75}, {0.1, 0.75}}}},
	}
}

func TestSaveRevertAndVersions(t *testing.T) {
	ctx := context.Background()
	db, st := openStore(t)
	n := newNode(t, db, st)
	st0, err := n.m.State("hall1")
	if err != nil || st0.Version != 0 || st0.Source != SourceFile || st0.Geometry.Lines[0].ID != "door" {
		t.Fatalf("fresh state: %+v, %v", st0, err)
	}

	g := drawn()
	s1, err := n.m.Save(ctx, "hall1", 0, &g, "alice", "10.1.1.1")
	if err != nil || s1.Version != 1 || s1.Source != SourceEditor || s1.SavedBy != "alice" {
		t.Fatalf("save: %+v, %v", s1, err)
	}
	an := n.hall().Effective()
	if an.Lines[0].ID != "door2" || len(an.Windows) != 2 || an.Windows[0].AbsentAfter != config.Duration(90*time.Second) ||
		len(an.Windows[0].Schedule) != 1 || len(an.QueueZones) != 1 || an.Windows[1].Backup != "w1" {
		t.Fatalf("not in force: %+v", an)
	}
	if len(n.applied) != 1 || n.applied[0] != an {
		t.Fatalf("the running analysis was not told: %d applies", len(n.applied))
	}
	if n.hall().Analytics.Lines[0].ID != "door" {
		t.Fatal("the file's section was changed")
	}

	// A save from the stale version 0 is refused; nothing changes.
	other := drawn()
	other.Lines[0].ID = "elsewhere"
	var conflict *ConflictError
	if _, err := n.m.Save(ctx, "hall1", 0, &other, "bob", ""); !errors.As(err, &conflict) || conflict.Current != 1 {
		t.Fatalf("stale save: %v", err)
	}
	// Invalid geometry is refused with its problems, before storing.
	bad := drawn()
	bad.Windows[1].Zone = geom.Polygon{{0.5, 0.1}, {0.7, 0.3}, {0.7, 0.1}, {0.5, 0.3}}
	var invalid *InvalidError
	if _, err := n.m.Save(ctx, "hall1", 1, &bad, "bob", ""); !errors.As(err, &invalid) ||
		invalid.Problems[0].Code != config.CodeSelfIntersecting || invalid.Problems[0].Field != "windows[1].zone" {
		t.Fatalf("invalid save: %v", err)
	}
	if n.hall().Effective().Lines[0].ID != "door2" {
		t.Fatal("a refused save changed the geometry in force")
	}

	// Revert: the file's geometry again, as version 2.
	s2, err := n.m.Save(ctx, "hall1", 1, nil, "carol", "")
	if err != nil || s2.Version != 2 || s2.Source != SourceFile || n.hall().Effective() != n.hall().Analytics {
		t.Fatalf("revert: %+v, %v", s2, err)
	}
	vs, err := n.m.Versions(ctx, "hall1", 0)
	if err != nil || len(vs) != 2 || vs[0].User != "carol" || !strings.Contains(vs[1].Changes, "line door2 added") ||
		!strings.Contains(vs[1].Changes, "window w2 added") || !strings.Contains(vs[0].Changes, "line door added") {
		t.Fatalf("versions: %+v, %v", vs, err)
	}
	if _, g1, err := n.m.Version(ctx, "hall1", 1); err != nil || g1.Windows[0].Name != "1号 社保" {
		t.Fatalf("version 1: %+v, %v", g1, err)
	}
	if v, g, err := n.m.At(ctx, "hall1", vs[1].SavedAt); err != nil || v != 1 || g.Lines[0].ID != "door2" {
		t.Fatalf("at the first save: %d %+v %v", v, g, err)
	}
	if v, g, err := n.m.At(ctx, "hall1", vs[1].SavedAt.Add(-time.Second)); err != nil || v != 0 || g.Lines[0].ID != "door" {
		t.Fatalf("before the first save: %d %+v %v", v, g, err)
	}
	if _, err := n.m.Save(ctx, "relayonly", 0, &g, "alice", ""); !errors.Is(err, ErrNotAnalysed) {
		t.Fatalf("relay-only camera: %v", err)
	}
	if _, err := n.m.State("nope"); !errors.Is(err, ErrUnknownCamera) {
		t.Fatalf("unknown camera: %v", err)
	}
}

// A second node sharing the database puts a save in force within its poll,
// and a restarted node starts with the newest version.
func TestOtherNodesAndRestart(t *testing.T) {
	ctx := context.Background()
	db, st := openStore(t)
	a, b := newNode(t, db, st), newNode(t, db, st)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- b.m.Run(runCtx) }()

	g := drawn()
	if _, err := a.m.Save(ctx, "hall1", 0, &g, "alice", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.m.SetManagersMayEdit(ctx, true, "root", ""); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.hall().Effective().Lines[0].ID != "door2" || !b.m.ManagersMayEdit() {
		if time.Now().After(deadline) {
			t.Fatal("the other node did not pick up the save")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	b.mu.Lock()
	applied := len(b.applied)
	b.mu.Unlock()
	if applied != 1 {
		t.Errorf("other node applied %d times, want once", applied)
	}
	if c := newNode(t, db, st); c.hall().Effective().Windows[1].ID != "w2" || len(c.applied) != 0 || !c.m.ManagersMayEdit() {
		t.Errorf("restarted node: %+v, %d applies", c.hall().Effective(), len(c.applied))
	}
}

// Saved geometry that fails today's checks (stored by an older release,
// or by hand) is left out at start with an error, and the file's applies.
func TestBadSavedGeometryFallsBackToTheFile(t *testing.T) {
	ctx := context.Background()
	db, st := openStore(t)
	if _, err := st.SaveGeometry(ctx, store.GeometryVersion{Camera: "hall1", User: "x",
		Geometry: `{"lines":[{"id":"l","a":[0.1,0.1],"b":[0.1,0.1],"inside":[0.5,0.5]}]}`}, 0, ""); err != nil {
		t.Fatal(err)
	}
	n := newNode(t, db, st)
	if n.hall().Effective() != n.hall().Analytics || !strings.Contains(n.log.String(), "left out") {
		t.Fatalf("bad saved geometry put in force; log:\n%s", n.log.String())
	}
	if s, _ := n.m.State("hall1"); s.Version != 1 || s.Source != SourceFile {
		t.Errorf("state: %+v", s)
	}
}
