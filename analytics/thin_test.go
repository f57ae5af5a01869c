package analytics

import (
	"slices"
	"testing"
)

// TestThinner: at 5 of 15 fps every third frame, the same whether the
// times are a file's (n/fps) or a live stream's (arrival, with jitter);
// after a gap the rate starts again from the next frame; a frame analysed
// out of turn (Took) moves the next one on; every frame when the rate is
// above the stream's.
func TestThinner(t *testing.T) {
	pick := func(fps float64, times []float64) []int {
		th := NewThinner(fps)
		var out []int
		for i, tt := range times {
			if th.Due(tt) {
				out = append(out, i)
			}
		}
		return out
	}
	var file, live []float64
	for n := range 30 {
		file = append(file, float64(n)/15)
		live = append(live, float64(n)/15+[]float64{0.004, -0.003, 0.002}[n%3]) // arrival jitter
	}
	want := []int{0, 3, 6, 9, 12, 15, 18, 21, 24, 27}
	if got := pick(5, file); !slices.Equal(got, want) {
		t.Errorf("file times: %v, want %v", got, want)
	}
	if got := pick(5, live); !slices.Equal(got, want) {
		t.Errorf("live times: %v, want %v", got, want)
	}
	if got := pick(1000, file[:5]); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Errorf("above the stream's rate: %v, want every frame", got)
	}
	gap := []float64{0, 0.0667, 0.1333, 0.2, 5.0, 5.0667, 5.1333, 5.2}
	if got := pick(5, gap); !slices.Equal(got, []int{0, 3, 4, 7}) {
		t.Errorf("after a gap: %v, want the rate again from the first frame after it", got)
	}
	th := NewThinner(5)
	th.Due(0)
	th.Took(0.1)
	if th.Due(0.2) || !th.Due(0.3) {
		t.Error("a frame analysed out of turn at 0.1 s should make the next one due at 0.3 s")
	}
	th.Reset()
	if !th.Due(0.31) {
		t.Error("after Reset the next frame is due")
	}
}
