package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestUsersCRUD(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		if n, err := s.CountUsers(ctx); err != nil || n != 0 {
			t.Fatalf("fresh store has %d users, %v", n, err)
		}
		created := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		id, err := s.CreateUser(ctx, User{Name: "Alice", DisplayName: "Alice Li", Role: RoleDistrictSupervisor,
			Districts: []string{"d1", "d2"}, PasswordHash: "$argon2id$secret-hash", MustChangePassword: true, CreatedAt: created})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateUser(ctx, User{Name: "alice", Role: RolePlanner, PasswordHash: "h"})
		wantErr(t, err, ErrConflict)
		if !strings.Contains(err.Error(), `"alice" is already taken`) {
			t.Errorf("duplicate name error %q should name the name", err)
		}
		bob, err := s.CreateUser(ctx, User{Name: "bob", Role: RolePlanner, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}

		u, err := s.UserByName(ctx, "ALICE")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID != id || u.Name != "Alice" || u.DisplayName != "Alice Li" || u.Role != RoleDistrictSupervisor ||
			strings.Join(u.Districts, ",") != "d1,d2" || len(u.Centers) != 0 || u.PasswordHash != "$argon2id$secret-hash" ||
			!u.MustChangePassword || u.Disabled || !u.CreatedAt.Equal(created) {
			t.Errorf("user read back as %+v", u)
		}
		if b, _ := json.Marshal(u); strings.Contains(string(b), "secret-hash") {
			t.Errorf("user JSON leaks the password hash: %s", b)
		}

		if err := s.UpdateUser(ctx, id, UserUpdate{DisplayName: "A. Li", Role: RoleCenterManager, Centers: []string{"c7"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetPassword(ctx, id, "new-hash", false); err != nil {
			t.Fatal(err)
		}
		if err := s.SetDisabled(ctx, bob, true); err != nil {
			t.Fatal(err)
		}
		u, err = s.UserByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if u.DisplayName != "A. Li" || u.Role != RoleCenterManager || len(u.Districts) != 0 || strings.Join(u.Centers, ",") != "c7" ||
			u.PasswordHash != "new-hash" || u.MustChangePassword || !u.UpdatedAt.After(u.CreatedAt) {
			t.Errorf("updated user = %+v", u)
		}
		users, err := s.ListUsers(ctx)
		if err != nil || len(users) != 2 || users[0].Name != "Alice" || !users[1].Disabled {
			t.Errorf("ListUsers = %+v, %v", users, err)
		}
		if n, err := s.CountUsers(ctx); err != nil || n != 2 {
			t.Errorf("CountUsers = %d, %v", n, err)
		}

		_, err = s.UserByID(ctx, 99)
		wantErr(t, err, ErrNotFound)
		_, err = s.UserByName(ctx, "carol")
		wantErr(t, err, ErrNotFound)
		wantErr(t, s.SetDisabled(ctx, 99, true), ErrNotFound)
		wantErr(t, s.UpdateUser(ctx, id, UserUpdate{Role: "root"}), ErrInvalid)
		for _, bad := range []User{
			{Name: "", Role: RolePlanner, PasswordHash: "h"},
			{Name: " x", Role: RolePlanner, PasswordHash: "h"},
			{Name: "x\n", Role: RolePlanner, PasswordHash: "h"},
			{Name: strings.Repeat("x", 65), Role: RolePlanner, PasswordHash: "h"},
			{Name: "x", Role: "root", PasswordHash: "h"},
			{Name: "x", Role: RolePlanner},
		} {
			if _, err := s.CreateUser(ctx, bad); err == nil {
				t.Errorf("CreateUser(%+v) accepted", bad)
			}
		}
	})
}

func TestSessions(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		uid, err := s.CreateUser(ctx, User{Name: "alice", Role: RoleAdmin, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		for i, h := range []string{"h1", "h2", "h3"} {
			err := s.CreateSession(ctx, Session{TokenHash: h, UserID: uid, CSRFToken: "csrf-" + h, CreatedAt: t0,
				ExpiresAt: t0.Add(time.Duration(i+1) * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
		}
		wantErr(t, s.CreateSession(ctx, Session{TokenHash: "h1", UserID: uid, CSRFToken: "c", CreatedAt: t0, ExpiresAt: t0}), ErrConflict)
		wantErr(t, s.CreateSession(ctx, Session{TokenHash: "hx", UserID: 99, CSRFToken: "c", CreatedAt: t0, ExpiresAt: t0}), ErrNotFound)
		wantErr(t, s.CreateSession(ctx, Session{TokenHash: "hx", UserID: uid, CreatedAt: t0, ExpiresAt: t0}), ErrInvalid)

		se, err := s.SessionByHash(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if se.UserID != uid || se.CSRFToken != "csrf-h1" || !se.LastSeenAt.Equal(t0) || !se.ExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("session = %+v", se)
		}
		if err := s.TouchSession(ctx, "h1", t0.Add(30*time.Minute), t0.Add(5*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if se, _ = s.SessionByHash(ctx, "h1"); !se.LastSeenAt.Equal(t0.Add(30*time.Minute)) || !se.ExpiresAt.Equal(t0.Add(5*time.Hour)) {
			t.Errorf("touched session = %+v", se)
		}
		wantErr(t, s.TouchSession(ctx, "nope", t0, t0), ErrNotFound)

		// h2 expires at +2h, h3 at +3h, h1 now at +5h.
		if n, err := s.DeleteExpiredSessions(ctx, t0.Add(2*time.Hour)); err != nil || n != 1 {
			t.Errorf("DeleteExpiredSessions removed %d, %v; want 1", n, err)
		}
		_, err = s.SessionByHash(ctx, "h2")
		wantErr(t, err, ErrNotFound)
		if err := s.DeleteSession(ctx, "h3"); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.DeleteSession(ctx, "h3"), ErrNotFound)
		if n, err := s.DeleteUserSessions(ctx, uid); err != nil || n != 1 {
			t.Errorf("DeleteUserSessions removed %d, %v; want 1", n, err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		uid, err := s.CreateUser(ctx, User{Name: "alice", Role: RoleAdmin, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		id, err := s.CreateToken(ctx, APIToken{TokenHash: "th1", UserID: uid, Name: "grafana", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateToken(ctx, APIToken{TokenHash: "th2", UserID: uid, Name: "grafana", CreatedAt: t0})
		wantErr(t, err, ErrConflict)
		_, err = s.CreateToken(ctx, APIToken{TokenHash: "th3", UserID: 99, Name: "x", CreatedAt: t0})
		wantErr(t, err, ErrNotFound)
		if _, err := s.CreateToken(ctx, APIToken{TokenHash: "th4", UserID: uid, Name: "backup", CreatedAt: t0.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}

		tok, err := s.TokenByHash(ctx, "th1")
		if err != nil {
			t.Fatal(err)
		}
		if tok.ID != id || tok.UserID != uid || tok.Name != "grafana" || !tok.LastUsedAt.IsZero() || tok.Revoked() {
			t.Errorf("token = %+v", tok)
		}
		if err := s.TouchToken(ctx, id, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, id, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeToken(ctx, id, t0.Add(3*time.Hour)); err != nil {
			t.Fatal(err)
		}
		wantErr(t, s.RevokeToken(ctx, 99, t0), ErrNotFound)
		wantErr(t, s.TouchToken(ctx, 99, t0), ErrNotFound)
		_, err = s.TokenByHash(ctx, "nope")
		wantErr(t, err, ErrNotFound)

		list, err := s.ListTokens(ctx, uid)
		if err != nil || len(list) != 2 {
			t.Fatalf("ListTokens = %+v, %v", list, err)
		}
		if list[0].Name != "grafana" || !list[0].LastUsedAt.Equal(t0.Add(time.Hour)) || !list[0].RevokedAt.Equal(t0.Add(2*time.Hour)) ||
			list[1].Name != "backup" || list[1].Revoked() {
			t.Errorf("tokens = %+v", list)
		}
	})
}

// TestAuthStamp: the stamp moves with every change to users, with every
// session opened or ended and every token revoked — several updates of
// one user within a microsecond included — and not with a session's use.
func TestAuthStamp(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		stamp := func() string {
			t.Helper()
			v, err := s.AuthStamp(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		last := stamp()
		step := func(what string, moves bool, change func() error) {
			t.Helper()
			if err := change(); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			now := stamp()
			if (now != last) != moves {
				t.Errorf("%s: stamp %q → %q, want moved=%v", what, last, now, moves)
			}
			last = now
		}
		var id int64
		now := time.Now()
		step("a new user", true, func() (err error) {
			id, err = s.CreateUser(ctx, User{Name: "amy", Role: RolePlanner, PasswordHash: "h", CreatedAt: now})
			return err
		})
		for i := range 3 {
			step(fmt.Sprintf("update %d of the user", i), true, func() error { return s.SetDisabled(ctx, id, i%2 == 0) })
		}
		step("a new session", true, func() error {
			return s.CreateSession(ctx, Session{TokenHash: "s1", UserID: id, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		})
		step("a session's use", false, func() error { return s.TouchSession(ctx, "s1", now.Add(time.Minute), now.Add(2*time.Hour)) })
		var tok int64
		step("a new token", false, func() (err error) {
			tok, err = s.CreateToken(ctx, APIToken{TokenHash: "t1", UserID: id, Name: "wall", CreatedAt: now})
			return err
		})
		step("a token's use", false, func() error { return s.TouchToken(ctx, tok, now.Add(time.Minute)) })
		step("a token revoked", true, func() error { return s.RevokeToken(ctx, tok, now.Add(time.Minute)) })
		step("a session ended", true, func() error { return s.DeleteSession(ctx, "s1") })
	})
}
