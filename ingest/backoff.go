package ingest

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/hallwatch/hallwatch/internal/clock"
)

// Backoff defaults, used for zero BackoffConfig fields.
const (
	DefaultBackoffMin   = time.Second
	DefaultBackoffMax   = 30 * time.Second
	DefaultStablePeriod = time.Minute
)

// BackoffConfig tunes reconnect delays.
type BackoffConfig struct {
	Min          time.Duration // lower bound of every delay
	Max          time.Duration // cap
	StablePeriod time.Duration // a connection live this long resets the delays
}

// Backoff spaces reconnect attempts with "decorrelated jitter": each delay
// is drawn uniformly from [Min, 3×previous], capped at Max. Delays grow
// about ×1.5 per failure, then average some 60% of Max; they never fall
// below Min (no hammering a dead camera), and cameras that failed together
// (a switch reboot) drift apart instead of reconnecting in lock-step.
// A Backoff belongs to one goroutine.
type Backoff struct {
	cfg       BackoffConfig
	clock     clock.Clock
	rng       *rand.Rand // nil: the runtime's randomly seeded source
	prev      time.Duration
	liveSince time.Time
}

// NewBackoff returns a backoff; rng may be nil (the normal case: each
// instance then draws from the runtime's random source, so no two cameras
// share a sequence). Zero config fields take the defaults.
func NewBackoff(cfg BackoffConfig, clk clock.Clock, rng *rand.Rand) *Backoff {
	if cfg.Min <= 0 {
		cfg.Min = DefaultBackoffMin
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultBackoffMax
	}
	if cfg.Max < cfg.Min {
		cfg.Max = cfg.Min
	}
	if cfg.StablePeriod <= 0 {
		cfg.StablePeriod = DefaultStablePeriod
	}
	if clk == nil {
		clk = clock.System{}
	}
	return &Backoff{cfg: cfg, clock: clk, rng: rng}
}

// Live records that a connection is up; if it stays up for StablePeriod,
// the next failure starts again from the shortest delays.
func (b *Backoff) Live() { b.liveSince = b.clock.Now() }

// Next returns the delay before the next attempt after a failure or a lost
// connection.
func (b *Backoff) Next() time.Duration {
	if !b.liveSince.IsZero() && b.clock.Now().Sub(b.liveSince) >= b.cfg.StablePeriod {
		b.prev = 0
	}
	b.liveSince = time.Time{}

	hi := 3 * max(b.prev, b.cfg.Min)
	d := b.cfg.Min + b.int64N(int64(hi-b.cfg.Min)+1)
	d = min(d, b.cfg.Max)
	b.prev = d
	return d
}

func (b *Backoff) int64N(n int64) time.Duration {
	if b.rng != nil {
		return time.Duration(b.rng.Int64N(n))
	}
	return time.Duration(rand.Int64N(n))
}

// Wait sleeps for d on the backoff's clock; it returns ctx.Err() early
// when ctx ends.
func (b *Backoff) Wait(ctx context.Context, d time.Duration) error {
	t := b.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}
