package auth

import (
	"fmt"
	"testing"
	"time"
)

// clock is a settable time source for deterministic throttling tests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }

func TestThrottleIPBucket(t *testing.T) {
	c := newClock()
	th := newThrottle(c.now, 3, 6, 5, time.Minute) // 3 at once, then one per 10 s
	for i := range 3 {
		if ok, _ := th.allowIP("10.0.0.1"); !ok {
			t.Fatalf("attempt %d refused within the burst", i+1)
		}
	}
	ok, retry := th.allowIP("10.0.0.1")
	if ok || retry != 10*time.Second {
		t.Fatalf("4th attempt: ok=%v retry=%v, want refused with retry 10s", ok, retry)
	}
	if ok, _ := th.allowIP("10.0.0.2"); !ok {
		t.Fatal("another address is limited by the first one's attempts")
	}
	c.advance(10 * time.Second)
	if ok, _ := th.allowIP("10.0.0.1"); !ok {
		t.Fatal("attempt refused after the refill interval")
	}
	if ok, _ := th.allowIP("10.0.0.1"); ok {
		t.Fatal("refill gave more than one attempt")
	}
}

func TestThrottleLockout(t *testing.T) {
	c := newClock()
	th := newThrottle(c.now, 100, 100, 3, 15*time.Minute)
	for i := range 2 {
		if th.failed("amy") {
			t.Fatalf("locked after %d failures, want 3", i+1)
		}
	}
	if d := lockedFor(th, "amy"); d != 0 {
		t.Fatalf("locked for %v before the 3rd failure", d)
	}
	if !th.failed("amy") {
		t.Fatal("3rd failure did not lock")
	}
	if d := lockedFor(th, "amy"); d != 15*time.Minute {
		t.Fatalf("locked for %v, want 15m", d)
	}
	if lockedFor(th, "bob") != 0 {
		t.Fatal("another account is locked")
	}
	c.advance(15 * time.Minute)
	if d := lockedFor(th, "amy"); d != 0 {
		t.Fatalf("still locked for %v after the lockout", d)
	}
	// Failures spread wider than the lockout duration do not add up.
	th.failed("amy")
	th.failed("amy")
	c.advance(16 * time.Minute)
	if th.failed("amy") {
		t.Fatal("old failures counted towards a new lockout")
	}
	// Success clears the count.
	th.failed("amy")
	th.succeeded("amy")
	if th.failed("amy") {
		t.Fatal("failures before a success counted")
	}
}

func TestThrottleBounded(t *testing.T) {
	c := newClock()
	th := newThrottle(c.now, 2, 60, 3, time.Minute)
	for i := range maxThrottleEntries {
		th.allowIP(fmt.Sprint("ip", i))
		th.failed(fmt.Sprint("user", i))
	}
	if ok, _ := th.allowIP("new"); ok {
		t.Error("a new address was admitted while the table is full of active ones")
	}
	c.advance(time.Minute)
	if ok, _ := th.allowIP("new"); !ok {
		t.Error("a new address is refused after the others' buckets refilled")
	}
	if len(th.ips) > maxThrottleEntries || len(th.accounts) > maxThrottleEntries {
		t.Errorf("tables grew past the bound: %d addresses, %d accounts", len(th.ips), len(th.accounts))
	}
	th.failed("newuser")
	if _, ok := th.accounts["newuser"]; !ok {
		t.Error("stale accounts were not swept to make room")
	}
}

func lockedFor(th *throttle, name string) time.Duration {
	left, _, _ := th.lock(name)
	return left
}
