package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles a user can have (enforced by the schema too).
const (
	RoleAdmin              = "admin"
	RoleDistrictSupervisor = "district_supervisor"
	RoleCenterManager      = "center_manager"
	RolePlanner            = "planner"
)

// maxNameBytes bounds user and token names.
const maxNameBytes = 64

// User is an account. The store only persists it; password hashing and
// permission checks belong to the auth package.
type User struct {
	ID          int64
	Name        string // login name, unique ignoring ASCII case
	DisplayName string
	Role        string
	Districts   []string // scope: district ids
	Centers     []string // scope: center ids
	// PasswordHash is never shown: it has no JSON form.
	PasswordHash       string `json:"-"`
	Disabled           bool
	MustChangePassword bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// UserUpdate is what an administrator changes on an existing user.
type UserUpdate struct {
	DisplayName string
	Role        string
	Districts   []string
	Centers     []string
}

func checkRole(role string) error {
	switch role {
	case RoleAdmin, RoleDistrictSupervisor, RoleCenterManager, RolePlanner:
		return nil
	}
	return fmt.Errorf("role %q, want one of %s, %s, %s, %s: %w",
		role, RoleAdmin, RoleDistrictSupervisor, RoleCenterManager, RolePlanner, ErrInvalid)
}

func checkName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%s name is empty: %w", what, ErrInvalid)
	case len(name) > maxNameBytes:
		return fmt.Errorf("%s name is %d bytes, limit %d: %w", what, len(name), maxNameBytes, ErrInvalid)
	case strings.TrimSpace(name) != name || strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Errorf("%s name %q has leading/trailing space or control characters: %w", what, name, ErrInvalid)
	}
	return checkText(what+" name", name)
}

