package auth

import (
	"sync"
	"time"
)

// maxThrottleEntries bounds each of the throttle's maps: a flood of
// addresses or names cannot grow memory without limit.
const maxThrottleEntries = 10000

// throttle limits login attempts per client address (token bucket) and
// locks an account after consecutive failures. It lives in memory: a
// restart forgets lockouts, which is acceptable for attempts counted in
// minutes.
type throttle struct {
	now      func() time.Time
	burst    float64
	perSec   float64
	attempts int
	lockFor  time.Duration

	mu       sync.Mutex
	ips      map[string]*bucket
	accounts map[string]*account
}

type bucket struct {
	tokens float64
	at     time.Time
}

type account struct {
	failures    int
	lastFailure time.Time
	lockedAt    time.Time
	lockedUntil time.Time
	// checkedAt is when the store was last asked whether an admin lifted
	// the lock (see Service.lockedFor).
	checkedAt time.Time
}

func newThrottle(now func() time.Time, burst int, perMinute int, attempts int, lockFor time.Duration) *throttle {
	return &throttle{
		now: now, burst: float64(burst), perSec: float64(perMinute) / 60,
		attempts: attempts, lockFor: lockFor,
		ips: map[string]*bucket{}, accounts: map[string]*account{},
	}
}

// allowIP takes one attempt from ip's bucket; when it is empty it returns
// how long until the next attempt is allowed.
func (t *throttle) allowIP(ip string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	b, ok := t.ips[ip]
	if !ok {
		if len(t.ips) >= maxThrottleEntries {
			t.sweepIPs(now)
		}
		if len(t.ips) >= maxThrottleEntries {
			return false, time.Minute // under a distributed flood new addresses wait
		}
		b = &bucket{tokens: t.burst, at: now}
		t.ips[ip] = b
	}
	b.tokens = min(t.burst, b.tokens+now.Sub(b.at).Seconds()*t.perSec)
	b.at = now
	if b.tokens < 1 {
		return false, time.Duration((1 - b.tokens) / t.perSec * float64(time.Second))
	}
	b.tokens--
	return true, 0
}

// sweepIPs forgets buckets that have refilled.
func (t *throttle) sweepIPs(now time.Time) {
	for ip, b := range t.ips {
		if b.tokens+now.Sub(b.at).Seconds()*t.perSec >= t.burst {
			delete(t.ips, ip)
		}
	}
}

// liftCheckEvery bounds how often a locked account's store record is
// read to see whether an admin lifted the lock: a locked account's login
// attempts cost no password hash, so they must not cost a query each.
const liftCheckEvery = time.Second

// lock returns how long the account stays locked (0: not locked), when
// the lock began, and whether it is time to ask the store whether an
// admin lifted it.
func (t *throttle) lock(name string) (left time.Duration, since time.Time, check bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.accounts[name]
	if !ok {
		return 0, time.Time{}, false
	}
	now := t.now()
	left = max(0, a.lockedUntil.Sub(now))
	if left > 0 && now.Sub(a.checkedAt) >= liftCheckEvery {
		a.checkedAt = now
		check = true
	}
	return left, a.lockedAt, check
}

// lockedUntil returns when the account's lock ends (zero: not locked).
func (t *throttle) lockedUntil(name string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a, ok := t.accounts[name]; ok && t.now().Before(a.lockedUntil) {
		return a.lockedUntil
	}
	return time.Time{}
}

// failed counts a failed attempt and reports whether it locked the
// account. Failures older than the lockout duration are forgotten.
func (t *throttle) failed(name string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	a, ok := t.accounts[name]
	if !ok {
		if len(t.accounts) >= maxThrottleEntries {
			t.sweepAccounts(now)
		}
		if len(t.accounts) >= maxThrottleEntries {
			return false // per-address limits still apply
		}
		a = &account{}
		t.accounts[name] = a
	}
	if now.Sub(a.lastFailure) >= t.lockFor {
		a.failures = 0
	}
	a.failures++
	a.lastFailure = now
	if a.failures >= t.attempts {
		a.failures = 0
		a.lockedAt, a.lockedUntil = now, now.Add(t.lockFor)
		return true
	}
	return false
}

// succeeded clears the account's failures and lifts its lock.
func (t *throttle) succeeded(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.accounts, name)
}

func (t *throttle) sweepAccounts(now time.Time) {
	for name, a := range t.accounts {
		if !now.Before(a.lockedUntil) && now.Sub(a.lastFailure) >= t.lockFor {
			delete(t.accounts, name)
		}
	}
}
