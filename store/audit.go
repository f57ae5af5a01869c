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
	switch {
	case e.Time.IsZero() || e.Action == "":
		return fmt.Errorf("append audit: time and action are required: %w", ErrInvalid)
	case len(e.Detail) > maxAuditDetailBytes:
		return fmt.Errorf("append audit %q: detail is %d bytes, limit %d: %w", e.Action, len(e.Detail), maxAuditDetailBytes, ErrInvalid)
	}
	// An audit entry quotes the outside world (names typed at a login
	// form): it is kept, made storable, rather than refused.
	clean := func(s string) string { return cleanText(s, maxAuditDetailBytes) }
	if _, err := s.writer().exec(ctx, `INSERT INTO audit (time_us, user_name, action, target, detail, remote_addr)
		VALUES (?, ?, ?, ?, ?, ?)`, us(e.Time), clean(e.User), clean(e.Action), clean(e.Target), clean(e.Detail), clean(e.RemoteAddr)); err != nil {
		return fmt.Errorf("append audit %q: %w", e.Action, err)
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
