package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

// Open opens (creating if needed) the SQLite database at path, in WAL mode,
// and brings its schema up to date. It refuses a database whose schema is
// newer than this binary.
func Open(ctx context.Context, path string) (*Store, error) {
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
	s := &Store{d: sqliteDialect}
	// synchronous=FULL: in WAL mode NORMAL survives a process crash but may
	// lose the last commits on power loss; "reported means on disk" needs FULL.
	s.write, err = sql.Open("sqlite3", sqliteDSN(abs,
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
	if err := migrate(ctx, s.write, s.d, migrationFiles); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.read, err = sql.Open("sqlite3", sqliteDSN(abs,
		"_busy_timeout=10000", "_query_only=on"))
	if err != nil {
		s.write.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s.read.SetMaxOpenConns(4)
	s.read.SetMaxIdleConns(4)
	return s, nil
}

// sqliteDSN builds a go-sqlite3 URI; the path is escaped so '?' or '#' in a
// file name cannot be mistaken for parameters.
func sqliteDSN(absPath string, params ...string) string {
	u := url.URL{Path: filepath.ToSlash(absPath)}
	return "file:" + u.EscapedPath() + "?" + strings.Join(params, "&")
}

// checkWAL verifies the journal mode took effect: some file systems (network
// mounts) cannot hold the shared-memory index WAL needs.
func (s *Store) checkWAL(ctx context.Context) error {
	var mode string
	if err := s.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal (is the file on a network file system?)", mode)
	}
	return nil
}
