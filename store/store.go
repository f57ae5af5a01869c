package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
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

// Drivers: the databases the store runs on.
const (
	DriverSQLite   = "sqlite"   // one file, embedded: the single-node default
	DriverPostgres = "postgres" // shared by several nodes
)

// Store is hallwatch's database, SQLite or PostgreSQL: the same methods,
// queries and behaviour on both. Open and OpenPostgres make one.
type Store struct {
	d *dialect
	// write takes every write. On SQLite it is a single connection, so
	// writes queue in Go instead of spinning on SQLite's busy handler.
	write *sql.DB
	// read serves queries: on SQLite a pool of query-only connections that
	// WAL lets run alongside the writer; on PostgreSQL the same pool as write.
	read *sql.DB

	zones sync.Map // zone name → *time.Location, see location
}

// Driver names the database: DriverSQLite or DriverPostgres.
func (s *Store) Driver() string { return s.d.name }

// Close closes the connection pools.
func (s *Store) Close() error {
	if s.read == s.write {
		return s.write.Close()
	}
	return errors.Join(s.read.Close(), s.write.Close())
}

func (s *Store) reader() conn { return conn{s.read, s.d} }
func (s *Store) writer() conn { return conn{s.write, s.d} }

// tx runs fn in one write transaction and commits it (on SQLite a BEGIN
// IMMEDIATE, so that it never fails half-way on a lock).
func (s *Store) tx(ctx context.Context, fn func(conn) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(conn{tx, s.d}); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// location returns the zone named name, caching lookups (LoadLocation reads
// the zone file every time).
func (s *Store) location(name string) (*time.Location, error) {
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
