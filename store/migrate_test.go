package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hallwatch/hallwatch/internal/pgtest"
)

func TestOpenAppliesMigrationsOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		ms, err := loadMigrations(migrationFiles, "migrations/"+db.driver)
		if err != nil {
			t.Fatal(err)
		}
		checkVersions := func(s *Store) {
			t.Helper()
			var n, max int
			if err := s.reader().queryRow(ctx, "SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&n, &max); err != nil {
				t.Fatal(err)
			}
			if n != len(ms) || max != ms[len(ms)-1].version {
				t.Fatalf("schema_migrations has %d rows, max version %d; want %d, %d", n, max, len(ms), ms[len(ms)-1].version)
			}
		}
		checkVersions(s)
		if s.Driver() != db.driver {
			t.Errorf("Driver() = %q, want %q", s.Driver(), db.driver)
		}
		s.Close()
		// Reopening applies nothing twice.
		checkVersions(db.open(t))
	})
}

func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	s := newTestDB(t, DriverSQLite).open(t)
	for pragma, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "10000"} {
		var got string
		if err := s.write.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %s, want %s", pragma, got, want)
		}
	}
	if _, err := s.read.ExecContext(ctx, "DELETE FROM users"); err == nil {
		t.Error("the read pool accepted a write; it must be query-only")
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		if _, err := s.writer().exec(ctx, "INSERT INTO schema_migrations (version, name, applied_us) VALUES (999, '0999_future.sql', 0)"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := db.openErr(ctx)
		wantErr(t, err, ErrSchemaTooNew)
		if !strings.Contains(err.Error(), "999") {
			t.Errorf("error %q should name the version", err)
		}
		if db.driver == DriverSQLite && !strings.Contains(err.Error(), db.target) {
			t.Errorf("error %q should name the file", err)
		}
	})
}

func TestOpenBadPaths(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Open(ctx, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty path: %v", err)
	}
	missing := filepath.Join(dir, "no-such-dir", "x.db")
	if _, err := Open(ctx, missing); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing directory: %v", err)
	}
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, notDB); err == nil || !strings.Contains(err.Error(), notDB) {
		t.Errorf("text file: %v", err)
	}
	// Characters that mean something in a URI must stay part of the name.
	odd := filepath.Join(dir, "a?b#c%d.db")
	s, err := Open(ctx, odd)
	if err != nil {
		t.Fatalf("odd name: %v", err)
	}
	s.Close()
	if _, err := os.Stat(odd); err != nil {
		t.Errorf("database not created under its exact name: %v", err)
	}
}

// A DSN that does not parse, a server that does not answer and a wrong
// password each give an error that says why, and none quotes the password.
func TestOpenPostgresBadDSN(t *testing.T) {
	ctx := context.Background()
	const secret = "S3cr3t-pw"
	for dsn, why := range map[string]string{
		"postgres://hw:" + secret + "@127.0.0.1:notaport/hw":               "invalid port",
		"host=127.0.0.1 password=" + secret + " port=x":                    "invalid port",
		"postgres://hw:" + secret + " x@127.0.0.1/hw":                      "not a PostgreSQL connection string",
		"host=127.0.0.1 password='" + secret:                               "unterminated quoted string",
		"postgres://hw:" + secret + "@127.0.0.1:5432/hw?sslmode=sometimes": "sslmode is invalid",
	} {
		_, err := OpenPostgres(ctx, dsn)
		if err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: error %v, want one saying %q", dsn, err, why)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%q: error quotes the password: %v", dsn, err)
		}
	}

	srv := pgtest.Start(t)
	if _, err := srv.CreateDB(ctx, "hw"); err != nil {
		t.Fatal(err)
	}
	wrongPW := strings.Replace(srv.DSN("hw"), srv.Password(), secret, 1)
	_, err := OpenPostgres(ctx, wrongPW)
	if err == nil || !strings.Contains(err.Error(), "password authentication failed") || strings.Contains(err.Error(), secret) {
		t.Errorf("wrong password: %v", err)
	}
	noDB := srv.DSN("no_such_database")
	if _, err := OpenPostgres(ctx, noDB); err == nil || !strings.Contains(err.Error(), "no_such_database") ||
		strings.Contains(err.Error(), srv.Password()) {
		t.Errorf("missing database: %v", err)
	}
	down := srv.DSN("hw")
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenPostgres(ctx, down); err == nil || !strings.Contains(err.Error(), "cannot connect") ||
		strings.Contains(err.Error(), srv.Password()) {
		t.Errorf("server down: %v", err)
	}
}

