package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestOutbox(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		n1, err := s.EnqueueNotification(ctx, "wecom", []byte(`{"alert":1}`))
		if err != nil {
			t.Fatal(err)
		}
		n2, err := s.EnqueueNotification(ctx, "wecom", []byte(`{"alert":2}`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnqueueNotification(ctx, "hook", []byte(`{"alert":1}`)); err != nil {
			t.Fatal(err)
		}
		wantErr(t, func() error { _, err := s.EnqueueNotification(ctx, "", []byte("x")); return err }(), ErrInvalid)
		wantErr(t, func() error { _, err := s.EnqueueNotification(ctx, "wecom", nil); return err }(), ErrInvalid)

		now := time.Now()
		pending, err := s.PendingNotifications(ctx, "wecom", now, 10)
		if err != nil || len(pending) != 2 || pending[0].ID != n1 || string(pending[0].Payload) != `{"alert":1}` || pending[0].Attempts != 0 {
			t.Fatalf("pending = %+v, %v", pending, err)
		}
		if all, _ := s.PendingNotifications(ctx, "", now, 0); len(all) != 3 {
			t.Errorf("all targets: %d pending, want 3", len(all))
		}

		retry := now.Add(time.Minute)
		if err := s.MarkNotificationFailed(ctx, n1, "HTTP 502 "+strings.Repeat("x", 2000), retry); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.PendingNotifications(ctx, "wecom", now, 10); len(got) != 1 || got[0].ID != n2 {
			t.Errorf("before retry time: %+v", got)
		}
		// The outbox outlives a restart.
		s.Close()
		s = db.open(t)
		got, err := s.PendingNotifications(ctx, "wecom", retry, 10)
		if err != nil || len(got) != 2 || got[0].ID != n2 || got[1].ID != n1 || got[1].Attempts != 1 ||
			!strings.HasPrefix(got[1].LastError, "HTTP 502") || len(got[1].LastError) > 1024 || !got[1].NextAttempt.Equal(retry.Truncate(time.Microsecond)) {
			t.Fatalf("after restart = %+v, %v", got, err)
		}
		if err := s.MarkNotificationDone(ctx, n2); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.MarkNotificationDone(ctx, n2), ErrNotFound)
		// Giving up: kept, never pending again.
		if err := s.MarkNotificationFailed(ctx, n1, "HTTP 400", time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.PendingNotifications(ctx, "wecom", now.Add(24*time.Hour), 10); len(got) != 0 {
			t.Errorf("given-up message still pending: %+v", got)
		}
		wantErr(t, s.MarkNotificationFailed(ctx, 999, "x", retry), ErrNotFound)
	})
}