// CreateUser stores u (ID and UpdatedAt are ignored; a zero CreatedAt means
// now) and returns its id. A taken name fails with ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u User) (int64, error) {
	if err := checkName("user", u.Name); err != nil {
		return 0, fmt.Errorf("create user: %w", err)
	}
	if err := checkRole(u.Role); err != nil {
		return 0, fmt.Errorf("create user %q: %w", u.Name, err)
	}
	if u.PasswordHash == "" {
		return 0, fmt.Errorf("create user %q: password hash is empty: %w", u.Name, ErrInvalid)
	}
	if err := checkText("display name", u.DisplayName, "password hash", u.PasswordHash); err != nil {
		return 0, fmt.Errorf("create user %q: %w", u.Name, err)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	id, err := s.writer().insert(ctx, `INSERT INTO users
		(name, display_name, role, districts, centers, password_hash, disabled, must_change_password, created_us, updated_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.Name, u.DisplayName, u.Role, jsonList(u.Districts), jsonList(u.Centers), u.PasswordHash,
		u.Disabled, u.MustChangePassword, us(u.CreatedAt), us(u.CreatedAt))
	if isUnique(err) {
		return 0, fmt.Errorf("create user: name %q is already taken (names ignore case): %w", u.Name, ErrNameTaken)
	} else if err != nil {
		return 0, fmt.Errorf("create user %q: %w", u.Name, err)
	}
	return id, nil
}

// UserByName returns the user with this login name (ASCII case ignored), or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	return s.user(ctx, "lower(name) = lower(?)", name, fmt.Sprintf("user %q", name))
}

// UserByID returns user id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	return s.user(ctx, "id = ?", id, fmt.Sprintf("user %d", id))
}

func (s *Store) user(ctx context.Context, cond string, arg any, what string) (User, error) {
	u, err := queryOne(ctx, s.reader(), scanUser, "SELECT "+userColumns+" FROM users WHERE "+cond, arg)
	if err != nil {
		return User{}, fmt.Errorf("%s: %w", what, err)
	}
	return u, nil
}

// ListUsers returns all users ordered by name (ignoring case).
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	users, err := queryAll(ctx, s.reader(), scanUser, "SELECT "+userColumns+" FROM users ORDER BY lower(name), id")
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// CountUsers returns the number of users (0 on a fresh install).
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.reader().queryRow(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// AuthStamp summarises the accounts, sessions and token revocations in one
// cheap read: it changes whenever a user is changed, added or removed, a
// session is opened or ended, or a token is revoked, by this process or
// another (the CLI). Servers poll it to end live streams at once when a
// login loses its access. Sessions being used (TouchSession) leave it alone.
func (s *Store) AuthStamp(ctx context.Context) (string, error) {
	var stamp string
	err := s.reader().queryRow(ctx, `SELECT
		(SELECT CAST(COUNT(*) AS TEXT) || '.' || CAST(COALESCE(MAX(updated_us), 0) AS TEXT) FROM users) || '/' ||
		(SELECT CAST(COUNT(*) AS TEXT) || '.' || CAST(COALESCE(MAX(created_us), 0) AS TEXT) FROM sessions) || '/' ||
		(SELECT CAST(COUNT(revoked_us) AS TEXT) FROM api_tokens)`).Scan(&stamp)
	if err != nil {
		return "", fmt.Errorf("auth stamp: %w", err)
	}
	return stamp, nil
}

// UpdateUser replaces user id's display name, role and scope.
func (s *Store) UpdateUser(ctx context.Context, id int64, u UserUpdate) error {
	if err := checkRole(u.Role); err != nil {
		return fmt.Errorf("update user %d: %w", id, err)
	}
	if err := checkText("display name", u.DisplayName); err != nil {
		return fmt.Errorf("update user %d: %w", id, err)
	}
	return s.updateUser(ctx, id, "display_name = ?, role = ?, districts = ?, centers = ?",
		u.DisplayName, u.Role, jsonList(u.Districts), jsonList(u.Centers))
}

// SetPassword replaces user id's password hash and must-change flag. It does
// not end the user's sessions; the caller decides (DeleteUserSessions).
func (s *Store) SetPassword(ctx context.Context, id int64, hash string, mustChange bool) error {
	if hash == "" {
		return fmt.Errorf("set password of user %d: hash is empty: %w", id, ErrInvalid)
	}
	return s.updateUser(ctx, id, "password_hash = ?, must_change_password = ?", hash, mustChange)
}

// SetDisabled disables or re-enables user id. It does not end the user's
// sessions or revoke tokens; the auth layer must check Disabled on every
// request or call DeleteUserSessions.
func (s *Store) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	return s.updateUser(ctx, id, "disabled = ?", disabled)
}

func (s *Store) updateUser(ctx context.Context, id int64, set string, args ...any) error {
	now := us(time.Now())
	args = append(args, now, now, id)
	// updated_us only grows, so that AuthStamp sees every change even when
	// two land in one microsecond or a clock steps back.
	if err := s.writer().one(ctx, "UPDATE users SET "+set+
		", updated_us = CASE WHEN ? > (SELECT MAX(updated_us) FROM users) THEN ? ELSE (SELECT MAX(updated_us) FROM users) + 1 END WHERE id = ?",
		args...); err != nil {
		return fmt.Errorf("update user %d: %w", id, err)
	}
	return nil
}

const userColumns = `id, name, display_name, role, districts, centers, password_hash, disabled,
	must_change_password, created_us, updated_us`

func scanUser(r scanner) (User, error) {
	var (
		u                  User
		districts, centers string
		created, updated   int64
	)
	if err := r.Scan(&u.ID, &u.Name, &u.DisplayName, &u.Role, &districts, &centers, &u.PasswordHash,
		&u.Disabled, &u.MustChangePassword, &created, &updated); err != nil {
		return User{}, err
	}
	if err := errors.Join(json.Unmarshal([]byte(districts), &u.Districts),
		json.Unmarshal([]byte(centers), &u.Centers)); err != nil {
		return User{}, fmt.Errorf("user %d: corrupt scope: %w", u.ID, err)
	}
	u.CreatedAt, u.UpdatedAt = fromUS(created), fromUS(updated)
	return u, nil
}

// jsonList encodes a scope list; nil is stored as [].
func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// userExists returns ErrNotFound when user id does not exist, so a dangling
// reference gets a clear message instead of a foreign-key failure.
func userExists(ctx context.Context, tx conn, id int64) error {
	var one int
	err := tx.queryRow(ctx, "SELECT 1 FROM users WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return err
}