func TestLoadMigrationsRejectsBadSets(t *testing.T) {
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	for name, fsys := range map[string]fstest.MapFS{
		"duplicate": {"m/0001_a.sql": file("SELECT 1;"), "m/001_b.sql": file("SELECT 1;")},
		"no number": {"m/init.sql": file("SELECT 1;")},
		"zero":      {"m/0000_a.sql": file("SELECT 1;")},
		"empty":     {},
	} {
		if _, err := loadMigrations(fsys, "m"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Numbers are reserved per branch: a migration that lands after higher
// ones (0003 after 0005) is applied on the next start, the others not twice.
func TestMigrationLandingInAGapIsApplied(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		if _, err := s.writer().exec(ctx, "DROP TABLE schema_migrations"); err != nil {
			t.Fatal(err)
		}
		dir := "migrations/" + db.driver + "/"
		before := fstest.MapFS{
			dir + "0001_a.sql": {Data: []byte("CREATE TABLE gap_a (x INTEGER);")},
			dir + "0005_e.sql": {Data: []byte("CREATE TABLE gap_e (x INTEGER);")},
		}
		if err := migrate(ctx, s.write, s.d, before); err != nil {
			t.Fatal(err)
		}
		after := fstest.MapFS{dir + "0003_c.sql": {Data: []byte("CREATE TABLE gap_c (x INTEGER);")}}
		for k, v := range before {
			after[k] = v
		}
		if err := migrate(ctx, s.write, s.d, after); err != nil {
			t.Fatalf("second start with 0003 landed: %v", err)
		}
		var n int
		if err := s.reader().queryRow(ctx, "SELECT COUNT(*) FROM gap_c").Scan(&n); err != nil {
			t.Errorf("0003 not applied: %v", err)
		}
		versions, err := queryAll(ctx, s.reader(), func(r scanner) (int, error) {
			var v int
			return v, r.Scan(&v)
		}, "SELECT version FROM schema_migrations ORDER BY version")
		if err != nil || !reflect.DeepEqual(versions, []int{1, 3, 5}) {
			t.Errorf("schema_migrations versions = %v, %v; want [1 3 5]", versions, err)
		}
	})
}

// Both databases have the same migrations, file for file: a table added
// for one and forgotten for the other fails here, not in production. A
// file left directly in migrations/ (where it is never applied) fails too.
func TestMigrationsMatchAcrossDrivers(t *testing.T) {
	names := map[string][]string{}
	for _, driver := range drivers {
		ms, err := loadMigrations(migrationFiles, "migrations/"+driver)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			names[driver] = append(names[driver], m.name)
		}
	}
	if !reflect.DeepEqual(names[DriverSQLite], names[DriverPostgres]) {
		t.Errorf("migrations differ:\n sqlite   %v\n postgres %v\nwrite each schema change for both (see the package documentation)",
			names[DriverSQLite], names[DriverPostgres])
	}
	stray, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	if len(stray) > 0 {
		t.Errorf("%v: migrations live in migrations/sqlite/ and migrations/postgres/; files directly in migrations/ are never applied", stray)
	}
}

