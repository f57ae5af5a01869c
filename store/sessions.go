package store

import (
	"context"
	"fmt"
	"time"
)

// Session is a browser login. The store keeps only a hash of the session
// token; the CSRF token is kept as is because pages must embed it.
type Session struct {
	TokenHash  string `json:"-"`
	UserID     int64
	CSRFToken  string `json:"-"`
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// CreateSession stores a new session (a zero LastSeenAt means CreatedAt).
// An unknown user fails with ErrNotFound.
func (s *Store) CreateSession(ctx context.Context, se Session) error {
	if err := checkText("token hash", se.TokenHash, "CSRF token", se.CSRFToken); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	switch {
	case se.TokenHash == "" || se.CSRFToken == "":
		return fmt.Errorf("create session: token hash and CSRF token are required: %w", ErrInvalid)
	case se.CreatedAt.IsZero() || se.ExpiresAt.IsZero():
		return fmt.Errorf("create session: created and expiry times are required: %w", ErrInvalid)
	}
	if se.LastSeenAt.IsZero() {
		se.LastSeenAt = se.CreatedAt
	}
	err := s.tx(ctx, func(tx conn) error {
		if err := userExists(ctx, tx, se.UserID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO sessions
			(token_hash, user_id, csrf_token, created_us, expires_us, last_seen_us) VALUES (?, ?, ?, ?, ?, ?)`,
			se.TokenHash, se.UserID, se.CSRFToken, us(se.CreatedAt), us(se.ExpiresAt), us(se.LastSeenAt))
		if isUnique(err) {
			return fmt.Errorf("session token hash already exists: %w", ErrConflict)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("create session for user %d: %w", se.UserID, err)
	}
	return nil
}

// SessionByHash returns the session with this token hash, or ErrNotFound.
// Expired sessions are returned too: the caller compares ExpiresAt.
func (s *Store) SessionByHash(ctx context.Context, hash string) (Session, error) {
	se, err := queryOne(ctx, s.reader(), scanSession, `SELECT token_hash, user_id, csrf_token, created_us, expires_us, last_seen_us
		FROM sessions WHERE token_hash = ?`, hash)
	if err != nil {
		return Session{}, fmt.Errorf("session: %w", err)
	}
	return se, nil
}

func scanSession(r scanner) (Session, error) {
	var (
		se                     Session
		created, expires, seen int64
	)
	err := r.Scan(&se.TokenHash, &se.UserID, &se.CSRFToken, &created, &expires, &seen)
	se.CreatedAt, se.ExpiresAt, se.LastSeenAt = fromUS(created), fromUS(expires), fromUS(seen)
	return se, err
}

// TouchSession records activity at the given time and sets a new expiry
// (pass the old one to keep a fixed lifetime).
func (s *Store) TouchSession(ctx context.Context, hash string, at, expires time.Time) error {
	if at.IsZero() || expires.IsZero() {
		return fmt.Errorf("touch session: activity and expiry times are required: %w", ErrInvalid)
	}
	err := s.writer().one(ctx, "UPDATE sessions SET last_seen_us = ?, expires_us = ? WHERE token_hash = ?",
		us(at), us(expires), hash)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// DeleteSession ends one session (logout); an unknown hash is ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if err := s.writer().one(ctx, "DELETE FROM sessions WHERE token_hash = ?", hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteUserSessions ends all of a user's sessions and returns how many.
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64) (int64, error) {
	n, err := s.writer().count(ctx, "DELETE FROM sessions WHERE user_id = ?", userID)
	if err != nil {
		return 0, fmt.Errorf("delete sessions of user %d: %w", userID, err)
	}
	return n, nil
}

// DeleteExpiredSessions removes sessions that expired at or before now and
// returns how many.
func (s *Store) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	n, err := s.writer().count(ctx, "DELETE FROM sessions WHERE expires_us <= ?", us(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return n, nil
}
