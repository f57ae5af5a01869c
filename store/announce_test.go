package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// announceTo renders one message per target naming the alert and its state.
func announceTo(targets ...string) Announce {
	return func(a Alert) []Notification {
		state := "raised"
		if !a.Open() {
			state = "resolved"
		}
		var out []Notification
		for _, target := range targets {
			out = append(out, Notification{Target: target, Payload: fmt.Appendf(nil, `{"alert":%d,"state":%q}`, a.ID, state)})
		}
		return out
	}
}

func TestAlertChangesQueueTheirNotifications(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		raised := time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC)
		a, queued, err := s.RaiseAlert(ctx, unstaffed("cam1", "w1", raised), announceTo("wecom", "hook"))
		if err != nil {
			t.Fatal(err)
		}
		if a.ID == 0 || !a.RaisedAt.Equal(raised) || len(queued) != 2 || queued[0].ID == 0 || queued[0].Target != "wecom" {
			t.Fatalf("raised %+v, queued %+v", a, queued)
		}
		resolved, queuedToo, err := s.ResolveAlert(ctx, a.ID, raised.Add(time.Minute), announceTo("wecom"))
		if err != nil {
			t.Fatal(err)
		}
		if resolved.Open() || resolved.Duration() != time.Minute || len(queuedToo) != 1 {
			t.Fatalf("resolved %+v, queued %+v", resolved, queuedToo)
		}
		pending, err := s.PendingNotifications(ctx, "wecom", time.Now().Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{fmt.Sprintf(`{"alert":%d,"state":"raised"}`, a.ID), fmt.Sprintf(`{"alert":%d,"state":"resolved"}`, a.ID)}
		if len(pending) != 2 || string(pending[0].Payload) != want[0] || string(pending[1].Payload) != want[1] ||
			pending[0].ID != queued[0].ID || pending[1].ID != queuedToo[0].ID {
			t.Errorf("outbox %+v, want %v", pending, want)
		}

		// A message the outbox refuses takes the alert change with it.
		_, _, err = s.RaiseAlert(ctx, unstaffed("cam1", "w2", raised), announceTo("hook", ""))
		wantErr(t, err, ErrInvalid)
		open, _ := s.OpenAlerts(ctx)
		if len(open) != 0 {
			t.Errorf("alert stored without its notifications: %+v", open)
		}
		b := mustRaise(t, s, unstaffed("cam1", "w3", raised))
		_, _, err = s.ResolveAlert(ctx, b, raised.Add(time.Minute), announceTo(""))
		wantErr(t, err, ErrInvalid)
		if got, _ := s.Alert(ctx, b); !got.Open() {
			t.Errorf("alert resolved without its notification: %+v", got)
		}
		if all, _ := s.PendingNotifications(ctx, "", time.Now().Add(time.Hour), 0); len(all) != 3 {
			t.Errorf("outbox has %d messages, want the 3 of the committed changes", len(all))
		}
	})
}

// TestHelperAlertRaiser is the child of TestCrashBetweenAlertAndNotification:
// it raises alerts with two notifications each and prints "ack N" after
// alert N committed; the announcement of alert stopAt prints "in-tx" and
// waits to be killed, inside the transaction.
func TestHelperAlertRaiser(t *testing.T) {
	db, ok := crashHelperDB()
	if !ok || os.Getenv("HALLWATCH_STORE_CRASH_HELPER") != "alerts" {
		t.Skip("helper process for TestCrashBetweenAlertAndNotification")
	}
	ctx := context.Background()
	s := db.open(t)
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	const stopAt = 20
	for i := 1; i <= stopAt; i++ {
		announce := announceTo("wecom", "hook")
		if i == stopAt {
			announce = func(a Alert) []Notification {
				fmt.Println("in-tx")
				time.Sleep(time.Minute) // killed here
				return nil
			}
		}
		if _, _, err := s.RaiseAlert(ctx, unstaffed(fmt.Sprintf("cam%d", i), "w1", t0.Add(time.Duration(i)*time.Second)), announce); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("ack %d\n", i)
	}
}

