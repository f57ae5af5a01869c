package cluster

import (
	"hash/fnv"
	"slices"
	"strings"
)

// Place says which node should hold each key: rendezvous (highest random
// weight) hashing as each key's preference among nodes, with the load
// bounded so that every group of keys (the part before "/": cameras,
// notifiers) is spread evenly, no node holding more than its share rounded
// up. Every node computes it from the same inputs and gets the same answer;
// when a node joins or leaves, mostly the keys that must move do.
func Place(keys, nodes []string) map[string]string {
	out := make(map[string]string, len(keys))
	if len(nodes) == 0 {
		return out
	}
	groups := map[string][]string{}
	for _, k := range keys {
		g := group(k)
		groups[g] = append(groups[g], k)
	}
	for _, ks := range groups {
		placeGroup(ks, nodes, out)
	}
	return out
}

// placeGroup assigns pairs (key, node) in order of falling weight: a key
// goes to the first node of its preference that still has room.
func placeGroup(keys, nodes []string, out map[string]string) {
	capacity := (len(keys) + len(nodes) - 1) / len(nodes)
	type pair struct {
		key, node string
		w         uint64
	}
	pairs := make([]pair, 0, len(keys)*len(nodes))
	for _, k := range keys {
		for _, n := range nodes {
			pairs = append(pairs, pair{k, n, weight(n, k)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		switch {
		case a.w > b.w:
			return -1
		case a.w < b.w:
			return 1
		}
		return strings.Compare(a.key+"\x00"+a.node, b.key+"\x00"+b.node)
	})
	load := map[string]int{}
	for _, p := range pairs {
		if _, done := out[p.key]; done || load[p.node] >= capacity {
			continue
		}
		out[p.key] = p.node
		load[p.node]++
	}
}

// Rank orders nodes by their preference for key, highest first: who takes
// a key its placed node does not.
func Rank(key string, nodes []string) []string {
	out := slices.Clone(nodes)
	slices.SortFunc(out, func(a, b string) int {
		wa, wb := weight(a, key), weight(b, key)
		switch {
		case wa > wb:
			return -1
		case wa < wb:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

func group(key string) string {
	g, _, _ := strings.Cut(key, "/")
	return g
}

// weight is the rendezvous weight of node for key: FNV-1a, then mixed
// (splitmix64's finaliser) so that similar names spread well.
func weight(node, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(node))
	h.Write([]byte{0})
	h.Write([]byte(key))
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
