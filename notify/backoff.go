package notify

import (
	"math/rand/v2"
	"time"
)

// jitter is the fraction of a backoff step drawn at random, so targets that
// failed together (a network outage) do not retry in lockstep.
const jitter = 0.2

// backoff is the wait after the n-th consecutive failure (n ≥ 1): first
// doubling up to most, each minus up to 20% at random.
func backoff(n int, first, most time.Duration) time.Duration {
	d := first
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	return d - time.Duration(rand.Float64()*jitter*float64(d))
}
