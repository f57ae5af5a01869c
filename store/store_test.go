package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// openTest opens a fresh store in a temporary directory.
func openTest(t testing.TB) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hallwatch.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available on this system: %v", name, err)
	}
	return loc
}

// mustTime parses an RFC 3339 literal.
func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func crossing(center, camera, line, dir string, at time.Time, loc *time.Location) EventRecord {
	return EventRecord{
		Event: events.Event{Type: events.TypeCrossing, Camera: camera, Line: line,
			Direction: dir, Time: at},
		District: "d1", Center: center, Loc: loc,
	}
}

func windowEvent(center, camera, window, state string, count int, at time.Time, loc *time.Location) EventRecord {
	return EventRecord{
		Event: events.Event{Type: events.TypeWindow, Camera: camera, Window: window,
			State: state, Count: &count, Time: at},
		District: "d1", Center: center, Loc: loc,
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}
