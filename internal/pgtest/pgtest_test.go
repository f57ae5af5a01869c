package pgtest

import (
	"context"
	"database/sql"
	"strconv"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// A server keeps committed data across Stop and Start, and refuses a wrong
// password.
func TestServerRestartsWithItsData(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	dsn, err := s.CreateDB(ctx, "restart")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE TABLE x (v INT); INSERT INTO x VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := db.PingContext(ctx); err == nil {
		t.Fatal("ping succeeded while the server is stopped")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.QueryRowContext(ctx, "SELECT v FROM x").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: %d, %v", v, err)
	}
	bad, _ := sql.Open("pgx", "postgres://postgres:wrong@127.0.0.1:"+itoa(s.Port())+"/restart?sslmode=disable")
	defer bad.Close()
	if err := bad.PingContext(ctx); err == nil {
		t.Fatal("a wrong password was accepted: the server must authenticate TCP logins")
	}
}

func TestSharedDatabasesAreSeparate(t *testing.T) {
	a, b := DB(t), DB(t)
	if a == b {
		t.Fatalf("two calls gave the same database %s", a)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
