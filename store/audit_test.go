package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestAudit(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		entries := []AuditEntry{
			{Time: t0, User: "alice", Action: "login", RemoteAddr: "10.0.0.1"},
			{Time: t0.Add(time.Minute), User: "alice", Action: "alert.ack", Target: "alert/7", Detail: "calling"},
			{Time: t0.Add(2 * time.Minute), User: "bob", Action: "login"},
		}
		for _, e := range entries {
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Audit(ctx, AuditQuery{})
		if err != nil || len(got) != 3 || got[0].User != "bob" || got[2].RemoteAddr != "10.0.0.1" || !got[2].Time.Equal(t0) {
			t.Fatalf("Audit = %+v, %v", got, err)
		}
		if got, _ := s.Audit(ctx, AuditQuery{User: "alice", Action: "alert.ack"}); len(got) != 1 || got[0].Target != "alert/7" || got[0].Detail != "calling" {
			t.Errorf("filtered = %+v", got)
		}
		if got, _ := s.Audit(ctx, AuditQuery{From: t0.Add(time.Minute), To: t0.Add(2 * time.Minute)}); len(got) != 1 || got[0].Action != "alert.ack" {
			t.Errorf("range = %+v", got)
		}
		if got, _ := s.Audit(ctx, AuditQuery{Action: "login", Limit: 1}); len(got) != 1 || got[0].User != "bob" {
			t.Errorf("limit = %+v", got)
		}
		wantErr(t, s.AppendAudit(ctx, AuditEntry{Time: t0}), ErrInvalid)
		wantErr(t, s.AppendAudit(ctx, AuditEntry{Time: t0, Action: "x", Detail: strings.Repeat("d", 9000)}), ErrInvalid)
	})
}
