package store

import (
	"context"
	"fmt"
	"time"
)

// PurgeBefore gives the retention cutoffs; a zero time keeps everything of
// that kind. Hourly crossing counts are never purged: they are small (one
// row per line and hour) and planners compare against previous years.
type PurgeBefore struct {
	Events        time.Time // events older than this
	Snapshots     time.Time // JPEGs of alerts raised before this; the alert rows stay
	Audit         time.Time // audit entries older than this
	Notifications time.Time // given-up outbox messages created before this
}

// PurgeResult counts what Purge deleted.
type PurgeResult struct {
	Events        int64
	Services      int64 // purged with the events
	Queues        int64 // queue minutes and waits, purged with the events
	Snapshots     int64
	Audit         int64
	Notifications int64
}

// purgeChunk bounds the rows deleted per transaction, so a first purge of a
// large backlog never holds the write lock for long.
const purgeChunk = 5000

// Purge deletes records older than the cutoffs.
func (s *Store) Purge(ctx context.Context, before PurgeBefore) (PurgeResult, error) {
	var r PurgeResult
	steps := []struct {
		cutoff time.Time
		n      *int64
		what   string
		query  string
	}{
		{before.Events, &r.Events, "events",
			"DELETE FROM events WHERE id IN (SELECT id FROM events WHERE time_us < ? LIMIT ?)"},
		{before.Events, &r.Services, "services",
			"DELETE FROM services WHERE id IN (SELECT id FROM services WHERE end_us < ? LIMIT ?)"},
		{before.Events, &r.Queues, "queue minutes",
			"DELETE FROM queue_minutes WHERE id IN (SELECT id FROM queue_minutes WHERE minute_us < ? LIMIT ?)"},
		{before.Events, &r.Queues, "waits",
			"DELETE FROM waits WHERE id IN (SELECT id FROM waits WHERE end_us < ? LIMIT ?)"},
		{before.Snapshots, &r.Snapshots, "snapshots",
			`DELETE FROM alert_snapshots WHERE alert_id IN (SELECT s.alert_id FROM alert_snapshots s
				JOIN alerts a ON a.id = s.alert_id WHERE a.raised_us < ? LIMIT ?)`},
		{before.Audit, &r.Audit, "audit",
			"DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE time_us < ? LIMIT ?)"},
		{before.Notifications, &r.Notifications, "notifications",
			"DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE next_attempt_us IS NULL AND created_us < ? LIMIT ?)"},
	}
	for _, st := range steps {
		if st.cutoff.IsZero() {
			continue
		}
		for {
			n, err := s.writer().count(ctx, st.query, us(st.cutoff), purgeChunk)
			if err != nil {
				return r, fmt.Errorf("purge %s: %w", st.what, err)
			}
			*st.n += n
			if n < purgeChunk {
				break
			}
		}
	}
	return r, nil
}
