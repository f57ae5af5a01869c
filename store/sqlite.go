package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// Errors callers can test with errors.Is.
var (
	// ErrNotFound: the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write collides with existing data (duplicate name, state change already made).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input was rejected before touching the database.
	ErrInvalid = errors.New("invalid input")
	// ErrSchemaTooNew: the database was written by a newer hallwatch.
	ErrSchemaTooNew = errors.New("database schema is newer than this binary")
	// ErrNameTaken: a user or token name already in use; matches ErrConflict.
	ErrNameTaken = fmt.Errorf("name taken: %w", ErrConflict)
)

// SQLite is the default store: one database file in WAL mode.
//
// Writes go through a single connection, so they queue in Go instead of
// spinning on SQLite's busy handler; reads use a separate pool of query-only
// connections, which WAL lets run alongside the writer.
type SQLite struct {
	write *sql.DB
	read  *sql.DB

	zones sync.Map // zone name → *time.Location, see location
}

// Open opens (creating if needed) the database at path and brings its schema
// up to date. It refuses a database whose schema is newer than this binary.
func Open(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, fmt.Errorf("open store: empty database path: %w", ErrInvalid)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if fi, err := os.Stat(filepath.Dir(abs)); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("open store %s: directory %s does not exist", path, filepath.Dir(abs))
	}
	s := &SQLite{}
	// synchronous=FULL: in WAL mode NORMAL survives a process crash but may
	// lose the last commits on power loss; "reported means on disk" needs FULL.
	s.write, err = sql.Open("sqlite3", dsn(abs,
		"_journal_mode=WAL", "_synchronous=FULL", "_busy_timeout=10000",
		"_foreign_keys=on", "_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	if err := s.checkWAL(ctx); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	if err := migrate(ctx, s.write, migrationFiles); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.read, err = sql.Open("sqlite3", dsn(abs,
		"_busy_timeout=10000", "_query_only=on"))
	if err != nil {
		s.write.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.read.SetMaxOpenConns(4)
	s.read.SetMaxIdleConns(4)
	return s, nil
}

// dsn builds a go-sqlite3 URI; the path is escaped so '?' or '#' in a file
// name cannot be mistaken for parameters.
func dsn(absPath string, params ...string) string {
	u := url.URL{Path: filepath.ToSlash(absPath)}
	return "file:" + u.EscapedPath() + "?" + strings.Join(params, "&")
}

// checkWAL verifies the journal mode took effect: some file systems (network
// mounts) cannot hold the shared-memory index WAL needs.
func (s *SQLite) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal (is the file on a network file system?)", mode)
	}
	return nil
}

// Close closes both connection pools.
func (s *SQLite) Close() error {
	return errors.Join(s.read.Close(), s.write.Close())
}

// tx runs fn in one write transaction (BEGIN IMMEDIATE) and commits it.
func (s *SQLite) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// location returns the zone named name, caching lookups (LoadLocation reads
// the zone file every time).
func (s *SQLite) location(name string) (*time.Location, error) {
	if l, ok := s.zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	s.zones.Store(name, l)
	return l, nil
}
