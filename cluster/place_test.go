package cluster

import (
	"fmt"
	"testing"
)

func cameraKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("camera/hall-%03d", i+1)
	}
	return keys
}

func loads(p map[string]string) map[string]int {
	out := map[string]int{}
	for _, n := range p {
		out[n]++
	}
	return out
}

func moved(a, b map[string]string) int {
	n := 0
	for k, v := range a {
		if b[k] != v {
			n++
		}
	}
	return n
}

// Every key is placed on a node, no node gets more than its share rounded
// up, and each group is balanced on its own.
func TestPlaceBalances(t *testing.T) {
	for _, c := range []struct{ keys, nodes int }{{60, 3}, {1000, 7}, {7, 3}, {2, 5}, {1, 1}} {
		nodes := make([]string, c.nodes)
		for i := range nodes {
			nodes[i] = fmt.Sprintf("hallwatch-%d", i+1)
		}
		keys := append(cameraKeys(c.keys), "notifier/wecom", "notifier/dingtalk")
		p := Place(keys, nodes)
		if len(p) != len(keys) {
			t.Fatalf("%d keys on %d nodes: %d placed", c.keys, c.nodes, len(p))
		}
		capacity := (c.keys + c.nodes - 1) / c.nodes
		cams := map[string]int{}
		for k, n := range p {
			if group(k) == "camera" {
				cams[n]++
			}
		}
		for n, l := range cams {
			if l > capacity {
				t.Errorf("%d cameras on %d nodes: %s holds %d, more than %d", c.keys, c.nodes, n, l, capacity)
			}
		}
		if c.keys >= c.nodes && len(cams) != c.nodes {
			t.Errorf("%d cameras on %d nodes: only %d nodes hold any: %v", c.keys, c.nodes, len(cams), cams)
		}
	}
}

// Every node computes the same placement whatever the order it lists the
// nodes in.
func TestPlaceIsDeterministic(t *testing.T) {
	keys := cameraKeys(100)
	a := Place(keys, []string{"a", "b", "c"})
	b := Place(keys, []string{"c", "a", "b"})
	if m := moved(a, b); m != 0 {
		t.Errorf("node order changed %d placements", m)
	}
}

// A node joining or leaving moves about the keys that must move (its
// share), not many more: over many sets of 60 cameras on 3 nodes, and
// 1,000 on 7, the moves beyond the share stay under a fifth of it.
func TestPlaceMovesFew(t *testing.T) {
	for _, c := range []struct{ sets, cameras, nodes int }{{30, 60, 3}, {3, 1000, 7}} {
		nodes := make([]string, c.nodes+1)
		for i := range nodes {
			nodes[i] = fmt.Sprintf("hallwatch-%d", i+1)
		}
		before, fewer, more := nodes[:c.nodes], nodes[:c.nodes-1], nodes
		var leaving, leaveMoves, joining, joinMoves int
		for s := range c.sets {
			keys := make([]string, c.cameras)
			for i := range keys {
				keys[i] = fmt.Sprintf("camera/set%d-%d", s, i)
			}
			p := Place(keys, before)
			after := Place(keys, fewer)
			leaving += loads(p)[before[c.nodes-1]]
			leaveMoves += moved(p, after)
			after = Place(keys, more)
			joining += loads(after)[more[c.nodes]]
			joinMoves += moved(p, after)
		}
		t.Logf("%d× %d cameras on %d nodes: a node leaving moves %d for its %d, a node joining %d for the %d it takes",
			c.sets, c.cameras, c.nodes, leaveMoves, leaving, joinMoves, joining)
		if leaveMoves > leaving+leaving/5 {
			t.Errorf("a node leaving moved %d cameras; it held %d", leaveMoves, leaving)
		}
		if joinMoves > joining+joining/5 {
			t.Errorf("a node joining moved %d cameras; it takes %d", joinMoves, joining)
		}
	}
}

func TestRankOrdersByWeight(t *testing.T) {
	nodes := []string{"a", "b", "c"}
	for _, k := range cameraKeys(10) {
		r := Rank(k, nodes)
		if len(r) != 3 || weight(r[0], k) < weight(r[1], k) || weight(r[1], k) < weight(r[2], k) {
			t.Errorf("Rank(%s) = %v, not by falling weight", k, r)
		}
	}
}
