package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/pgtest"
)

// FuzzEventRoundTrip stores events with arbitrary text and times in both
// databases (SQLite only where PostgreSQL is not installed): each either
// rejects them with ErrInvalid or gives back exactly what was written.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("cam1", "door", true, "c1", int64(1714525200000000), 3)
	f.Add("камера 1", "门", false, "中心", int64(-1), 0)
	f.Add("a\x00b", "\xff\xfe", true, "c", int64(0), -5)
	f.Add("", "door", true, "c1", int64(253402300799000000), 1)
	stores := []*Store{newTestDB(f, DriverSQLite).open(f)}
	if pgtest.Installed() {
		stores = append(stores, newTestDB(f, DriverPostgres).open(f))
	}
	sh := mustLoc(f, "Asia/Shanghai")
	f.Fuzz(func(t *testing.T, camera, line string, in bool, center string, micros int64, track int) {
		for _, s := range stores {
			roundTrip(t, s, sh, camera, line, in, center, micros, track)
		}
	})
}

func roundTrip(t *testing.T, s *Store, sh *time.Location, camera, line string, in bool, center string, micros int64, track int) {
	at := time.UnixMicro(micros)
	dir := events.DirectionOut
	if in {
		dir = events.DirectionIn
	}
	e := crossing(center, camera, line, dir, at, sh)
	e.Track = track
	err := s.AppendEvents(context.Background(), []EventRecord{e})
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("%s: not a validation error: %v", s.Driver(), err)
		}
		return
	}
	got, err := s.Events(context.Background(), EventQuery{Cameras: []string{camera}, From: at, To: at.Add(time.Microsecond)})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range got {
		if g.Center == center && g.Line == line && g.Direction == dir && g.Track == track && g.Time.Equal(at) &&
			g.Type == events.TypeCrossing {
			return
		}
	}
	t.Fatalf("%s: event %+v not read back; got %+v", s.Driver(), e.Event, got)
}
