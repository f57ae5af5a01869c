package store

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGeometryVersions(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		if got, err := s.LatestGeometries(ctx); err != nil || len(got) != 0 {
			t.Fatalf("fresh database: %v, %v", got, err)
		}
		t0 := time.Date(2026, 3, 16, 2, 0, 0, 0, time.UTC)
		save := func(camera, geometry string, base int, at time.Time) (GeometryVersion, error) {
			return s.SaveGeometry(ctx, GeometryVersion{Camera: camera, User: "alice", Geometry: geometry,
				Changes: "line door: moved", SavedAt: at}, base, "10.0.0.9")
		}
		v1, err := save("hall1", `{"lines":[]}`, 0, t0)
		if err != nil || v1.Version != 1 {
			t.Fatalf("first save: %+v, %v", v1, err)
		}
		// An editor that started from the file's geometry while v1 was
		// saved must not overwrite it.
		wantErr(t, second(save("hall1", `{"lines":[1]}`, 0, t0.Add(time.Minute))), ErrConflict)
		v2, err := save("hall1", `{"lines":[2]}`, 1, t0.Add(time.Hour))
		if err != nil || v2.Version != 2 {
			t.Fatalf("second save: %+v, %v", v2, err)
		}
		wantErr(t, second(save("hall1", `{}`, 5, t0.Add(2*time.Hour))), ErrConflict)
		if _, err := save("hall2", "", 0, t0); err != nil { // a revert is a version too
			t.Fatal(err)
		}

		latest, err := s.LatestGeometries(ctx)
		if err != nil || len(latest) != 2 || latest[0].Camera != "hall1" || latest[0].Version != 2 ||
			latest[0].Geometry != `{"lines":[2]}` || latest[1].Camera != "hall2" || latest[1].Geometry != "" {
			t.Fatalf("latest: %+v, %v", latest, err)
		}
		vs, err := s.GeometryVersions(ctx, "hall1", 0)
		if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Version != 1 || vs[1].User != "alice" ||
			!vs[1].SavedAt.Equal(t0) || vs[1].Changes != "line door: moved" {
			t.Fatalf("versions: %+v, %v", vs, err)
		}
		if vs, _ := s.GeometryVersions(ctx, "hall1", 1); len(vs) != 1 || vs[0].Version != 2 {
			t.Errorf("limit 1: %+v", vs)
		}
		if v, err := s.GeometryVersion(ctx, "hall1", 1); err != nil || v.Geometry != `{"lines":[]}` {
			t.Errorf("version 1: %+v, %v", v, err)
		}
		wantErr(t, second(s.GeometryVersion(ctx, "hall1", 3)), ErrNotFound)
		// In force at a time: before the first save, the file's.
		wantErr(t, second(s.GeometryAt(ctx, "hall1", t0.Add(-time.Second))), ErrNotFound)
		if v, err := s.GeometryAt(ctx, "hall1", t0.Add(30*time.Minute)); err != nil || v.Version != 1 {
			t.Errorf("at +30m: %+v, %v", v, err)
		}
		if v, err := s.GeometryAt(ctx, "hall1", t0.Add(time.Hour)); err != nil || v.Version != 2 {
			t.Errorf("at +1h: %+v, %v", v, err)
		}

		// Every save is in the audit log: who, when, what changed, from where.
		audit, err := s.Audit(ctx, AuditQuery{})
		if err != nil || len(audit) != 3 {
			t.Fatalf("audit: %+v, %v", audit, err)
		}
		byAction := map[string]AuditEntry{}
		for _, e := range audit { // newest first: keep the newest of each
			if _, seen := byAction[e.Action+" "+e.Target]; !seen {
				byAction[e.Action+" "+e.Target] = e
			}
		}
		if e := byAction["geometry_save hall1"]; e.User != "alice" || e.RemoteAddr != "10.0.0.9" ||
			!strings.Contains(e.Detail, "version 2") || !strings.Contains(e.Detail, "line door: moved") {
			t.Errorf("audit of the save: %+v", e)
		}
		if e := byAction["geometry_revert hall2"]; !strings.Contains(e.Detail, "configuration file") {
			t.Errorf("audit of the revert: %+v", e)
		}

		wantErr(t, second(save("", "{}", 0, t0)), ErrInvalid)
		wantErr(t, second(save("hall3", "{\x00}", 0, t0)), ErrInvalid)
		wantErr(t, second(save("hall3", strings.Repeat("x", maxGeometryBytes+1), 0, t0)), ErrInvalid)
	})
}

// Editors saving at the same time from the same version: one wins, the
// others are told of the conflict, and the versions stay 1, 2, 3….
func TestGeometryConcurrentSaves(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		var wg sync.WaitGroup
		results := make(chan error, 8)
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.SaveGeometry(ctx, GeometryVersion{Camera: "hall1", User: "u", Geometry: "{}"}, 0, "")
				results <- err
			}()
		}
		wg.Wait()
		close(results)
		won := 0
		for err := range results {
			if err == nil {
				won++
			} else {
				wantErr(t, err, ErrConflict)
			}
		}
		vs, _ := s.GeometryVersions(ctx, "hall1", 0)
		if won != 1 || len(vs) != 1 || vs[0].Version != 1 {
			t.Fatalf("%d saves won, versions %+v; want exactly one, version 1", won, vs)
		}
	})
}

func TestSettings(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		if _, ok, err := s.Setting(ctx, "x"); ok || err != nil {
			t.Fatalf("unset: %v %v", ok, err)
		}
		for _, v := range []string{"true", "false"} {
			if err := s.SetSetting(ctx, "x", v, "root", "127.0.0.1"); err != nil {
				t.Fatal(err)
			}
			if got, ok, err := s.Setting(ctx, "x"); got != v || !ok || err != nil {
				t.Fatalf("after setting %s: %q %v %v", v, got, ok, err)
			}
		}
		if a, _ := s.Audit(ctx, AuditQuery{Action: "setting_change"}); len(a) != 2 || a[0].Detail != "false" || a[0].Target != "x" {
			t.Errorf("audit: %+v", a)
		}
		wantErr(t, s.SetSetting(ctx, "", "v", "root", ""), ErrInvalid)
	})
}

func second[T any](_ T, err error) error { return err }