// TestCrashBetweenAlertAndNotification kills a process after it stored an
// alert and before it queued the alert's notification: after the restart,
// every alert has both its notifications and no notification lacks its
// alert; the interrupted alert left nothing.
func TestCrashBetweenAlertAndNotification(t *testing.T) {
	if _, ok := crashHelperDB(); ok {
		t.Skip("inside the helper")
	}
	eachDB(t, func(t *testing.T, db testDB) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // safety net, not an assertion
		defer cancel()
		t.Setenv("HALLWATCH_STORE_CRASH_HELPER", "alerts")
		cmd, sc, stderr := crashChild(t, ctx, "TestHelperAlertRaiser", db)
		acked, killed := 0, false
		for sc.Scan() {
			line := sc.Text()
			if n, ok := strings.CutPrefix(line, "ack "); ok {
				acked, _ = strconv.Atoi(n)
			}
			if line == "in-tx" {
				cmd.Process.Kill()
				killed = true
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("helper ended without reaching the transaction (acked %d):\n%s", acked, stderr)
		}

		s := db.open(t)
		alerts, err := s.Alerts(context.Background(), AlertQuery{})
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := s.PendingNotifications(context.Background(), "", time.Now().Add(time.Hour), 0)
		if err != nil {
			t.Fatal(err)
		}
		perAlert := map[int64]int{}
		for _, m := range msgs {
			var body struct{ Alert int64 }
			if err := json.Unmarshal(m.Payload, &body); err != nil {
				t.Fatal(err)
			}
			perAlert[body.Alert]++
		}
		if len(alerts) != acked {
			t.Errorf("%d alerts stored, %d acknowledged before the kill", len(alerts), acked)
		}
		for _, a := range alerts {
			if perAlert[a.ID] != 2 {
				t.Errorf("alert %d (%s) has %d of its 2 notifications", a.ID, a.Camera, perAlert[a.ID])
			}
			delete(perAlert, a.ID)
		}
		if len(perAlert) > 0 {
			t.Errorf("notifications of alerts that are not stored: %v", perAlert)
		}
	})
}

// Text that one database would refuse (NUL, invalid UTF-8) is refused by
// both with ErrInvalid where it names something, and made storable where
// it reports the outside world (audit entries, delivery errors).
func TestTextBothDatabasesStore(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		at := time.Date(2024, 5, 1, 9, 0, 0, 0, sh)
		for _, bad := range []string{"a\x00b", "\xff\xfe"} {
			wantErr(t, s.AppendEvents(ctx, []EventRecord{crossing("c1", bad, "door", "in", at, sh)}), ErrInvalid)
			_, _, err := s.RaiseAlert(ctx, unstaffed("cam", bad, at), nil)
			wantErr(t, err, ErrInvalid)
			_, err = s.CreateUser(ctx, User{Name: "u" + bad, Role: RolePlanner, PasswordHash: "h"})
			wantErr(t, err, ErrInvalid)
			_, err = s.EnqueueNotification(ctx, bad, []byte("x"))
			wantErr(t, err, ErrInvalid)
		}
		if err := s.AppendAudit(ctx, AuditEntry{Time: at, User: "x\x00y", Action: "login.failed", Detail: "name \xff"}); err != nil {
			t.Fatal(err)
		}
		got, err := s.Audit(ctx, AuditQuery{})
		if err != nil || len(got) != 1 || got[0].User != "xy" || got[0].Detail != "name \uFFFD" {
			t.Errorf("audit = %+v, %v", got, err)
		}
		id, err := s.EnqueueNotification(ctx, "hook", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		// 1023 bytes of ASCII and a 3-byte character: cut before it, not inside.
		long := strings.Repeat("e", 1023) + "错" + "\x00\xff"
		if err := s.MarkNotificationFailed(ctx, id, long, time.Now()); err != nil {
			t.Fatal(err)
		}
		p, err := s.PendingNotifications(ctx, "hook", time.Now().Add(time.Hour), 0)
		if err != nil || len(p) != 1 || p[0].LastError != strings.Repeat("e", 1023) {
			t.Errorf("last error = %q (%d bytes), %v", func() string {
				if len(p) == 1 {
					return p[0].LastError[max(0, len(p[0].LastError)-8):]
				}
				return ""
			}(), len(p), err)
		}
	})
}
