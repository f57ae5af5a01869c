package store

import (
	"context"
	"testing"
	"time"
)

func TestPurge(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		old := time.Date(2023, 1, 10, 2, 0, 0, 0, time.UTC)
		recent := time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC)
		cutoff := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

		var evs []EventRecord
		for i := range 12000 { // more than one purge chunk
			evs = append(evs, crossing("c1", "cam", "door", "in", old.Add(time.Duration(i)*time.Second), sh))
		}
		evs = append(evs, crossing("c1", "cam", "door", "out", recent, sh))
		if err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		oldAlert := mustRaise(t, s, AlertRecord{Kind: "camera_offline", Center: "c1", Camera: "cam", RaisedAt: old, Snapshot: fakeJPEG})
		newAlert := mustRaise(t, s, AlertRecord{Kind: "unstaffed", Center: "c1", Camera: "cam", Window: "w", RaisedAt: recent, Snapshot: fakeJPEG})
		for _, at := range []time.Time{old, recent} {
			if err := s.AppendAudit(ctx, AuditEntry{Time: at, User: "alice", Action: "login"}); err != nil {
				t.Fatal(err)
			}
		}
		gaveUp, _ := s.EnqueueNotification(ctx, "hook", []byte("x"))
		pending, _ := s.EnqueueNotification(ctx, "hook", []byte("y"))
		if err := s.MarkNotificationFailed(ctx, gaveUp, "HTTP 400", time.Time{}); err != nil {
			t.Fatal(err)
		}

		// Nothing is purged without cutoffs.
		if r, err := s.Purge(ctx, PurgeBefore{}); err != nil || r != (PurgeResult{}) {
			t.Fatalf("empty purge = %+v, %v", r, err)
		}
		r, err := s.Purge(ctx, PurgeBefore{Events: cutoff, Snapshots: cutoff, Audit: cutoff, Notifications: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if r != (PurgeResult{Events: 12000, Snapshots: 1, Audit: 1, Notifications: 1}) {
			t.Errorf("purge result = %+v", r)
		}
		if evs, _ := s.Events(ctx, EventQuery{}); len(evs) != 1 || evs[0].Direction != "out" {
			t.Errorf("events left: %+v", evs)
		}
		// The alert row stays without its image; the recent image stays.
		if a, err := s.Alert(ctx, oldAlert); err != nil || a.HasSnapshot {
			t.Errorf("old alert after purge = %+v, %v", a, err)
		}
		if _, err := s.Snapshot(ctx, newAlert); err != nil {
			t.Errorf("recent snapshot purged: %v", err)
		}
		if a, _ := s.Audit(ctx, AuditQuery{}); len(a) != 1 || !a[0].Time.Equal(recent) {
			t.Errorf("audit left: %+v", a)
		}
		if p, _ := s.PendingNotifications(ctx, "", time.Now().Add(time.Hour), 0); len(p) != 1 || p[0].ID != pending {
			t.Errorf("pending notifications after purge: %+v", p)
		}
		// Counts are kept: planners compare against last year.
		days, err := s.Counts(ctx, CountQuery{Bucket: BucketDay})
		if err != nil {
			t.Fatal(err)
		}
		in := 0
		for _, d := range days {
			in += d.In
		}
		if in != 12000 {
			t.Errorf("counts after purge: %d in, want 12000", in)
		}
	})
}
