package analytics

import (
	"fmt"
	"testing"
	"time"
)

// TestGate walks the gate through quiet, idle, a changed key frame and the
// replay, at 10 units/s with a key frame every 2 s.
func TestGate(t *testing.T) {
	g := newGate(4*time.Second, 12*time.Second)
	unit := func(i int) *Unit { return &Unit{Key: i%20 == 0, T: float64(i) / 10, index: i + 1} }
	describe := func(steps []step) string {
		s := ""
		for _, st := range steps {
			s += fmt.Sprintf("%d:%d ", st.u.index-1, st.do)
		}
		return s
	}
	i := 0
	push := func() []step { s := g.push(unit(i)); i++; return s }

	// Active and quiet from 0.5 s: idle at the first key frame 4 s later (6 s).
	for i < 60 {
		steps := push()
		if len(steps) != 1 || steps[0].do != analyseAtRate {
			t.Fatalf("unit %d active: %s", i-1, describe(steps))
		}
		if i > 5 {
			g.analysed(float64(i-1)/10, true)
		}
	}
	if steps := push(); describe(steps) != "60:2 " || !g.idle {
		t.Fatalf("unit 60 should anchor idle: %s (idle %v)", describe(steps), g.idle)
	}
	// Idle: P frames are buffered, key frames probed.
	for i < 80 {
		if steps := push(); len(steps) != 0 {
			t.Fatalf("idle P frame %d: %s", i-1, describe(steps))
		}
	}
	if steps := push(); describe(steps) != "80:3 " {
		t.Fatalf("idle key frame: %s", describe(steps))
	}
	g.unchanged(&Unit{Key: true, T: 8, index: 81})
	for i < 100 {
		push()
	}
	steps := push()
	if describe(steps) != "100:3 " {
		t.Fatalf("idle key frame: %s", describe(steps))
	}
	// It changed: replay from the anchor (80, decode only), 81..99 at rate, then 100.
	replay := g.wake(steps[0].u)
	if len(replay) != 21 || replay[0].u.index != 81 || replay[0].do != decodeOnly || replay[20].u.index != 101 {
		t.Fatalf("replay: %s", describe(replay))
	}
	for _, st := range replay[1:] {
		if st.do != analyseAtRate {
			t.Fatalf("replay: %s", describe(replay))
		}
	}
	if g.idle || len(g.buf) != 0 {
		t.Fatalf("after the wake: idle %v, %d buffered", g.idle, len(g.buf))
	}
	// The replay showed nobody new (all quiet): idle again at the next key
	// frame, without another idle_after.
	for i < 120 {
		push()
		g.analysed(float64(i-1)/10, true)
	}
	if steps := push(); describe(steps) != "120:2 " {
		t.Fatalf("quiet replay, next key frame should anchor: %s", describe(steps))
	}
	// Motion in a replay resets the quiet clock.
	for i < 140 {
		push()
	}
	replay = g.wake(g.push(unit(i))[0].u)
	i++
	for _, st := range replay {
		g.analysed(st.u.T, st.u.index != 131)
	}
	for i < 180 {
		if steps := push(); len(steps) != 1 || steps[0].do != analyseAtRate {
			t.Fatalf("unit %d, 1-4 s after motion: %s", i-1, describe(steps))
		}
		g.analysed(float64(i-1)/10, true)
	}
	if steps := push(); describe(steps) != "180:2 " {
		t.Fatalf("4 s after motion: %s", describe(steps))
	}
}

// TestGateLongGOP: a camera whose key frames are further apart than the
// replay buffer allows is never idle.
func TestGateLongGOP(t *testing.T) {
	g := newGate(time.Second, 3*time.Second)
	for i := range 200 {
		steps := g.push(&Unit{Key: i%50 == 0, T: float64(i) / 10, index: i + 1}) // 5 s GOP
		g.analysed(float64(i)/10, true)
		if g.idle || len(steps) != 1 || steps[0].do != analyseAtRate {
			t.Fatalf("unit %d: idle %v, %d steps", i, g.idle, len(steps))
		}
	}
}
