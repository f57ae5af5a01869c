package eval

import (
	"fmt"
	"sort"
)

// Score is a one-to-one matching result.
type Score struct {
	TP, FP, FN int
}

// Precision is TP/(TP+FP); 1 when nothing was predicted.
func (s Score) Precision() float64 {
	if s.TP+s.FP == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FP)
}

// Recall is TP/(TP+FN); 1 when there was nothing to find.
func (s Score) Recall() float64 {
	if s.TP+s.FN == 0 {
		return 1
	}
	return float64(s.TP) / float64(s.TP+s.FN)
}

// F1 is the harmonic mean of precision and recall.
func (s Score) F1() float64 {
	p, r := s.Precision(), s.Recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func (s Score) String() string {
	return fmt.Sprintf("P %.3f R %.3f F1 %.3f (tp %d fp %d fn %d)", s.Precision(), s.Recall(), s.F1(), s.TP, s.FP, s.FN)
}

// Add sums two scores.
func (s Score) Add(o Score) Score { return Score{s.TP + o.TP, s.FP + o.FP, s.FN + o.FN} }

// Item is an event to match: a frame and a label (direction or alert state)
// that must agree.
type Item struct {
	Frame int
	Label string
}

// Pair is a matched truth/prediction couple (indexes into the inputs).
type Pair struct{ Truth, Pred int }

// Match pairs predictions with truth one-to-one: same label, at most
// tolerance frames apart, closest pairs first. It returns the score and the
// pairs.
func Match(truth, pred []Item, tolerance int) (Score, []Pair) {
	type cand struct{ t, p, d int }
	var cands []cand
	for i, t := range truth {
		for j, p := range pred {
			d := t.Frame - p.Frame
			if d < 0 {
				d = -d
			}
			if t.Label == p.Label && d <= tolerance {
				cands = append(cands, cand{i, j, d})
			}
		}
	}
	sort.SliceStable(cands, func(a, b int) bool { return cands[a].d < cands[b].d })
	usedT := make([]bool, len(truth))
	usedP := make([]bool, len(pred))
	var pairs []Pair
	for _, c := range cands {
		if usedT[c.t] || usedP[c.p] {
			continue
		}
		usedT[c.t], usedP[c.p] = true, true
		pairs = append(pairs, Pair{c.t, c.p})
	}
	sort.Slice(pairs, func(a, b int) bool { return pairs[a].Truth < pairs[b].Truth })
	return Score{TP: len(pairs), FP: len(pred) - len(pairs), FN: len(truth) - len(pairs)}, pairs
}