// After migrating, both databases have the same tables with the same
// columns: the queries are written once for both.
func TestSchemasMatchAcrossDrivers(t *testing.T) {
	ctx := context.Background()
	schemas := map[string]map[string][]string{}
	for _, driver := range drivers {
		s := newTestDB(t, driver).open(t)
		query := `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.name`
		if driver == DriverPostgres {
			query = `SELECT table_name, column_name FROM information_schema.columns
				WHERE table_schema = current_schema() ORDER BY table_name, column_name`
		}
		cols, err := queryAll(ctx, s.reader(), func(r scanner) ([2]string, error) {
			var c [2]string
			return c, r.Scan(&c[0], &c[1])
		}, query)
		if err != nil {
			t.Fatal(err)
		}
		schemas[driver] = map[string][]string{}
		for _, c := range cols {
			schemas[driver][c[0]] = append(schemas[driver][c[0]], c[1])
		}
	}
	if !reflect.DeepEqual(schemas[DriverSQLite], schemas[DriverPostgres]) {
		t.Errorf("schemas differ:\n sqlite   %v\n postgres %v", schemas[DriverSQLite], schemas[DriverPostgres])
	}
}

func TestFailedMigrationLeavesNothingBehind(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t) // migrated: the tables below are new
		fsys := fstest.MapFS{
			"migrations/" + db.driver + "/0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
			"migrations/" + db.driver + "/0002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER); THIS IS NOT SQL;")},
		}
		if _, err := s.writer().exec(ctx, "DROP TABLE schema_migrations"); err != nil {
			t.Fatal(err)
		}
		err := migrate(ctx, s.write, s.d, fsys)
		if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
			t.Fatalf("migrate error = %v, want one naming 0002_b.sql", err)
		}
		for _, table := range []string{"a", "b", "schema_migrations"} {
			var n int
			err := s.reader().queryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n)
			if err == nil {
				t.Errorf("table %s survived a failed migration", table)
			}
		}
	})
}

// Two processes starting at once on one PostgreSQL database migrate it
// once: the second waits for the first, then finds nothing to do.
func TestConcurrentMigrations(t *testing.T) {
	db := newTestDB(t, DriverPostgres)
	ctx := context.Background()
	errs := make(chan error, 4)
	stores := make(chan *Store, 4)
	for range 4 {
		go func() {
			s, err := db.openErr(ctx)
			errs <- err
			stores <- s
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
		if s := <-stores; s != nil {
			s.Close()
		}
	}
	ms, err := loadMigrations(migrationFiles, "migrations/"+DriverPostgres)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	pg, err := sql.Open("pgx", db.target)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if err := pg.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Errorf("schema_migrations rows = %d, %v; want %d", n, err, len(ms))
	}
}

// Migration numbers are handed to branches in advance: a database migrated
// with 1 and 3 gets 2 when the branch holding it lands, and 3 is not
// applied again.
func TestMigrationLandingLateIsApplied(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		raw, err := rawDB(db)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		d := sqliteDialect
		if db.driver == DriverPostgres {
			d = postgresDialect
		}
		dir := "migrations/" + db.driver + "/"
		fsys := fstest.MapFS{
			dir + "0001_a.sql": {Data: []byte("CREATE TABLE a (x INTEGER);")},
			dir + "0003_c.sql": {Data: []byte("CREATE TABLE c (x INTEGER);")},
		}
		if err := migrate(ctx, raw, d, fsys); err != nil {
			t.Fatalf("with a gap: %v", err)
		}
		fsys[dir+"0002_b.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE b (x INTEGER);")}
		if err := migrate(ctx, raw, d, fsys); err != nil {
			t.Fatalf("the late one: %v", err)
		}
		c := conn{raw, d}
		for _, table := range []string{"a", "b", "c"} {
			if _, err := c.count(ctx, "DELETE FROM "+table); err != nil {
				t.Errorf("table %s: %v", table, err)
			}
		}
		if n, err := c.count(ctx, "UPDATE schema_migrations SET name = name"); err != nil || n != 3 {
			t.Errorf("schema_migrations has %d rows (%v), want 3", n, err)
		}
	})
}

