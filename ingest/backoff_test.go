package ingest

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/internal/clock"
)

func newFakeClock() *clock.Fake {
	return clock.NewFake(time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC))
}

var testBackoff = BackoffConfig{Min: time.Second, Max: 30 * time.Second, StablePeriod: time.Minute}

func TestBackoffBoundsAndCap(t *testing.T) {
	for seed := range uint64(200) {
		b := NewBackoff(testBackoff, newFakeClock(), rand.New(rand.NewPCG(seed, 1)))
		prev := time.Duration(0)
		for i := range 40 {
			d := b.Next()
			if d < testBackoff.Min || d > testBackoff.Max {
				t.Fatalf("seed %d attempt %d: delay %v outside [%v, %v]", seed, i, d, testBackoff.Min, testBackoff.Max)
			}
			if hi := 3 * max(prev, testBackoff.Min); d > hi {
				t.Fatalf("seed %d attempt %d: delay %v above 3×previous %v", seed, i, d, hi)
			}
			prev = d
		}
	}
}

func TestBackoffGrowsToCap(t *testing.T) {
	// Mean delay per attempt over many cameras: rises ~×1.5 per failure
	// (E[d] = (Min + 3·E[prev]) / 2), then settles below the cap (the
	// jitter keeps drawing from [Min, 3×previous]).
	const cameras, attempts = 2000, 15
	var mean [attempts]float64
	capped := 0
	for seed := range uint64(cameras) {
		b := NewBackoff(testBackoff, newFakeClock(), rand.New(rand.NewPCG(seed, 2)))
		for i := range attempts {
			d := b.Next()
			mean[i] += d.Seconds() / cameras
			if i == attempts-1 && d == testBackoff.Max {
				capped++
			}
		}
	}
	t.Logf("mean delays (s): %.1f; %d of %d late delays at the cap", mean, capped, cameras)
	for i := 1; i < 5; i++ {
		if mean[i] < 1.3*mean[i-1] {
			t.Errorf("attempt %d mean %.2fs did not grow from %.2fs", i, mean[i], mean[i-1])
		}
	}
	if mean[0] < 1.8 || mean[0] > 2.2 {
		t.Errorf("first delay mean %.2fs, want ≈2s (uniform in [1s, 3s])", mean[0])
	}
	if late := mean[attempts-1]; late < 0.5*testBackoff.Max.Seconds() {
		t.Errorf("late mean %.1fs, want above half the %v cap", late, testBackoff.Max)
	}
	if capped < cameras/5 {
		t.Errorf("only %d of %d late delays reached the cap", capped, cameras)
	}
}

func TestBackoffResetsAfterStablePeriod(t *testing.T) {
	clock := newFakeClock()
	b := NewBackoff(testBackoff, clock, rand.New(rand.NewPCG(7, 7)))
	for range 20 {
		b.Next()
	}

	// Live for the stable period: back to the first-attempt range.
	b.Live()
	clock.Advance(testBackoff.StablePeriod)
	if d := b.Next(); d < testBackoff.Min || d > 3*testBackoff.Min {
		t.Errorf("delay after a stable connection %v, want in [%v, %v]", d, testBackoff.Min, 3*testBackoff.Min)
	}
}

func TestBackoffBriefConnectionDoesNotReset(t *testing.T) {
	// Over many seeds, a connection that dies before the stable period
	// keeps the delays near the cap instead of restarting at ~2s.
	var sum time.Duration
	const seeds = 500
	for seed := range uint64(seeds) {
		clock := newFakeClock()
		b := NewBackoff(testBackoff, clock, rand.New(rand.NewPCG(seed, 3)))
		for range 20 {
			b.Next()
		}
		b.Live()
		clock.Advance(testBackoff.StablePeriod / 2)
		sum += b.Next()
	}
	if mean := sum / seeds; mean < 15*time.Second {
		t.Errorf("mean delay after a brief connection %v, want near the cap (no reset)", mean)
	}
}

func TestBackoffCamerasDoNotReconnectInLockStep(t *testing.T) {
	// 24 cameras behind one switch fail at the same instant. With the
	// default random source their attempts must spread out, round after
	// round, rather than hit the network together.
	const cameras, rounds = 24, 8
	at := make([]time.Duration, cameras) // time of each camera's next attempt
	backoffs := make([]*Backoff, cameras)
	for i := range backoffs {
		backoffs[i] = NewBackoff(testBackoff, newFakeClock(), nil)
	}
	for round := range rounds {
		buckets := map[time.Duration]int{}
		for i, b := range backoffs {
			at[i] += b.Next()
			buckets[at[i]/(100*time.Millisecond)]++
		}
		busiest := 0
		for _, n := range buckets {
			busiest = max(busiest, n)
		}
		// Uniform spreading puts ~1-2 attempts in a 100 ms slot; 10 or more
		// has a probability below 1e-6.
		if busiest >= 10 {
			t.Errorf("round %d: %d of %d cameras reconnect within the same 100 ms", round, busiest, cameras)
		}
		spread := slices.Max(at) - slices.Min(at)
		if spread < 500*time.Millisecond {
			t.Errorf("round %d: all attempts within %v", round, spread)
		}
	}
}

func TestBackoffWait(t *testing.T) {
	clock := newFakeClock()
	b := NewBackoff(testBackoff, clock, nil)
	done := make(chan error, 1)
	go func() { done <- b.Wait(context.Background(), 5*time.Second) }()
	<-clock.Timers()
	clock.Advance(5*time.Second - time.Nanosecond)
	select {
	case <-done:
		t.Fatal("Wait returned before its delay")
	default:
	}
	clock.Advance(time.Nanosecond)
	if err := <-done; err != nil {
		t.Errorf("Wait = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- b.Wait(ctx, time.Hour) }()
	<-clock.Timers()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Wait after cancel = %v, want context.Canceled", err)
	}
}
