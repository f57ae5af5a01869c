package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

func TestEventsRoundTripAndFilters(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		t0 := time.Date(2024, 5, 1, 9, 0, 0, 123456789, sh) // sub-microsecond part is dropped
		cross := crossing("c1", "cam1", "door", "in", t0, sh)
		cross.Track, cross.Frame, cross.T = 7, 42, 8.4
		evs := []EventRecord{
			cross,
			windowEvent("c1", "cam1", "w1", "absent", 0, t0.Add(time.Minute), sh),
			windowEvent("c2", "cam2", "w1", "staffed", 2, t0.Add(2*time.Minute), sh),
			{Event: events.Event{Type: events.TypeAlert, Kind: events.KindUnstaffed, Camera: "cam1", Window: "w1",
				State: events.AlertRaised, Time: t0.Add(3 * time.Minute)}, District: "d1", Center: "c1", Loc: sh},
		}
		if err := s.AppendEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
		all, err := s.Events(ctx, EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 4 {
			t.Fatalf("got %d events, want 4", len(all))
		}
		got := all[0]
		want := t0.Truncate(time.Microsecond).UTC()
		if !got.Time.Equal(want) || got.Time.Location() != time.UTC {
			t.Errorf("time = %s, want %s in UTC", got.Time, want)
		}
		if got.Center != "c1" || got.District != "d1" || got.Camera != "cam1" || got.Line != "door" ||
			got.Direction != "in" || got.Track != 7 || got.Frame != 42 || got.T != 8.4 || got.Count != nil {
			t.Errorf("crossing read back as %+v", got)
		}
		if all[1].Count == nil || *all[1].Count != 0 {
			t.Errorf("window count 0 must survive as a non-nil 0, got %v", all[1].Count)
		}
		if all[3].Kind != events.KindUnstaffed || all[3].State != events.AlertRaised {
			t.Errorf("alert event read back as %+v", all[3])
		}

		for name, tc := range map[string]struct {
			q    EventQuery
			want []int64 // ids
		}{
			"center":       {EventQuery{Centers: []string{"c2"}}, []int64{3}},
			"camera+type":  {EventQuery{Cameras: []string{"cam1"}, Types: []string{events.TypeWindow}}, []int64{2}},
			"range":        {EventQuery{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, []int64{2, 3}},
			"newest+limit": {EventQuery{NewestFirst: true, Limit: 2}, []int64{4, 3}},
		} {
			got, err := s.Events(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Errorf("%s: ids %v, want %v", name, ids, tc.want)
			}
		}
	})
}

func TestAppendEventsRejectsBadInput(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		at := time.Date(2024, 5, 1, 9, 0, 0, 0, sh)
		good := crossing("c1", "cam", "door", "in", at, sh)
		for name, tc := range map[string]struct {
			mutate func(*EventRecord)
			msg    string
		}{
			"direction":  {func(e *EventRecord) { e.Direction = "sideways" }, `direction "sideways"`},
			"no line":    {func(e *EventRecord) { e.Line = "" }, "without line"},
			"no time":    {func(e *EventRecord) { e.Time = time.Time{} }, "time is zero"},
			"no center":  {func(e *EventRecord) { e.Center = "" }, "center is empty"},
			"no camera":  {func(e *EventRecord) { e.Camera = "" }, "camera is empty"},
			"no zone":    {func(e *EventRecord) { e.Loc = nil }, "no time zone"},
			"local zone": {func(e *EventRecord) { e.Loc = time.Local }, "time.Local"},
			"fixed zone": {func(e *EventRecord) { e.Loc = time.FixedZone("CST", 8*3600) }, `"CST" is not an IANA`},
			"type":       {func(e *EventRecord) { e.Type = "dance" }, `unknown event type "dance"`},
			"window":     {func(e *EventRecord) { e.Type = events.TypeWindow }, "needs window and state"},
		} {
			bad := good
			tc.mutate(&bad)
			err := s.AppendEvents(ctx, []EventRecord{good, bad})
			wantErr(t, err, ErrInvalid)
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "event 1") {
				t.Errorf("%s: error %q should say %q and name event 1", name, err, tc.msg)
			}
		}
		// Nothing of a rejected batch is stored, not even its good events.
		if evs, err := s.Events(ctx, EventQuery{}); err != nil || len(evs) != 0 {
			t.Errorf("after rejected batches: %d events, %v", len(evs), err)
		}
		if rows, err := s.Counts(ctx, CountQuery{Bucket: BucketHour}); err != nil || len(rows) != 0 {
			t.Errorf("after rejected batches: %d count rows, %v", len(rows), err)
		}
	})
}

func TestAppendEventsCancelledStoresNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.AppendEvents(ctx, []EventRecord{crossing("c1", "cam", "door", "in", time.Now(), sh)})
		if err == nil {
			t.Fatal("append with a cancelled context succeeded")
		}
		if evs, err := s.Events(context.Background(), EventQuery{}); err != nil || len(evs) != 0 {
			t.Errorf("%d events stored, %v", len(evs), err)
		}
	})
}

func TestLastWindowStates(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		day := time.Date(2024, 5, 2, 0, 0, 0, 0, sh)
		if err := s.AppendEvents(ctx, []EventRecord{
			windowEvent("c1", "cam1", "w1", "staffed", 1, day.Add(-10*time.Hour), sh),
			windowEvent("c1", "cam1", "w1", "absent", 0, day.Add(-2*time.Hour), sh), // w1's last before the day
			windowEvent("c1", "cam1", "w2", "staffed", 1, day.Add(-5*time.Hour), sh),
			windowEvent("c1", "cam1", "w2", "absent", 0, day.Add(time.Hour), sh), // after: ignored
			windowEvent("c2", "cam2", "w1", "absent", 0, day.Add(-time.Hour), sh),
			crossing("c1", "cam1", "door", "in", day.Add(-time.Minute), sh),
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.LastWindowStates(ctx, []string{"c1"}, day)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Window != "w1" || got[0].State != "absent" || got[1].Window != "w2" || got[1].State != "staffed" {
			t.Errorf("last states = %+v", got)
		}
		all, err := s.LastWindowStates(ctx, nil, day)
		if err != nil || len(all) != 3 {
			t.Errorf("all centers: %d states, %v", len(all), err)
		}
	})
}
