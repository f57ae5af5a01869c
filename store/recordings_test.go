package store

import (
	"context"
	"database/sql"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

func TestSegmentsIndex(t *testing.T) { eachDB(t, testSegmentsIndex) }

func testSegmentsIndex(t *testing.T, db testDB) {
	ctx := context.Background()
	s := db.open(t)
	t0 := mustTime(t, "2026-03-16T02:00:00Z")
	add := func(camera, root, path string, from, to time.Duration, bytes int64) int64 {
		t.Helper()
		id, err := s.AddSegment(ctx, Segment{Camera: camera, Root: root, Path: path, Codec: "H264",
			Start: t0.Add(from), End: t0.Add(to), Bytes: bytes, Closed: true})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := add("cam1", "/rec", "cam1/a.mp4", 0, 10*time.Minute, 100)
	add("cam1", "/rec", "cam1/b.mp4", 10*time.Minute, 20*time.Minute, 200)
	add("cam2", "/rec", "cam2/a.mp4", 0, 10*time.Minute, 300)
	add("cam3", "/disk2", "cam3/a.mp4", 5*time.Minute, 6*time.Minute, 1000)

	if _, err := s.AddSegment(ctx, Segment{Camera: "cam1", Root: "/rec", Path: "cam1/a.mp4", Codec: "H264", Start: t0, End: t0}); err == nil {
		t.Error("the same file indexed twice")
	} else {
		wantErr(t, err, ErrConflict)
	}
	_, err := s.AddSegment(ctx, Segment{Camera: "cam1", Root: "/rec", Path: "../etc/x", Codec: "H264", Start: t0, End: t0})
	wantErr(t, err, ErrInvalid)

	got, err := s.Segments(ctx, SegmentQuery{Camera: "cam1", From: t0.Add(9 * time.Minute), To: t0.Add(11 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Path != "cam1/a.mp4" || got[1].Path != "cam1/b.mp4" || !got[0].Start.Equal(t0) {
		t.Errorf("overlap query: %+v", got)
	}
	got, _ = s.Segments(ctx, SegmentQuery{Camera: "cam1", From: t0.Add(10 * time.Minute), To: t0.Add(11 * time.Minute)})
	if len(got) != 1 || got[0].Path != "cam1/b.mp4" {
		t.Errorf("a segment ending where the span starts overlaps nothing: %+v", got)
	}
	got, _ = s.Segments(ctx, SegmentQuery{Root: "/rec", EndBefore: t0.Add(15 * time.Minute)})
	if len(got) != 2 {
		t.Errorf("retention query: %+v", got)
	}
	n, err := s.RecordingBytes(ctx, "/rec")
	if err != nil || n != 600 {
		t.Errorf("RecordingBytes(/rec) = %d, %v; want 600", n, err)
	}

	if err := s.UpdateSegment(ctx, a, t0.Add(-time.Hour), 150, false); err != nil {
		t.Fatal(err)
	}
	open := false
	got, _ = s.Segments(ctx, SegmentQuery{Closed: &open})
	if len(got) != 1 || got[0].ID != a || !got[0].End.Equal(t0) || got[0].Bytes != 150 {
		t.Errorf("an end before the start is clamped to the start: %+v", got)
	}
	if err := s.DeleteSegment(ctx, a); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteSegment(ctx, a), ErrNotFound)
	wantErr(t, s.UpdateSegment(ctx, a, t0, 1, true), ErrNotFound)
}

func TestClipsAndAlertVideo(t *testing.T) { eachDB(t, testClipsAndAlertVideo) }

func testClipsAndAlertVideo(t *testing.T, db testDB) {
	ctx := context.Background()
	s := db.open(t)
	t0 := mustTime(t, "2026-03-16T02:00:00Z")
	raise := func(camera, window string, at time.Time) int64 {
		t.Helper()
		kind := events.KindUnstaffed
		if window == "" {
			kind = events.KindStorageFull
		}
		a, _, err := s.RaiseAlert(ctx, AlertRecord{Kind: kind, District: "d1", Center: "c1", Camera: camera, Window: window, RaisedAt: at}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	recorded := raise("cam1", "w1", t0.Add(5*time.Minute))
	unrecorded := raise("cam2", "w1", t0.Add(5*time.Minute))
	full := raise("cam1", "", t0.Add(30*time.Minute))
	if _, _, err := s.RaiseAlert(ctx, AlertRecord{Kind: events.KindStorageFull, District: "d1", Center: "c1", Camera: "cam1", Window: "w1", RaisedAt: t0}, nil); err == nil {
		t.Error("a storage_full alert with a window was accepted")
	}
	if _, err := s.AddSegment(ctx, Segment{Camera: "cam1", Root: "/rec", Path: "cam1/a.mp4", Codec: "H264",
		Start: t0, End: t0.Add(10 * time.Minute), Bytes: 100, Closed: true}); err != nil {
		t.Fatal(err)
	}
	video := func(id int64) bool {
		a, err := s.Alert(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return a.HasVideo
	}
	if !video(recorded) || video(unrecorded) || video(full) {
		t.Errorf("HasVideo: recorded %v, unrecorded %v, after the recording %v; want true, false, false",
			video(recorded), video(unrecorded), video(full))
	}

	for _, id := range []int64{recorded, unrecorded} {
		if _, _, err := s.ResolveAlert(ctx, id, t0.Add(7*time.Minute), nil); err != nil {
			t.Fatal(err)
		}
	}
	due, err := s.ClipsDue(ctx, t0, t0.Add(8*time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].ID != recorded {
		t.Fatalf("ClipsDue = %+v, want both resolved alerts", due)
	}
	if due, _ := s.ClipsDue(ctx, t0, t0.Add(7*time.Minute), 10); len(due) != 0 {
		t.Errorf("alerts resolved at the cutoff are not due yet: %+v", due)
	}
	err = s.SaveClip(ctx, Clip{AlertID: recorded, Camera: "cam1", Root: "/rec", Path: "clips/cam1/1.mp4",
		Start: t0.Add(5 * time.Minute), End: t0.Add(7 * time.Minute), Bytes: 40, Created: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveClip(ctx, Clip{AlertID: unrecorded, Camera: "cam2", Root: "/rec", Created: t0}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.SaveClip(ctx, Clip{AlertID: full, Camera: "cam1", Root: "/rec", Path: "x.mp4", Created: t0}), ErrInvalid)
	if due, _ := s.ClipsDue(ctx, t0, t0.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("clipped alerts still due: %+v", due)
	}
	c, err := s.Clip(ctx, recorded)
	if err != nil || c.Path != "clips/cam1/1.mp4" || c.Bytes != 40 || !c.End.Equal(t0.Add(7*time.Minute)) {
		t.Errorf("Clip = %+v, %v", c, err)
	}
	_, err = s.Clip(ctx, full)
	wantErr(t, err, ErrNotFound)
	if n, _ := s.RecordingBytes(ctx, "/rec"); n != 140 {
		t.Errorf("RecordingBytes counts clips too: %d, want 140", n)
	}

	// The recording goes; the clip keeps the alert's video.
	segs, _ := s.Segments(ctx, SegmentQuery{Camera: "cam1"})
	if err := s.DeleteSegment(ctx, segs[0].ID); err != nil {
		t.Fatal(err)
	}
	if !video(recorded) {
		t.Error("an alert with a clip lost its video with the recording")
	}
	exp, err := s.ExpiredClips(ctx, t0.Add(6*time.Minute), 10)
	if err != nil || len(exp) != 1 || exp[0].AlertID != recorded {
		t.Errorf("ExpiredClips = %+v, %v", exp, err)
	}
	if exp, _ := s.ExpiredClips(ctx, t0, 10); len(exp) != 0 {
		t.Errorf("clips of newer alerts expired: %+v", exp)
	}
}

// A database of the first schema keeps its alerts and snapshots when the
// recording migration changes the alerts table.
func TestMigrationKeepsAlertsAndSnapshots(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		raw, err := rawDB(db)
		if err != nil {
			t.Fatal(err)
		}
		d := sqliteDialect
		if db.driver == DriverPostgres {
			d = postgresDialect
		}
		first, err := migrationFiles.ReadFile("migrations/" + db.driver + "/0001_init.sql")
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate(ctx, raw, d, fstest.MapFS{"migrations/" + db.driver + "/0001_init.sql": {Data: first}}); err != nil {
			t.Fatal(err)
		}
		c := conn{raw, d}
		jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3}
		resolved, err := c.insert(ctx, `INSERT INTO alerts (kind, district, center, camera, window_id, raised_us, resolved_us)
			VALUES ('unstaffed', 'd1', 'c1', 'cam1', 'w1', 1000, 2000)`)
		if err != nil {
			t.Fatal(err)
		}
		open, err := c.insert(ctx, `INSERT INTO alerts (kind, district, center, camera, raised_us) VALUES ('camera_offline', 'd1', 'c1', 'cam1', 3000)`)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.exec(ctx, "INSERT INTO alert_snapshots (alert_id, jpeg) VALUES (?, ?)", resolved, jpeg); err != nil {
			t.Fatal(err)
		}
		raw.Close()

		s := db.open(t)
		a, err := s.Alert(ctx, resolved)
		if err != nil || !a.HasSnapshot || a.Window != "w1" || a.ResolvedAt.IsZero() {
			t.Fatalf("alert %d after migration: %+v, %v", resolved, a, err)
		}
		got, err := s.Snapshot(ctx, resolved)
		if err != nil || string(got) != string(jpeg) {
			t.Fatalf("snapshot after migration: %v, %v", got, err)
		}
		if _, _, err := s.RaiseAlert(ctx, AlertRecord{Kind: events.KindCameraOffline, District: "d1", Center: "c1", Camera: "cam1",
			RaisedAt: mustTime(t, "2026-01-01T00:00:00Z")}, nil); err == nil {
			t.Error("a second open camera_offline alert was accepted: the one-open index was lost")
		}
		full, _, err := s.RaiseAlert(ctx, AlertRecord{Kind: events.KindStorageFull, District: "d1", Center: "c1", Camera: "cam1",
			RaisedAt: mustTime(t, "2026-01-01T00:00:00Z")}, nil)
		if err != nil || full.ID <= open {
			t.Errorf("storage_full after migration: %+v, %v (ids must go on after the copied rows)", full, err)
		}
		if _, err := s.writer().exec(ctx, "INSERT INTO alerts (kind, district, center, camera, raised_us) VALUES ('', 'd1', 'c1', 'cam2', 1)"); err == nil {
			t.Error("an alert without a kind was stored")
		}
	})
}

// rawDB opens db without migrating it.
func rawDB(db testDB) (*sql.DB, error) {
	if db.driver == DriverPostgres {
		return sql.Open("pgx", db.target)
	}
	return sql.Open("sqlite3", sqliteDSN(db.target, "_foreign_keys=on", "_txlock=immediate"))
}
