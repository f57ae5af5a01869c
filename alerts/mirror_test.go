package alerts

import (
	"context"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// Two nodes of a cluster on one database: node A runs the camera and
// raises an alert; node B mirrors A's state (its board shows the alert),
// then takes the camera over, restores the alert from the database and
// resolves it when the staff return, once, without a second alert.
func TestCameraMovesToAnotherNode(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a, b := r.manager(t), r.manager(t)

	a.UpdateWindows("hall1", []events.WindowStatus{{Window: "w1", State: events.StateAbsent, Since: r.now, Alerting: true},
		{Window: "w2", State: events.StateStaffed, Count: 1, Since: r.now}})
	a.Record(ctx, r.ref(), []events.Event{alertEvent("w1", events.AlertRaised, r.now)}, noSnapshot)
	st := a.State("hall1")
	if len(st.Windows) != 2 || len(st.Open) != 1 || st.Open[0].Window != "w1" || st.Open[0].Kind != events.KindUnstaffed {
		t.Fatalf("a's state of hall1: %+v", st)
	}
	if board := b.Board("c1"); board[0].State != events.StateUnknown || board[0].Alerting {
		t.Fatalf("b's board before mirroring: %+v", board)
	}
	b.Mirror("hall1", st)
	board := b.Board("c1")
	if board[0].State != events.StateAbsent || !board[0].Alerting || board[0].AlertID != st.Open[0].ID ||
		board[1].State != events.StateStaffed || board[1].Count != 1 {
		t.Fatalf("b's board mirroring a: %+v", board)
	}

	// a dies; b takes hall1 over. Its new analysis knows nothing of the
	// absence and raises again: the same alert, not a second one.
	b.Release("hall1")
	if board := b.Board("c1"); board[0].State != events.StateUnknown || !board[0].Alerting {
		t.Fatalf("b's board between nodes: %+v", board)
	}
	if err := b.RestoreCamera(ctx, "hall1"); err != nil {
		t.Fatal(err)
	}
	later := r.now.Add(time.Minute)
	b.Record(ctx, r.ref(), []events.Event{alertEvent("w1", events.AlertRaised, later)}, noSnapshot)
	if open, _ := r.db.OpenAlerts(ctx); len(open) != 1 {
		t.Fatalf("taking over duplicated the alert: %d open", len(open))
	}
	b.Record(ctx, r.ref(), []events.Event{windowEvent("w1", events.StateStaffed, later.Add(time.Minute))}, noSnapshot)
	open, _ := r.db.OpenAlerts(ctx)
	got, _ := r.db.Alert(ctx, st.Open[0].ID)
	if len(open) != 0 || got.ResolvedAt.IsZero() {
		t.Fatalf("the alert a raised was not resolved by b: %d open, %+v", len(open), got)
	}
	if n := len(r.notices); n != 2 {
		t.Errorf("%d notices, want raised (by a) and resolved (by b)", n)
	}
	// a mirrors b now: the alert is closed there too.
	a.Mirror("hall1", b.State("hall1"))
	if board := a.Board("c1"); board[0].Alerting {
		t.Errorf("a's board still alerting after b resolved: %+v", board[0])
	}
}
