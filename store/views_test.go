package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

func TestWallViews(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		alice, err := s.CreateUser(ctx, User{Name: "alice", Role: RoleDistrictSupervisor, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := s.CreateUser(ctx, User{Name: "bob", Role: RoleDistrictSupervisor, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		last, err := s.SaveWallView(ctx, WallView{UserID: alice, Layout: 4, Cameras: []string{"c1", "c2"}})
		if err != nil {
			t.Fatal(err)
		}
		named, err := s.SaveWallView(ctx, WallView{UserID: alice, Name: "东城 大厅", Layout: 9, Cameras: []string{"c3"}})
		if err != nil {
			t.Fatal(err)
		}
		// Saving under the same name replaces, keeping the id.
		again, err := s.SaveWallView(ctx, WallView{UserID: alice, Layout: 1, Cameras: []string{"c2"}})
		if err != nil || again.ID != last.ID {
			t.Fatalf("replace the last wall: %+v, %v (first id %d)", again, err, last.ID)
		}
		if _, err := s.SaveWallView(ctx, WallView{UserID: bob, Layout: 16}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		s = db.open(t) // kept across restarts
		got, err := s.WallViews(ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Name != "" || got[0].Layout != 1 || !slices.Equal(got[0].Cameras, []string{"c2"}) ||
			got[1].Name != "东城 大厅" || got[1].Layout != 9 || !slices.Equal(got[1].Cameras, []string{"c3"}) {
			t.Fatalf("alice's views: %+v", got)
		}
		if time.Since(got[0].UpdatedAt) > time.Minute {
			t.Errorf("updated at %v", got[0].UpdatedAt)
		}
		// Another user's view cannot be deleted; one's own can.
		wantErr(t, s.DeleteWallView(ctx, bob, named.ID), ErrNotFound)
		if err := s.DeleteWallView(ctx, alice, named.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.DeleteWallView(ctx, alice, named.ID), ErrNotFound)

		for _, bad := range []WallView{
			{UserID: alice, Layout: 6},
			{UserID: alice, Layout: 4, Name: strings.Repeat("名", 41)},
			{UserID: alice, Layout: 4, Name: " padded"},
			{UserID: alice, Layout: 4, Name: "a\nb"},
			{UserID: alice, Layout: 4, Name: "nul\x00"},
			{UserID: alice, Layout: 4, Cameras: make([]string, MaxViewCameras+1)},
			{UserID: alice, Layout: 4, Cameras: []string{""}},
			{Layout: 4},
		} {
			if _, err := s.SaveWallView(ctx, bad); err == nil {
				t.Errorf("saved %+v", bad)
			} else {
				wantErr(t, err, ErrInvalid)
			}
		}
		for i := range MaxViewsPerUser - 1 {
			if _, err := s.SaveWallView(ctx, WallView{UserID: alice, Name: fmt.Sprintf("v%02d", i), Layout: 4}); err != nil {
				t.Fatal(err)
			}
		}
		_, err = s.SaveWallView(ctx, WallView{UserID: alice, Name: "one too many", Layout: 4})
		wantErr(t, err, ErrConflict)
		if _, err := s.SaveWallView(ctx, WallView{UserID: alice, Layout: 16}); err != nil {
			t.Errorf("replacing an existing view at the limit: %v", err)
		}
	})
}

func TestCoverageFollowsFirstEvent(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		loc := mustLoc(t, "Asia/Shanghai")
		day := time.Date(2024, 3, 5, 9, 0, 0, 0, loc)
		cross := func(camera string, at time.Time) EventRecord {
			return crossing("c", camera, "door", events.DirectionIn, at, loc)
		}
		if err := s.AppendEvents(ctx, []EventRecord{cross("a", day.Add(time.Hour)), cross("a", day), cross("b", day.AddDate(0, 0, 2))}); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendEvents(ctx, []EventRecord{cross("a", day.AddDate(0, 0, 1))}); err != nil { // later: no change
			t.Fatal(err)
		}
		got, err := s.Coverage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !got["a"].Equal(day) || !got["b"].Equal(day.AddDate(0, 0, 2)) {
			t.Fatalf("coverage %v", got)
		}
		if err := s.AppendEvents(ctx, []EventRecord{cross("a", day.Add(-time.Hour))}); err != nil { // earlier: moves back
			t.Fatal(err)
		}
		// Purging the events keeps the coverage, like the hourly counts.
		if _, err := s.Purge(ctx, PurgeBefore{Events: day.AddDate(0, 0, 10)}); err != nil {
			t.Fatal(err)
		}
		got, err = s.Coverage(ctx, []string{"a"})
		if err != nil || len(got) != 1 || !got["a"].Equal(day.Add(-time.Hour)) {
			t.Fatalf("coverage of a after an earlier event and a purge: %v, %v", got, err)
		}
	})
}

// TestCoverageBackfilledByMigration opens a database written before
// coverage was kept: the migration takes each camera's first event, or its
// first counted hour when the events were purged.
func TestCoverageBackfilledByMigration(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		// Back to the schema before 0002, with data of then (later
		// migrations stay: each is applied once, whatever its number).
		w := s.writer()
		for _, q := range []string{"DROP TABLE wall_views", "DROP TABLE camera_coverage", "DELETE FROM schema_migrations WHERE version = 2"} {
			if _, err := w.exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		t0 := time.Date(2024, 3, 5, 1, 0, 0, 0, time.UTC)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{"INSERT INTO events (time_us, district, center, camera, type) VALUES (?, 'd', 'c', 'a', 'window')", []any{us(t0.Add(2 * time.Hour))}},
			{"INSERT INTO events (time_us, district, center, camera, type) VALUES (?, 'd', 'c', 'a', 'window')", []any{us(t0.Add(time.Hour))}},
			{`INSERT INTO crossings_hourly (center, camera, line_id, hour_start_us, local_hour, day_start_us, zone, district, in_count)
				VALUES ('c', 'b', 'door', ?, 'k', ?, 'UTC', 'd', 1)`, []any{us(t0), us(t0.Truncate(24 * time.Hour))}},
		} {
			if _, err := w.exec(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		s = db.open(t)
		got, err := s.Coverage(ctx, nil)
		if err != nil || len(got) != 2 || !got["a"].Equal(t0.Add(time.Hour)) || !got["b"].Equal(t0) {
			t.Fatalf("backfilled coverage %v, %v", got, err)
		}
	})
}

func TestAuditStartedAndCompleted(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		t0 := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
		id, err := s.StartAudit(ctx, AuditEntry{Time: t0, User: "li", Action: "watch", Target: "hall1", Detail: "watching"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteAudit(ctx, id, "until 08:02, 2m0s of video"); err != nil {
			t.Fatal(err)
		}
		got, err := s.Audit(ctx, AuditQuery{})
		if err != nil || len(got) != 1 || got[0].ID != id || got[0].Detail != "until 08:02, 2m0s of video" || !got[0].Time.Equal(t0) {
			t.Fatalf("audit %+v, %v", got, err)
		}
		wantErr(t, s.CompleteAudit(ctx, id+1, "x"), ErrNotFound)
	})
}
