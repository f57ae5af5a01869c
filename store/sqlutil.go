package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// dbtx is a connection pool or a transaction.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// conn runs the store's queries (written with ? parameters) on a pool or
// transaction in the dialect's syntax.
type conn struct {
	db dbtx
	d  *dialect
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.db.ExecContext(ctx, c.d.rebind(query), args...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.db.QueryRowContext(ctx, c.d.rebind(query), args...)
}

// insert runs an INSERT and returns the new row's id (RETURNING works on
// both databases; PostgreSQL has no LastInsertId).
func (c conn) insert(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	err := c.queryRow(ctx, query+" RETURNING id", args...).Scan(&id)
	return id, err
}

// count runs a DELETE or UPDATE and returns how many rows it changed.
func (c conn) count(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// one runs an UPDATE or DELETE meant for exactly one row: no row matched
// is ErrNotFound.
func (c conn) one(ctx context.Context, query string, args ...any) error {
	n, err := c.count(ctx, query, args...)
	if err == nil && n == 0 {
		err = ErrNotFound
	}
	return err
}

// scanner is what a scan function reads one result row from.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs query and scans every row with scan: the one loop behind
// every listing. It returns an empty, non-nil slice when nothing matches,
// and nothing (no partial list) on error.
func queryAll[T any](ctx context.Context, c conn, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := c.db.QueryContext(ctx, c.d.rebind(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// queryOne runs query for a single row; no row is ErrNotFound.
func queryOne[T any](ctx context.Context, c conn, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	v, err := scan(c.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	return v, err
}

// us converts a time to the stored form: UTC microseconds since the epoch.
func us(t time.Time) int64 { return t.UnixMicro() }

// fromUS converts a stored time back, in UTC.
func fromUS(v int64) time.Time { return time.UnixMicro(v).UTC() }

// nullUS stores the zero time as NULL ("not happened yet").
func nullUS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: us(t), Valid: true}
}

// fromNullUS maps NULL back to the zero time.
func fromNullUS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return fromUS(v.Int64)
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation, in
// either database.
func isUnique(err error) bool {
	var se sqlite3.Error
	var pe *pgconn.PgError
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey) ||
		errors.As(err, &pe) && pe.Code == "23505"
}

// checkText rejects text that PostgreSQL cannot store (invalid UTF-8, NUL),
// so that both databases accept and refuse the same input. Fields come in
// name, value pairs.
func checkText(fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if v := fields[i+1]; !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("%s %q is not valid UTF-8 text or holds a NUL byte: %w", fields[i], v, ErrInvalid)
		}
	}
	return nil
}

// cleanText makes text from the outside world (error messages, audit
// details) storable: invalid UTF-8 becomes U+FFFD, NUL bytes go, and it is
// cut to at most max bytes on a character boundary.
func cleanText(s string, max int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// where collects AND-ed conditions and their arguments for a query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// in adds "col IN (...)"; an empty list adds nothing (no filter).
func (w *where) in(col string, vals []string) {
	if len(vals) == 0 {
		return
	}
	w.conds = append(w.conds, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
	for _, v := range vals {
		w.args = append(w.args, v)
	}
}

// timeRange adds from <= col < to; a zero bound is open.
func (w *where) timeRange(col string, from, to time.Time) {
	if !from.IsZero() {
		w.add(col+" >= ?", us(from))
	}
	if !to.IsZero() {
		w.add(col+" < ?", us(to))
	}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// limit renders a LIMIT clause; n <= 0 means no limit.
func limit(n int) string {
	if n <= 0 {
		return ""
	}
	return " LIMIT " + strconv.Itoa(n)
}
