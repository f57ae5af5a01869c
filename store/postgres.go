package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// connectTimeout bounds a connection attempt when the DSN sets none: a
// database host that drops packets must not hang a write for minutes.
const connectTimeout = 10 * time.Second

// OpenPostgres connects to the PostgreSQL database of dsn (a URL such as
// postgres://user:password@host:5432/hallwatch?sslmode=verify-full, or
// key=value pairs) and brings its schema up to date. Errors never quote
// the password.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("not a PostgreSQL connection string (want postgres://user:password@host:port/database?sslmode=… or key=value pairs): %s",
			parseProblem(err, dsn))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	hide := func(err error) error { return scrubbed(err, cfg.Password) }
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{d: postgresDialect, write: db, read: db}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("cannot connect to PostgreSQL at %s: %w", server(cfg), hide(err))
	}
	if err := migrate(ctx, db, s.d, migrationFiles); err != nil {
		db.Close()
		return nil, fmt.Errorf("PostgreSQL at %s: %w", server(cfg), hide(err))
	}
	return s, nil
}

// server names a server and database for messages, without credentials.
func server(cfg *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d database %q user %q", cfg.Host, cfg.Port, cfg.Database, cfg.User)
}

// parseProblem is pgx's reason for rejecting dsn without the connection
// string it quotes, and with anything that looks like the password masked:
// a string that does not parse may hide its password where no parser finds it.
func parseProblem(err error, dsn string) string {
	msg := err.Error()
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		if i := strings.LastIndex(msg, "`: "); i >= 0 {
			msg = msg[i+3:]
		}
	}
	for _, secret := range passwordLike(dsn) {
		msg = strings.ReplaceAll(msg, secret, "***")
	}
	return msg
}

var (
	urlPassword = regexp.MustCompile(`://[^:@/]*:(.*)@`)
	kvPassword  = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'?|\S+)`)
)

// passwordLike finds what a person most likely meant as the password in a
// DSN, parseable or not.
func passwordLike(dsn string) []string {
	var out []string
	if m := urlPassword.FindStringSubmatch(dsn); m != nil && m[1] != "" {
		out = append(out, m[1])
	}
	for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
		out = append(out, m[1], strings.Trim(m[1], "'"))
	}
	return out
}

// scrubbed masks password in err's text (server and driver errors can
// quote connection details).
func scrubbed(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return scrubbedError{err, strings.ReplaceAll(err.Error(), password, "***")}
}

// scrubbedError keeps the error chain (errors.Is still works) with a
// masked text.
type scrubbedError struct {
	err  error
	text string
}

func (e scrubbedError) Error() string { return e.text }
func (e scrubbedError) Unwrap() error { return e.err }
