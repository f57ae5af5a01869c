package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

var fakeJPEG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{0x42}, 1000)...)

func unstaffed(camera, window string, at time.Time) AlertRecord {
	return AlertRecord{Kind: events.KindUnstaffed, District: "d1", Center: "c1", Camera: camera, Window: window, RaisedAt: at}
}

func TestAlertLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		raised := time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC)
		rec := unstaffed("cam1", "w1", raised)
		rec.Snapshot = fakeJPEG
		raisedAlert, _, err := s.RaiseAlert(ctx, rec, nil)
		if err != nil {
			t.Fatal(err)
		}
		id := raisedAlert.ID
		a, err := s.Alert(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !a.Open() || !a.HasSnapshot || a.Kind != events.KindUnstaffed || a.Window != "w1" || !a.RaisedAt.Equal(raised) ||
			!a.AckedAt.IsZero() || a.Duration() != 0 {
			t.Errorf("new alert = %+v", a)
		}
		if jpeg, err := s.Snapshot(ctx, id); err != nil || !bytes.Equal(jpeg, fakeJPEG) {
			t.Errorf("snapshot: %d bytes, %v", len(jpeg), err)
		}

		// The same condition cannot be open twice.
		_, _, err = s.RaiseAlert(ctx, unstaffed("cam1", "w1", raised.Add(time.Minute)), nil)
		wantErr(t, err, ErrConflict)

		acked := raised.Add(2 * time.Minute)
		if err := s.AckAlert(ctx, id, Ack{By: "alice", Verdict: VerdictConfirmed, Comment: "calling the clerk", At: acked}); err != nil {
			t.Fatal(err)
		}
		err = s.AckAlert(ctx, id, Ack{By: "bob", Verdict: VerdictFalseAlarm, Reason: ReasonClerkPresent, At: acked.Add(time.Minute)})
		wantErr(t, err, ErrAlreadyAcknowledged)
		wantErr(t, err, ErrConflict)

		resolved := raised.Add(10*time.Minute + 500*time.Millisecond)
		if _, _, err := s.ResolveAlert(ctx, id, resolved, nil); err != nil {
			t.Fatal(err)
		}
		wantErr(t, resolve(s, id, resolved.Add(time.Minute)), ErrAlreadyResolved)
		a, err = s.Alert(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if a.Open() || a.AckedBy != "alice" || a.AckComment != "calling the clerk" || !a.AckedAt.Equal(acked) ||
			a.Verdict != VerdictConfirmed || a.VerdictReason != "" ||
			a.Duration() != 10*time.Minute+500*time.Millisecond {
			t.Errorf("resolved alert = %+v (duration %s)", a, a.Duration())
		}

		// Resolved, the condition may be raised again; acknowledging after resolution is allowed.
		id2 := mustRaise(t, s, unstaffed("cam1", "w1", raised.Add(time.Hour)))
		if err := resolve(s, id2, raised.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.AckAlert(ctx, id2, Ack{By: "alice", Verdict: VerdictFalseAlarm, Reason: ReasonZoneWrong, At: raised.Add(3 * time.Hour)}); err != nil {
			t.Errorf("ack after resolve: %v", err)
		}
		if a, err := s.Alert(ctx, id2); err != nil || a.Verdict != VerdictFalseAlarm || a.VerdictReason != ReasonZoneWrong {
			t.Errorf("false alarm: %+v, %v", a, err)
		}
		if _, err := s.Snapshot(ctx, id2); !strings.Contains(err.Error(), "not found") {
			t.Errorf("alert without snapshot: %v", err)
		}
		wantErr(t, resolve(s, id2+1, raised), ErrNotFound)
		wantErr(t, resolve(s, mustRaise(t, s, unstaffed("cam9", "w9", raised)), raised.Add(-time.Second)), ErrInvalid)
	})
}

