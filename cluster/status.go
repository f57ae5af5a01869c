package cluster

import (
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

// Health is this node's part in the cluster, for /healthz: peers read
// NATSOKFor, operators the rest.
type Health struct {
	Node string `json:"node"`
	// NATS is "ok" while writes to NATS succeed, "failing" otherwise;
	// NATSOKFor is for how long, in seconds (0 when failing).
	NATS      string  `json:"nats"`
	NATSOKFor float64 `json:"nats_ok_for"`
	// Ready: takes and hands over resources.
	Ready  bool `json:"ready"`
	Leases int  `json:"leases"`
	Nodes  int  `json:"nodes"` // alive, this one included
}

// Health reports this node's state. Whether it reaches NATS is checked
// with a round trip to the server (at most every 200 ms): the other nodes
// act on the answer.
func (n *Node) Health() Health {
	reaches := n.reaches()
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.health(now)
	if !reaches {
		h.NATS, h.NATSOKFor, h.Ready = "failing", 0, false
	}
	return h
}

// reaches reports whether the NATS server answers a ping now.
func (n *Node) reaches() bool {
	n.pingMu.Lock()
	defer n.pingMu.Unlock()
	if time.Since(n.pingAt) >= 200*time.Millisecond {
		n.pingOK, n.pingAt = n.nc.FlushTimeout(max(n.t.opTimeout/2, 100*time.Millisecond)) == nil, time.Now()
	}
	return n.pingOK
}

func (n *Node) health(now time.Time) Health {
	h := Health{Node: n.o.NodeID, NATS: "failing", Nodes: len(n.live(now))}
	if n.natsOK(now) {
		h.NATS, h.NATSOKFor = "ok", now.Sub(n.okSince).Seconds()
		h.Ready = n.readyLocked(now)
	}
	for _, l := range n.held {
		if !l.gone && !l.releasing {
			h.Leases++
		}
	}
	return h
}

// View is the cluster as this node sees it.
type View struct {
	Health
	Held    []string     `json:"held"`
	Members []MemberView `json:"members"`
	// Unheld are the resources no alive node holds (moving, or failing over).
	Unheld []string `json:"unheld"`
}

// MemberView is one alive node.
type MemberView struct {
	Node      string  `json:"node"`
	PublicURL string  `json:"public_url"`
	Ready     bool    `json:"ready"`
	Leases    int     `json:"leases"`
	SeenAgo   float64 `json:"seen_ago"` // seconds since its last heartbeat arrived
	// SameKeys is false for a node configured with other cameras or
	// notifiers: placement would disagree with it.
	SameKeys bool `json:"same_keys"`
}

// View reports the cluster as this node sees it.
func (n *Node) View() View {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	v := View{Health: n.health(now), Held: []string{}, Unheld: []string{}}
	held := map[string]bool{}
	for _, m := range n.live(now) {
		v.Members = append(v.Members, MemberView{Node: m.Node, PublicURL: m.PublicURL, Ready: m.Ready, Leases: len(m.Held),
			SeenAgo: now.Sub(m.received).Seconds(), SameKeys: m.Keys == n.keysHash})
		for _, k := range m.Held {
			held[k] = true
			if m.Node == n.o.NodeID {
				v.Held = append(v.Held, k)
			}
		}
	}
	for _, k := range n.keys {
		if !held[k] {
			v.Unheld = append(v.Unheld, k)
		}
	}
	slices.Sort(v.Held)
	return v
}

// Owner says who runs key: this node (self), another node (its public
// URL), or nobody known right now (ok false).
func (n *Node) Owner(key string) (publicURL string, self, ok bool) {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if l, mine := n.held[key]; mine && !l.gone && !l.releasing {
		return n.o.PublicURL, true, true
	}
	for id, m := range n.members {
		if id == n.o.NodeID || now.Sub(m.received) > n.t.ttl {
			continue
		}
		if _, found := slices.BinarySearch(m.Held, key); found {
			return m.PublicURL, false, true
		}
	}
	return "", false, false
}

// Stats are this node's counters, for metrics.
type Stats struct {
	Leases int
	Nodes  int
	NATSOK bool
	// Gained, HandedOver and Lost count leases taken, handed over to the
	// node placed for them, and lost (not renewed in time, or taken).
	Gained, HandedOver, Lost uint64
}

// Stats reports the counters.
func (n *Node) Stats() Stats {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.health(now)
	return Stats{Leases: h.Leases, Nodes: h.Nodes, NATSOK: h.NATS == "ok", Gained: n.gained, HandedOver: n.handed, Lost: n.lost}
}

// NodeID is this node's id.
func (n *Node) NodeID() string { return n.o.NodeID }

// Conn is the node's NATS connection, for the live event bridge.
func (n *Node) Conn() *nats.Conn { return n.nc }

// Close releases the NATS connection of a node that never ran.
func (n *Node) Close() { n.nc.Close() }
