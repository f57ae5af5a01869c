package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteForce returns the minimal total cost over all assignments that leave
// forbidden pairs out, maximising the number of pairs first.
func bruteForce(cost [][]float64) (pairs int, total float64) {
	n, m := len(cost), len(cost[0])
	best, bestPairs := math.Inf(1), -1
	used := make([]bool, m)
	var rec func(i, k int, s float64)
	rec = func(i, k int, s float64) {
		if i == n {
			if k > bestPairs || (k == bestPairs && s < best) {
				bestPairs, best = k, s
			}
			return
		}
		rec(i+1, k, s)
		for j := 0; j < m; j++ {
			if !used[j] && !math.IsInf(cost[i][j], 1) {
				used[j] = true
				rec(i+1, k+1, s+cost[i][j])
				used[j] = false
			}
		}
	}
	rec(0, 0, 0)
	return bestPairs, best
}

func TestAssignMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 300; iter++ {
		n, m := 1+rng.IntN(5), 1+rng.IntN(5)
		cost := make([][]float64, n)
		for i := range cost {
			cost[i] = make([]float64, m)
			for j := range cost[i] {
				cost[i][j] = rng.Float64() * 3
				if rng.IntN(4) == 0 {
					cost[i][j] = math.Inf(1)
				}
			}
		}
		match := assign(cost)
		seen := map[int]bool{}
		pairs, total := 0, 0.0
		for i, j := range match {
			if j < 0 {
				continue
			}
			if seen[j] || math.IsInf(cost[i][j], 1) {
				t.Fatalf("iter %d: invalid assignment %v for %v", iter, match, cost)
			}
			seen[j] = true
			pairs++
			total += cost[i][j]
		}
		wantPairs, wantTotal := bruteForce(cost)
		if pairs != wantPairs || math.Abs(total-wantTotal) > 1e-9 {
			t.Fatalf("iter %d: got %d pairs cost %v, want %d pairs cost %v\n%v", iter, pairs, total, wantPairs, wantTotal, cost)
		}
	}
}
