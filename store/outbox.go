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
// returns its id. Messages about an alert change are queued with the
// change instead (RaiseAlert and ResolveAlert).
func (s *Store) EnqueueNotification(ctx context.Context, target string, payload []byte) (int64, error) {
	n, err := enqueue(ctx, s.writer(), target, payload, time.Now())
	if err != nil {
		return 0, fmt.Errorf("enqueue notification for %q: %w", target, err)
	}
	return n.ID, nil
}

// enqueue inserts one outbox message due at now and returns it as stored.
func enqueue(ctx context.Context, c conn, target string, payload []byte, now time.Time) (Notification, error) {
	switch {
	case target == "":
		return Notification{}, fmt.Errorf("target is empty: %w", ErrInvalid)
	case len(payload) == 0 || len(payload) > maxNotificationBytes:
		return Notification{}, fmt.Errorf("payload is %d bytes, want 1..%d: %w", len(payload), maxNotificationBytes, ErrInvalid)
	}
	if err := checkText("target", target); err != nil {
		return Notification{}, err
	}
	n := Notification{Target: target, Payload: payload, CreatedAt: fromUS(us(now)), NextAttempt: fromUS(us(now))}
	var err error
	n.ID, err = c.insert(ctx, `INSERT INTO notifications (target, payload, created_us, next_attempt_us)
		VALUES (?, ?, ?, ?)`, target, payload, us(now), us(now))
	return n, err
}

// PendingNotifications returns up to n messages for target (empty: all
// targets) whose next attempt is due at dueBy, oldest due first (n <= 0: all). Messages
// the notifier gave up on are not returned.
func (s *Store) PendingNotifications(ctx context.Context, target string, dueBy time.Time, n int) ([]Notification, error) {
	var w where
	w.add("next_attempt_us <= ?", us(dueBy))
	if target != "" {
		w.add("target = ?", target)
	}
	out, err := queryAll(ctx, s.reader(), scanNotification, `SELECT id, target, payload, created_us, attempts, next_attempt_us, last_error
		FROM notifications`+w.String()+" ORDER BY next_attempt_us, id"+limit(n), w.args...)
	if err != nil {
		return nil, fmt.Errorf("pending notifications: %w", err)
	}
	return out, nil
}

func scanNotification(r scanner) (Notification, error) {
	var (
		n       Notification
		created int64
		next    sql.NullInt64
	)
	err := r.Scan(&n.ID, &n.Target, &n.Payload, &created, &n.Attempts, &next, &n.LastError)
	n.CreatedAt, n.NextAttempt = fromUS(created), fromNullUS(next)
	return n, err
}

// MarkNotificationDone removes a delivered message.
func (s *Store) MarkNotificationDone(ctx context.Context, id int64) error {
	if err := s.writer().one(ctx, "DELETE FROM notifications WHERE id = ?", id); err != nil {
		return fmt.Errorf("mark notification %d done: %w", id, err)
	}
	return nil
}

// MarkNotificationFailed counts a failed attempt, keeps the error text
// (made valid UTF-8 and truncated; it must not hold secrets such as
// webhook keys) and schedules the next attempt. A zero nextAttempt means
// give up: the message is kept for review until retention removes it, but
// never returned as pending.
func (s *Store) MarkNotificationFailed(ctx context.Context, id int64, errText string, nextAttempt time.Time) error {
	err := s.writer().one(ctx, `UPDATE notifications
		SET attempts = attempts + 1, last_error = ?, next_attempt_us = ? WHERE id = ?`,
		cleanText(errText, maxErrorBytes), nullUS(nextAttempt), id)
	if err != nil {
		return fmt.Errorf("mark notification %d failed: %w", id, err)
	}
	return nil
}
