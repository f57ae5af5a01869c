package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// APIToken is a long-lived credential for scripts. The store keeps only a
// hash of the token.
type APIToken struct {
	ID         int64
	TokenHash  string `json:"-"`
	UserID     int64
	Name       string // unique per user
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: valid
}

// Revoked reports whether the token was revoked.
func (t APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// CreateToken stores a new token and returns its id. An unknown user is
// ErrNotFound; a name the user already uses, or a hash that exists, is ErrConflict.
func (s *Store) CreateToken(ctx context.Context, t APIToken) (int64, error) {
	if err := checkName("token", t.Name); err != nil {
		return 0, fmt.Errorf("create token: %w", err)
	}
	if err := checkText("token hash", t.TokenHash); err != nil {
		return 0, fmt.Errorf("create token %q: %w", t.Name, err)
	}
	if t.TokenHash == "" || t.CreatedAt.IsZero() {
		return 0, fmt.Errorf("create token %q: token hash and created time are required: %w", t.Name, ErrInvalid)
	}
	var id int64
	err := s.tx(ctx, func(tx conn) error {
		if err := userExists(ctx, tx, t.UserID); err != nil {
			return err
		}
		var err error
		id, err = tx.insert(ctx, `INSERT INTO api_tokens (token_hash, user_id, name, created_us)
			VALUES (?, ?, ?, ?)`, t.TokenHash, t.UserID, t.Name, us(t.CreatedAt))
		if isUnique(err) {
			return fmt.Errorf("token name already used by this user, or token hash exists: %w", ErrNameTaken)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("create token %q for user %d: %w", t.Name, t.UserID, err)
	}
	return id, nil
}

const tokenColumns = "id, token_hash, user_id, name, created_us, last_used_us, revoked_us"

// TokenByHash returns the token with this hash, revoked or not, or ErrNotFound.
func (s *Store) TokenByHash(ctx context.Context, hash string) (APIToken, error) {
	t, err := queryOne(ctx, s.reader(), scanToken, "SELECT "+tokenColumns+" FROM api_tokens WHERE token_hash = ?", hash)
	if err != nil {
		return APIToken{}, fmt.Errorf("token: %w", err)
	}
	return t, nil
}

// ListTokens returns a user's tokens, revoked ones included, oldest first.
func (s *Store) ListTokens(ctx context.Context, userID int64) ([]APIToken, error) {
	ts, err := queryAll(ctx, s.reader(), scanToken, "SELECT "+tokenColumns+" FROM api_tokens WHERE user_id = ? ORDER BY created_us, id", userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens of user %d: %w", userID, err)
	}
	return ts, nil
}

// TouchToken records that token id was used at the given time.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("touch token %d: time is zero: %w", id, ErrInvalid)
	}
	if err := s.writer().one(ctx, "UPDATE api_tokens SET last_used_us = ? WHERE id = ?", us(at), id); err != nil {
		return fmt.Errorf("touch token %d: %w", id, err)
	}
	return nil
}

// RevokeToken revokes token id; revoking a revoked token keeps the first
// revocation time. An unknown id is ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("revoke token %d: time is zero: %w", id, ErrInvalid)
	}
	if err := s.writer().one(ctx, "UPDATE api_tokens SET revoked_us = COALESCE(revoked_us, ?) WHERE id = ?", us(at), id); err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	return nil
}

func scanToken(r scanner) (APIToken, error) {
	var (
		t             APIToken
		created       int64
		used, revoked sql.NullInt64
	)
	err := r.Scan(&t.ID, &t.TokenHash, &t.UserID, &t.Name, &created, &used, &revoked)
	t.CreatedAt, t.LastUsedAt, t.RevokedAt = fromUS(created), fromNullUS(used), fromNullUS(revoked)
	return t, err
}
