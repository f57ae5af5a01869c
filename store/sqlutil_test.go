package store

import (
	"context"
	"errors"
	"testing"
)

// queryAll is the one loop behind every listing: rows in order, an empty
// (not nil) list when nothing matches, nothing but the error when a row
// cannot be read, and the connection always given back to the pool.
func TestQueryAll(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		for _, name := range []string{"carol", "alice", "bob"} {
			if _, err := s.CreateUser(ctx, User{Name: name, Role: RolePlanner, PasswordHash: "h"}); err != nil {
				t.Fatal(err)
			}
		}
		name := func(r scanner) (string, error) {
			var n string
			return n, r.Scan(&n)
		}
		got, err := queryAll(ctx, s.reader(), name, "SELECT name FROM users WHERE role = ? ORDER BY name", RolePlanner)
		if err != nil || len(got) != 3 || got[0] != "alice" || got[2] != "carol" {
			t.Errorf("names = %v, %v", got, err)
		}
		none, err := queryAll(ctx, s.reader(), name, "SELECT name FROM users WHERE role = ?", RoleAdmin)
		if err != nil || none == nil || len(none) != 0 {
			t.Errorf("no match = %#v, %v; want an empty, non-nil list", none, err)
		}
		broken := errors.New("row 2 is broken")
		rows := 0
		partial, err := queryAll(ctx, s.reader(), func(r scanner) (string, error) {
			if rows++; rows == 2 {
				return "", broken
			}
			return name(r)
		}, "SELECT name FROM users ORDER BY name")
		if !errors.Is(err, broken) || partial != nil {
			t.Errorf("scan failure = %v, %v; want no list and the error", partial, err)
		}
		if _, err := queryAll(ctx, s.reader(), name, "SELECT no_such_column FROM users"); err == nil {
			t.Error("a bad query succeeded")
		}
		if _, err := queryOne(ctx, s.reader(), name, "SELECT name FROM users WHERE id = ?", -1); !errors.Is(err, ErrNotFound) {
			t.Errorf("queryOne without a row: %v, want ErrNotFound", err)
		}
		if n := s.read.Stats().InUse; n != 0 {
			t.Errorf("%d connections still in use after the queries", n)
		}
	})
}

func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT 1":              "SELECT 1",
		"a = ? AND b IN (?, ?)": "a = $1 AND b IN ($2, $3)",
		`x = '?' AND "we?rd" = ? AND y = 'it''s ?'`: `x = '?' AND "we?rd" = $1 AND y = 'it''s ?'`,
	} {
		if got := postgresDialect.rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
		if got := sqliteDialect.rebind(in); got != in {
			t.Errorf("sqlite rebind changed %q to %q", in, got)
		}
	}
}