func mustRaise(t *testing.T, s *Store, a AlertRecord) int64 {
	t.Helper()
	stored, _, err := s.RaiseAlert(context.Background(), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	return stored.ID
}

// resolve resolves an alert without announcing it.
func resolve(s *Store, id int64, at time.Time) error {
	_, _, err := s.ResolveAlert(context.Background(), id, at, nil)
	return err
}

func TestAlertUnknownID(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		_, err := s.Alert(ctx, 42)
		wantErr(t, err, ErrNotFound)
		wantErr(t, s.AckAlert(ctx, 42, Ack{By: "alice", Verdict: VerdictConfirmed, At: time.Now()}), ErrNotFound)
		wantErr(t, resolve(s, 42, time.Now()), ErrNotFound)
		_, err = s.Snapshot(ctx, 42)
		wantErr(t, err, ErrNotFound)
	})
}

func TestRaiseAlertRejectsBadInput(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		at := time.Now()
		big := append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, MaxSnapshotBytes)...)
		for name, tc := range map[string]struct {
			a   AlertRecord
			msg string
		}{
			"kind":           {AlertRecord{Kind: "fire", Center: "c1", Camera: "cam", RaisedAt: at}, `kind "fire"`},
			"no window":      {unstaffed("cam", "", at), "without window"},
			"offline+window": {AlertRecord{Kind: events.KindCameraOffline, Center: "c1", Camera: "cam", Window: "w1", RaisedAt: at}, "with window"},
			"blocked+window": {AlertRecord{Kind: events.KindCameraBlocked, Center: "c1", Camera: "cam", Window: "w1", RaisedAt: at}, "with window"},
			"no time":        {unstaffed("cam", "w1", time.Time{}), "time is zero"},
			"too big":        {AlertRecord{Kind: events.KindCameraOffline, Center: "c1", Camera: "cam", RaisedAt: at, Snapshot: big}, "limit 2097152"},
			"not jpeg":       {AlertRecord{Kind: events.KindCameraOffline, Center: "c1", Camera: "cam", RaisedAt: at, Snapshot: []byte("GIF89a")}, "not a JPEG"},
		} {
			_, _, err := s.RaiseAlert(ctx, tc.a, nil)
			wantErr(t, err, ErrInvalid)
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%s: error %q should say %q", name, err, tc.msg)
			}
		}
		for name, a := range map[string]Ack{
			"no user":            {Verdict: VerdictConfirmed, At: at},
			"long comment":       {By: "alice", Verdict: VerdictConfirmed, Comment: strings.Repeat("x", 5000), At: at},
			"no verdict":         {By: "alice", At: at},
			"unknown verdict":    {By: "alice", Verdict: "maybe", At: at},
			"false, no reason":   {By: "alice", Verdict: VerdictFalseAlarm, At: at},
			"false, bad reason":  {By: "alice", Verdict: VerdictFalseAlarm, Reason: "cat", At: at},
			"confirmed + reason": {By: "alice", Verdict: VerdictConfirmed, Reason: ReasonOther, At: at},
			"no time":            {By: "alice", Verdict: VerdictConfirmed},
		} {
			if err := s.AckAlert(ctx, 1, a); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
	})
}

func TestOpenAlertsSurviveRestart(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		t0 := time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC)
		a1 := mustRaise(t, s, unstaffed("cam1", "w1", t0))
		offline := AlertRecord{Kind: events.KindCameraOffline, District: "d1", Center: "c2", Camera: "cam2",
			RaisedAt: t0.Add(time.Minute), Snapshot: fakeJPEG}
		a2 := mustRaise(t, s, offline)
		a3 := mustRaise(t, s, unstaffed("cam1", "w2", t0.Add(2*time.Minute)))
		if err := s.AckAlert(ctx, a1, Ack{By: "alice", Verdict: VerdictConfirmed, Comment: "on it", At: t0.Add(3 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if err := resolve(s, a3, t0.Add(4*time.Minute)); err != nil {
			t.Fatal(err)
		}
		s.Close()

		s = db.open(t)
		open, err := s.OpenAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 2 || open[0].ID != a1 || open[1].ID != a2 {
			t.Fatalf("open alerts after restart = %+v", open)
		}
		if open[0].AckedBy != "alice" || !open[1].HasSnapshot || open[1].Kind != events.KindCameraOffline || open[1].Window != "" {
			t.Errorf("open alerts lost detail: %+v", open)
		}
		// Still one open alert per condition after the restart.
		_, _, err = s.RaiseAlert(ctx, offline, nil)
		wantErr(t, err, ErrConflict)
	})
}