// TestVerdictMigrationKeepsAlerts: a database of schema 1 with alerts,
// one acknowledged, one with a snapshot, is brought to the current schema:
// every alert, acknowledgement and snapshot is still there (SQLite rebuilds
// the alerts table: its snapshots must not go with the old one), the old
// acknowledgement has no verdict, and the new kind and verdicts are taken.
func TestVerdictMigrationKeepsAlerts(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		var raw *sql.DB
		var err error
		if db.driver == DriverPostgres {
			cfg, perr := pgx.ParseConfig(db.target)
			if perr != nil {
				t.Fatal(perr)
			}
			raw = stdlib.OpenDB(*cfg)
		} else {
			raw, err = sql.Open("sqlite3", sqliteDSN(db.target, "_foreign_keys=on", "_txlock=immediate"))
			if err != nil {
				t.Fatal(err)
			}
		}
		d := sqliteDialect
		if db.driver == DriverPostgres {
			d = postgresDialect
		}
		first, err := fs.ReadFile(migrationFiles, "migrations/"+db.driver+"/0001_init.sql")
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate(ctx, raw, d, fstest.MapFS{"migrations/" + db.driver + "/0001_init.sql": {Data: first}}); err != nil {
			t.Fatal(err)
		}
		c := conn{raw, d}
		for _, q := range []string{
			"INSERT INTO alerts (kind, district, center, camera, window_id, raised_us, acked_us, acked_by, ack_comment, resolved_us) VALUES ('unstaffed', 'd1', 'c1', 'cam1', 'w1', 1000, 2000, 'alice', 'on it', 3000)",
			"INSERT INTO alerts (kind, district, center, camera, window_id, raised_us) VALUES ('camera_offline', 'd1', 'c1', 'cam1', '', 4000)",
			"INSERT INTO alert_snapshots (alert_id, jpeg) SELECT id, ? FROM alerts WHERE kind = 'unstaffed'",
		} {
			var args []any
			if strings.Contains(q, "?") {
				args = append(args, fakeJPEG)
			}
			if _, err := c.exec(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		raw.Close()

		s := db.open(t)
		a1, err := s.Alert(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if a1.AckedBy != "alice" || a1.AckComment != "on it" || a1.Verdict != "" || !a1.HasSnapshot || a1.Open() {
			t.Errorf("alert 1 after the migration: %+v", a1)
		}
		if jpeg, err := s.Snapshot(ctx, 1); err != nil || !reflect.DeepEqual(jpeg, fakeJPEG) {
			t.Errorf("snapshot of alert 1 after the migration: %d bytes, %v", len(jpeg), err)
		}
		if a2, err := s.Alert(ctx, 2); err != nil || !a2.Open() || a2.Kind != "camera_offline" {
			t.Errorf("alert 2 after the migration: %+v, %v", a2, err)
		}
		// Still one open alert per condition, and the new kind and verdicts.
		if _, _, err := s.RaiseAlert(ctx, AlertRecord{Kind: "camera_offline", District: "d1", Center: "c1", Camera: "cam1", RaisedAt: time.Now()}, nil); !errors.Is(err, ErrConflict) {
			t.Errorf("second open camera_offline: %v, want a conflict", err)
		}
		b, _, err := s.RaiseAlert(ctx, AlertRecord{Kind: "camera_blocked", District: "d1", Center: "c1", Camera: "cam1", RaisedAt: time.Now()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AckAlert(ctx, b.ID, Ack{By: "bob", Verdict: VerdictFalseAlarm, Reason: ReasonViewBlocked, At: time.Now()}); err != nil {
			t.Fatal(err)
		}
		// Deleting an alert still takes its snapshot along.
		if _, err := s.writer().exec(ctx, "DELETE FROM alerts WHERE id = 1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Snapshot(ctx, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("snapshot of a deleted alert: %v", err)
		}
	})
}
