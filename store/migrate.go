package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds the schema history of each database:
// migrations/<driver>/NNNN_name.sql, numbered from 1 without duplicates,
// the same numbers and names for both (see the package documentation).
// Numbers are reserved per branch, so a gap is allowed: its migration is
// applied when it lands, even after higher ones. A released file is never
// edited; changes go in a new file.
//
//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads and checks the numbered files under dir.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_description.sql with NNNN >= 1", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %s/%s and %s: the same version %d twice", dir, ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no migrations found in %s", dir)
	}
	return ms, nil
}

// migrate applies the pending migrations of dialect d in one
// transaction, so a database is either at the old version or the new one,
// never in between (both databases roll back DDL).
func migrate(ctx context.Context, db *sql.DB, d *dialect, fsys fs.FS) error {
	ms, err := loadMigrations(fsys, "migrations/"+d.name)
	if err != nil {
		return err
	}
	latest := ms[len(ms)-1].version
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin migration: %w", err)
	}
	defer tx.Rollback()
	t := conn{tx, d}
	if d.lockMigrations != "" {
		if _, err := t.exec(ctx, d.lockMigrations); err != nil {
			return fmt.Errorf("lock for migration: %w", err)
		}
	}
	if _, err := t.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT    NOT NULL,
		applied_us BIGINT  NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	applied, err := appliedVersions(ctx, t)
	if err != nil {
		return err
	}
	known := map[int]bool{}
	for _, m := range ms {
		known[m.version] = true
	}
	for v := range applied {
		if !known[v] {
			return fmt.Errorf("schema version %d is unknown to this binary (it knows up to %d); run a newer hallwatch or restore a backup: %w",
				v, latest, ErrSchemaTooNew)
		}
	}
	for _, m := range ms {
		if applied[m.version] {
			continue
		}
		if _, err := t.exec(ctx, m.sql); err != nil {
			return fmt.Errorf("apply migration %s/%s: %w", d.name, m.name, err)
		}
		if _, err := t.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_us) VALUES (?, ?, ?)",
			m.version, m.name, us(time.Now())); err != nil {
			return fmt.Errorf("record migration %s: %w", m.name, err)
		}
	}
	return tx.Commit()
}

// appliedVersions are the migrations recorded in schema_migrations.
func appliedVersions(ctx context.Context, t conn) (map[int]bool, error) {
	versions, err := queryAll(ctx, t, func(r scanner) (v int, err error) { return v, r.Scan(&v) }, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range versions {
		applied[v] = true
	}
	return applied, nil
}
