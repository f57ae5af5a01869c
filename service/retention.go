package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// Retention runs at start and then every retentionEvery; after a failed
// run (database down) it tries again after retentionRetry.
const (
	retentionEvery = 24 * time.Hour
	retentionRetry = time.Hour
)

type purger interface {
	Purge(ctx context.Context, before store.PurgeBefore) (store.PurgeResult, error)
}

// retention enforces retention.*: it deletes events, alert snapshots,
// audit entries and given-up notifications older than configured, logs
// what it removed and counts it for metrics.
type retention struct {
	store purger
	cfg   config.Retention
	log   *slog.Logger
	now   func() time.Time
	every time.Duration // retentionEvery
	retry time.Duration // retentionRetry

	mu     sync.Mutex
	purged store.PurgeResult // since start
	last   time.Time         // last successful run
}

func newRetention(st purger, cfg config.Retention, log *slog.Logger) *retention {
	return &retention{store: st, cfg: cfg, log: log, now: time.Now, every: retentionEvery, retry: retentionRetry}
}

// Run purges at once, then daily, until ctx ends.
func (r *retention) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := r.purge(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			r.log.Error("retention: purge failed, trying again later", "in", r.retry, "err", err)
			t.Reset(r.retry)
			continue
		}
		t.Reset(r.every)
	}
}

// purge deletes what is older than the retention periods. Given-up
// notifications are kept as long as the audit log: both are for review.
func (r *retention) purge(ctx context.Context) error {
	now := r.now()
	began := time.Now()
	res, err := r.store.Purge(ctx, store.PurgeBefore{
		Events:        now.Add(-r.cfg.Events.D()),
		Snapshots:     now.Add(-r.cfg.Snapshots.D()),
		Audit:         now.Add(-r.cfg.Audit.D()),
		Notifications: now.Add(-r.cfg.Audit.D()),
	})
	r.mu.Lock()
	// A failed run may have removed some chunks: count them too.
	r.purged.Events += res.Events
	r.purged.Snapshots += res.Snapshots
	r.purged.Audit += res.Audit
	r.purged.Notifications += res.Notifications
	if err == nil {
		r.last = now
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	r.log.Info("retention: purged old records", "events", res.Events, "snapshots", res.Snapshots,
		"audit", res.Audit, "notifications", res.Notifications, "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// stats returns what retention removed since start, by kind, and when it
// last ran.
func (r *retention) stats() (map[string]int64, time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return map[string]int64{"events": r.purged.Events, "snapshots": r.purged.Snapshots,
		"audit": r.purged.Audit, "notifications": r.purged.Notifications}, r.last
}
