package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// Queue minutes and waits go to their own tables in the frame's
// transaction; they are selected by time and center, refused when
// incomplete, and purged with the events; a queue_long alert is stored.
func TestQueuesStoredQueriedPurged(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, sh)
		minute := func(center string, at time.Time, most int, mean float64) EventRecord {
			return EventRecord{Event: events.Event{Type: events.TypeQueue, Camera: "cam-" + center, Zone: "q1", Count: &most, Mean: mean, Time: at},
				District: "d1", Center: center, Loc: sh}
		}
		wait := func(center, window string, reached time.Time, secs float64, estimated bool) EventRecord {
			return EventRecord{Event: events.Event{Type: events.TypeWait, Camera: "cam-" + center, Zone: "q1", Window: window, Track: 9,
				Duration: secs, Estimated: estimated, Time: reached}, District: "d1", Center: center, Loc: sh}
		}
		evs := []EventRecord{
			minute("c1", t0, 4, 2.5),
			minute("c1", t0.Add(time.Hour), 7, 6.25),
			minute("c2", t0, 1, 0.5),
			wait("c1", "w2", t0.Add(10*time.Minute), 300.5, false),
			wait("c1", "", t0.Add(2*time.Hour), 600, true),
			windowEvent("c1", "cam-c1", "w1", "staffed", 1, t0, sh),
		}
		if err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		ms, err := s.QueueMinutes(ctx, QueueQuery{Centers: []string{"c1"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || !ms[0].Minute.Equal(t0) || ms[0].Max != 4 || ms[0].Mean != 2.5 || ms[1].Max != 7 || ms[1].Mean != 6.25 ||
			ms[0].Zone != "q1" || ms[0].Camera != "cam-c1" || ms[0].District != "d1" {
			t.Fatalf("c1's queue minutes %+v", ms)
		}
		ws, err := s.Waits(ctx, QueueQuery{Centers: []string{"c1"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(ws) != 2 || ws[0].Estimated || !ws[1].Estimated || ws[0].Window != "w2" || ws[1].Window != "" || ws[0].Track != 9 ||
			!ws[0].Start.Equal(t0.Add(10*time.Minute-300500*time.Millisecond)) || !ws[0].End.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("c1's waits %+v", ws)
		}
		if in, _ := s.QueueMinutes(ctx, QueueQuery{From: t0.Add(30 * time.Minute), To: t0.Add(90 * time.Minute)}); len(in) != 1 || in[0].Max != 7 {
			t.Errorf("queue minutes 9:30..10:30: %+v, want c1's at 10:00", in)
		}
		if all, _ := s.Events(ctx, EventQuery{}); len(all) != 1 {
			t.Errorf("events %+v: want only the window event (queues have their own tables)", all)
		}
		n := 2
		for _, bad := range []EventRecord{
			wait("c1", "w1", t0, -1, false),
			minute("c1", t0, 1, 2), // a mean above the most
			{Event: events.Event{Type: events.TypeQueue, Camera: "cam-c1", Count: &n, Time: t0}, District: "d1", Center: "c1", Loc: sh}, // no zone
		} {
			if err := s.AppendEvents(ctx, []EventRecord{windowEvent("c1", "cam-c1", "w1", "absent", 0, t0, sh), bad}); !errors.Is(err, ErrInvalid) {
				t.Errorf("%+v: %v, want ErrInvalid", bad.Event, err)
			}
		}
		res, err := s.Purge(ctx, PurgeBefore{Events: t0.Add(90 * time.Minute)})
		if err != nil || res.Queues != 4 {
			t.Fatalf("purge: %+v, %v; want 3 queue minutes and a wait", res, err)
		}
		if left, _ := s.Waits(ctx, QueueQuery{}); len(left) != 1 || !left[0].Estimated {
			t.Errorf("waits after purge %+v", left)
		}
		a, _, err := s.RaiseAlert(ctx, AlertRecord{Kind: events.KindQueueLong, District: "d1", Center: "c1", Camera: "cam-c1", RaisedAt: t0}, nil)
		if err != nil || a.Kind != events.KindQueueLong {
			t.Fatalf("queue_long alert: %+v, %v", a, err)
		}
	})
}
