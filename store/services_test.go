package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// Service events go to their own table with their arrival and departure,
// in the same transaction as the frame's other events; they are selected
// by start and center, refused without a window, and purged with events.
func TestServicesStoredQueriedPurged(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, sh)
		service := func(center, window string, end time.Time, secs float64) EventRecord {
			return EventRecord{Event: events.Event{Type: events.TypeService, Camera: "cam-" + center, Window: window, Track: 3,
				Duration: secs, Time: end}, District: "d1", Center: center, Loc: sh}
		}
		evs := []EventRecord{
			service("c1", "w1", t0.Add(5*time.Minute), 240.5),
			windowEvent("c1", "cam-c1", "w1", "staffed", 1, t0, sh),
			service("c1", "w2", t0.Add(2*time.Hour), 60),
			service("c2", "w1", t0.Add(time.Hour), 30),
		}
		if err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		got, err := s.Services(ctx, ServiceQuery{Centers: []string{"c1"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Window != "w1" || got[1].Window != "w2" {
			t.Fatalf("c1's services %+v, want w1 then w2", got)
		}
		if want := t0.Add(5*time.Minute - 240500*time.Millisecond); !got[0].Start.Equal(want) || !got[0].End.Equal(t0.Add(5*time.Minute)) ||
			got[0].Track != 3 || got[0].Camera != "cam-c1" || got[0].District != "d1" {
			t.Errorf("service %+v, want %v .. %v", got[0], want, t0.Add(5*time.Minute))
		}
		if in, _ := s.Services(ctx, ServiceQuery{From: t0.Add(30 * time.Minute), To: t0.Add(90 * time.Minute)}); len(in) != 1 || in[0].Center != "c2" {
			t.Errorf("services starting 9:30..10:30: %+v, want c2's", in)
		}
		if window, _ := s.Events(ctx, EventQuery{}); len(window) != 1 {
			t.Errorf("events %+v: want only the window event (services have their own table)", window)
		}
		bad := service("c1", "", t0, 10)
		if err := s.AppendEvents(ctx, []EventRecord{windowEvent("c1", "cam-c1", "w1", "absent", 0, t0, sh), bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("service without window: %v, want ErrInvalid", err)
		}
		res, err := s.Purge(ctx, PurgeBefore{Events: t0.Add(90 * time.Minute)})
		if err != nil || res.Services != 2 {
			t.Fatalf("purge: %+v, %v; want 2 services", res, err)
		}
		if left, _ := s.Services(ctx, ServiceQuery{}); len(left) != 1 || left[0].Window != "w2" {
			t.Errorf("after purge %+v, want c1's w2", left)
		}
	})
}
