package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// FuzzEventRoundTrip stores events with arbitrary text and times: the store
// either rejects them with ErrInvalid or gives back exactly what was written.
func FuzzEventRoundTrip(f *testing.F) {
	f.Add("cam1", "door", true, "c1", int64(1714525200000000), 3)
	f.Add("камера 1", "门", false, "中心", int64(-1), 0)
	f.Add("a\x00b", "\xff\xfe", true, "c", int64(0), -5)
	f.Add("", "door", true, "c1", int64(253402300799000000), 1)
	s, _ := openTest(f)
	sh := mustLoc(f, "Asia/Shanghai")
	f.Fuzz(func(t *testing.T, camera, line string, in bool, center string, micros int64, track int) {
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
				t.Fatalf("not a validation error: %v", err)
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
		t.Fatalf("event %+v not read back; got %+v", e.Event, got)
	})
}