func TestAlertsQuery(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		t0 := time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC)
		var ids []int64
		for i, center := range []string{"c1", "c2", "c1", "c3"} {
			a := unstaffed(fmt.Sprintf("cam%d", i), "w", t0.Add(time.Duration(i)*time.Hour))
			a.Center = center
			ids = append(ids, mustRaise(t, s, a))
		}
		if err := resolve(s, ids[0], t0.Add(30*time.Minute)); err != nil {
			t.Fatal(err)
		}
		yes, no := true, false
		for name, tc := range map[string]struct {
			q    AlertQuery
			want []int64
		}{
			"all newest first": {AlertQuery{}, []int64{ids[3], ids[2], ids[1], ids[0]}},
			"centers":          {AlertQuery{Centers: []string{"c1", "c3"}}, []int64{ids[3], ids[2], ids[0]}},
			"open":             {AlertQuery{Centers: []string{"c1"}, Open: &yes}, []int64{ids[2]}},
			"resolved":         {AlertQuery{Open: &no}, []int64{ids[0]}},
			"range":            {AlertQuery{From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, []int64{ids[2], ids[1]}},
			"limit":            {AlertQuery{Limit: 1}, []int64{ids[3]}},
		} {
			got, err := s.Alerts(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []int64
			for _, a := range got {
				gotIDs = append(gotIDs, a.ID)
			}
			if len(gotIDs) != len(tc.want) {
				t.Errorf("%s: ids %v, want %v", name, gotIDs, tc.want)
				continue
			}
			for i := range gotIDs {
				if gotIDs[i] != tc.want[i] {
					t.Errorf("%s: ids %v, want %v", name, gotIDs, tc.want)
					break
				}
			}
		}
	})
}

// TestVerdictCounts: per window, confirmed and false alarms among its
// unstaffed alerts of the centers and time asked for; camera_blocked
// alerts are stored and never counted.
func TestVerdictCounts(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		t0 := time.Date(2024, 5, 1, 1, 0, 0, 0, time.UTC)
		judge := func(window string, at time.Time, verdict, reason string) {
			id := mustRaise(t, s, unstaffed("cam1", window, at))
			if err := resolve(s, id, at.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if verdict != "" {
				if err := s.AckAlert(ctx, id, Ack{By: "alice", Verdict: verdict, Reason: reason, At: at.Add(2 * time.Minute)}); err != nil {
					t.Fatal(err)
				}
			}
		}
		judge("w1", t0, VerdictConfirmed, "")
		judge("w1", t0.Add(time.Hour), VerdictFalseAlarm, ReasonClerkPresent)
		judge("w1", t0.Add(2*time.Hour), VerdictFalseAlarm, ReasonViewBlocked)
		judge("w1", t0.Add(3*time.Hour), "", "")
		judge("w2", t0.Add(time.Hour), VerdictConfirmed, "")
		judge("w2", t0.Add(48*time.Hour), VerdictFalseAlarm, ReasonOther) // outside the range
		blocked := mustRaise(t, s, AlertRecord{Kind: events.KindCameraBlocked, District: "d1", Center: "c1", Camera: "cam1", RaisedAt: t0})
		if err := s.AckAlert(ctx, blocked, Ack{By: "alice", Verdict: VerdictConfirmed, At: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.VerdictCounts(ctx, []string{"c1"}, t0, t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []VerdictCount{
			{Camera: "cam1", Window: "w1", Confirmed: 1, FalseAlarms: 2, Unjudged: 1},
			{Camera: "cam1", Window: "w2", Confirmed: 1},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
		if r := got[0].FalseAlarmRate(); r < 0.66 || r > 0.67 {
			t.Errorf("w1 false alarm rate %v, want 2/3", r)
		}
		if r := (VerdictCount{Unjudged: 3}).FalseAlarmRate(); r != -1 {
			t.Errorf("nothing judged: rate %v, want -1", r)
		}
		if other, err := s.VerdictCounts(ctx, []string{"c9"}, t0, t0.Add(24*time.Hour)); err != nil || len(other) != 0 {
			t.Errorf("another center: %+v, %v", other, err)
		}
	})
}
