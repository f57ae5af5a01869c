package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testDB is a fresh database of one driver for one test.
type testDB struct {
	driver string
	target string // SQLite file or PostgreSQL DSN
}

// newTestDB makes an empty database; PostgreSQL skips tb where it is absent.
func newTestDB(tb testing.TB, driver string) testDB {
	tb.Helper()
	if driver == DriverPostgres {
		return testDB{driver, pgtest.DB(tb)}
	}
	return testDB{driver, filepath.Join(tb.TempDir(), "hallwatch.db")}
}

// drivers are the databases every store test runs on.
var drivers = []string{DriverSQLite, DriverPostgres}

// eachDB runs test on a fresh SQLite and a fresh PostgreSQL database, as
// subtests named after the driver.
func eachDB(t *testing.T, test func(t *testing.T, db testDB)) {
	for _, driver := range drivers {
		t.Run(driver, func(t *testing.T) { test(t, newTestDB(t, driver)) })
	}
}

// openDB opens the database (again, after a Close: a restart); it is
// closed when the test ends.
func (db testDB) open(tb testing.TB) *Store {
	tb.Helper()
	s, err := db.openErr(context.Background())
	if err != nil {
		tb.Fatalf("open %s: %v", db.driver, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func (db testDB) openErr(ctx context.Context) (*Store, error) {
	if db.driver == DriverPostgres {
		return OpenPostgres(ctx, db.target)
	}
	return Open(ctx, db.target)
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
