package analytics

import "math"

// assign solves the rectangular assignment problem for cost[rows][cols]
// (Hungarian method with potentials, O(n²m)). Pairs whose cost is +Inf are
// forbidden and left unassigned. It returns, for each row, the matched
// column or -1.
func assign(cost [][]float64) []int {
	n := len(cost)
	if n == 0 {
		return nil
	}
	m := len(cost[0])
	match := make([]int, n)
	for i := range match {
		match[i] = -1
	}
	if m == 0 {
		return match
	}
	// Forbidden pairs get a finite cost larger than any full assignment of
	// allowed pairs, so the solver prefers them last; they are dropped after.
	big := 1.0
	for _, row := range cost {
		for _, c := range row {
			if !math.IsInf(c, 1) {
				big += math.Abs(c)
			}
		}
	}
	transpose := n > m // the solver needs rows ≤ cols
	rows, cols := n, m
	if transpose {
		rows, cols = m, n
	}
	at := func(i, j int) float64 { // 1-based
		if transpose {
			i, j = j, i
		}
		c := cost[i-1][j-1]
		if math.IsInf(c, 1) {
			return big
		}
		return c
	}
	u := make([]float64, rows+1)
	v := make([]float64, cols+1)
	p := make([]int, cols+1) // p[j]: row matched to column j
	way := make([]int, cols+1)
	minv := make([]float64, cols+1)
	used := make([]bool, cols+1)
	for i := 1; i <= rows; i++ {
		p[0] = i
		j0 := 0
		for j := range minv {
			minv[j] = math.Inf(1)
			used[j] = false
		}
		for {
			used[j0] = true
			i0, delta, j1 := p[j0], math.Inf(1), 0
			for j := 1; j <= cols; j++ {
				if used[j] {
					continue
				}
				if cur := at(i0, j) - u[i0] - v[j]; cur < minv[j] {
					minv[j], way[j] = cur, j0
				}
				if minv[j] < delta {
					delta, j1 = minv[j], j
				}
			}
			for j := 0; j <= cols; j++ {
				if used[j] {
					u[p[j]] += delta
					v[j] -= delta
				} else {
					minv[j] -= delta
				}
			}
			j0 = j1
			if p[j0] == 0 {
				break
			}
		}
		for j0 != 0 {
			j1 := way[j0]
			p[j0] = p[j1]
			j0 = j1
		}
	}
	for j := 1; j <= cols; j++ {
		if p[j] == 0 {
			continue
		}
		r, c := p[j]-1, j-1
		if transpose {
			r, c = c, r
		}
		if !math.IsInf(cost[r][c], 1) {
			match[r] = c
		}
	}
	return match
}
