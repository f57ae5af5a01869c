package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Outbox bounds.
const (
	maxNotificationBytes = 256 << 10
	maxErrorBytes        = 1024
)

// Notification is a message waiting in the outbox for its target (a
// notifier id). It stays until MarkNotificationDone, so a restart loses none.
type Notification struct {
	ID        int64
	Target    string
	Payload   []byte
	CreatedAt time.Time
	Attempts  int
	// NextAttempt is when to try again; zero once the notifier gave up.
	NextAttempt time.Time
	LastError   string
}

// EnqueueNotification adds a message for target, due immediately, and
// returns its id.
func (s *SQLite) EnqueueNotification(ctx context.Context, target string, payload []byte) (int64, error) {
	switch {
	case target == "":
		return 0, fmt.Errorf("enqueue notification: target is empty: %w", ErrInvalid)
	case len(payload) == 0 || len(payload) > maxNotificationBytes:
		return 0, fmt.Errorf("enqueue notification for %q: payload is %d bytes, want 1..%d: %w",
			target, len(payload), maxNotificationBytes, ErrInvalid)
	}
	now := us(time.Now())
	res, err := s.write.ExecContext(ctx, `INSERT INTO notifications (target, payload, created_us, next_attempt_us)
		VALUES (?, ?, ?, ?)`, target, payload, now, now)
	if err != nil {
		return 0, fmt.Errorf("enqueue notification for %q: %w", target, err)
	}
	return res.LastInsertId()
}

// PendingNotifications returns up to n messages for target (empty: all
// targets) whose next attempt is due at dueBy, oldest due first (n <= 0: all). Messages
// the notifier gave up on are not returned.
func (s *SQLite) PendingNotifications(ctx context.Context, target string, dueBy time.Time, n int) ([]Notification, error) {
	var w where
	w.add("next_attempt_us <= ?", us(dueBy))
	if target != "" {
		w.add("target = ?", target)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, target, payload, created_us, attempts, next_attempt_us, last_error
		FROM notifications`+w.String()+" ORDER BY next_attempt_us, id"+limit(n), w.args...)
	if err != nil {
		return nil, fmt.Errorf("pending notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var (
			n       Notification
			created int64
			next    sql.NullInt64
		)
		if err := rows.Scan(&n.ID, &n.Target, &n.Payload, &created, &n.Attempts, &next, &n.LastError); err != nil {
			return nil, fmt.Errorf("pending notifications: %w", err)
		}
		n.CreatedAt, n.NextAttempt = fromUS(created), fromNullUS(next)
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending notifications: %w", err)
	}
	return out, nil
}

// MarkNotificationDone removes a delivered message.
func (s *SQLite) MarkNotificationDone(ctx context.Context, id int64) error {
	res, err := s.write.ExecContext(ctx, "DELETE FROM notifications WHERE id = ?", id)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("mark notification %d done: %w", id, err)
	}
	return nil
}

// MarkNotificationFailed counts a failed attempt, keeps the error text
// (truncated; it must not hold secrets such as webhook keys) and schedules
// the next attempt. A zero nextAttempt means give up: the message is kept
// for review until retention removes it, but never returned as pending.
func (s *SQLite) MarkNotificationFailed(ctx context.Context, id int64, errText string, nextAttempt time.Time) error {
	if len(errText) > maxErrorBytes {
		errText = errText[:maxErrorBytes]
	}
	res, err := s.write.ExecContext(ctx, `UPDATE notifications
		SET attempts = attempts + 1, last_error = ?, next_attempt_us = ? WHERE id = ?`,
		errText, nullUS(nextAttempt), id)
	if err := affectedOne(res, err); err != nil {
		return fmt.Errorf("mark notification %d failed: %w", id, err)
	}
	return nil
}
