package store

import (
	"context"
	"fmt"
	"time"
)

// maxAuditDetailBytes bounds an audit entry's detail text.
const maxAuditDetailBytes = 8192

// AuditEntry is one audited action ("who did what to what, from where").
// Detail must not hold secrets.
type AuditEntry struct {
	ID         int64
	Time       time.Time
	User       string
	Action     string
	Target     string
	Detail     string
	RemoteAddr string
}

// AuditQuery selects audit entries, newest first. Empty fields do not filter.
type AuditQuery struct {
	From   time.Time // inclusive
	To     time.Time // exclusive
	User   string
	Action string
	Limit  int // <= 0: no limit
}

// AppendAudit stores e (its ID is ignored).
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	_, err := s.StartAudit(ctx, e)
	return err
}

// StartAudit stores e (its ID is ignored) and returns its id, for an action
// that lasts (a live viewing) and is completed by CompleteAudit.
func (s *Store) StartAudit(ctx context.Context, e AuditEntry) (int64, error) {
	switch {
	case e.Time.IsZero() || e.Action == "":
		return 0, fmt.Errorf("append audit: time and action are required: %w", ErrInvalid)
	case len(e.Detail) > maxAuditDetailBytes:
		return 0, fmt.Errorf("append audit %q: detail is %d bytes, limit %d: %w", e.Action, len(e.Detail), maxAuditDetailBytes, ErrInvalid)
	}
	// An audit entry quotes the outside world (names typed at a login
	// form): it is kept, made storable, rather than refused.
	clean := func(s string) string { return cleanText(s, maxAuditDetailBytes) }
	id, err := s.writer().insert(ctx, `INSERT INTO audit (time_us, user_name, action, target, detail, remote_addr)
		VALUES (?, ?, ?, ?, ?, ?)`, us(e.Time), clean(e.User), clean(e.Action), clean(e.Target), clean(e.Detail), clean(e.RemoteAddr))
	if err != nil {
		return 0, fmt.Errorf("append audit %q: %w", e.Action, err)
	}
	return id, nil
}

// CompleteAudit replaces the detail of entry id, started by StartAudit,
// once the action has ended ("until 10:42, 2m5s of video").
func (s *Store) CompleteAudit(ctx context.Context, id int64, detail string) error {
	if len(detail) > maxAuditDetailBytes {
		return fmt.Errorf("complete audit %d: detail is %d bytes, limit %d: %w", id, len(detail), maxAuditDetailBytes, ErrInvalid)
	}
	if err := s.writer().one(ctx, "UPDATE audit SET detail = ? WHERE id = ?", cleanText(detail, maxAuditDetailBytes), id); err != nil {
		return fmt.Errorf("complete audit %d: %w", id, err)
	}
	return nil
}

// Audit returns the entries matching q, newest first.
func (s *Store) Audit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	var w where
	w.timeRange("time_us", q.From, q.To)
	if q.User != "" {
		w.add("user_name = ?", q.User)
	}
	if q.Action != "" {
		w.add("action = ?", q.Action)
	}
	out, err := queryAll(ctx, s.reader(), scanAudit, `SELECT id, time_us, user_name, action, target, detail, remote_addr
		FROM audit`+w.String()+" ORDER BY time_us DESC, id DESC"+limit(q.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("query audit: %w", err)
	}
	return out, nil
}

func scanAudit(r scanner) (AuditEntry, error) {
	var (
		e AuditEntry
		t int64
	)
	err := r.Scan(&e.ID, &t, &e.User, &e.Action, &e.Target, &e.Detail, &e.RemoteAddr)
	e.Time = fromUS(t)
	return e, err
}
