package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// roundTripSeeds are events with awkward text and times: NUL, invalid
// UTF-8, no camera, the ends of the time range.
var roundTripSeeds = []struct {
	camera, line string
	in           bool
	center       string
	micros       int64
	track        int
}{
	{"cam1", "door", true, "c1", 1714525200000000, 3},
	{"камера 1", "门", false, "中心", -1, 0},
	{"a\x00b", "\xff\xfe", true, "c", 0, -5},
	{"", "door", true, "c1", 253402300799000000, 1},
	{"cam", "door", true, "c1", -62135596800000000, 1 << 40},
}

// FuzzEventRoundTrip stores events with arbitrary text and times: the
// store either rejects them with ErrInvalid or gives back exactly what was
// written. It fuzzes on SQLite: what PostgreSQL would refuse is refused
// before either database is touched, and TestEventRoundTripSeeds runs the
// seeds on both.
func FuzzEventRoundTrip(f *testing.F) {
	for _, e := range roundTripSeeds {
		f.Add(e.camera, e.line, e.in, e.center, e.micros, e.track)
	}
	s := newTestDB(f, DriverSQLite).open(f)
	sh := mustLoc(f, "Asia/Shanghai")
	f.Fuzz(func(t *testing.T, camera, line string, in bool, center string, micros int64, track int) {
		roundTrip(t, s, sh, camera, line, in, center, micros, track)
	})
}

func TestEventRoundTripSeeds(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		for _, e := range roundTripSeeds {
			roundTrip(t, s, sh, e.camera, e.line, e.in, e.center, e.micros, e.track)
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
