package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// record is a node's heartbeat in the nodes bucket.
type record struct {
	Node      string    `json:"node"`
	Instance  string    `json:"instance"`
	PublicURL string    `json:"public_url"`
	PeerURL   string    `json:"peer_url"`
	Started   time.Time `json:"started"`
	// Ready: takes resources (NATS has worked for settle).
	Ready bool     `json:"ready"`
	Held  []string `json:"held"`
	// Keys is a hash of the resources the node shares: nodes configured
	// with other cameras would place them differently.
	Keys string `json:"keys"`
}

// member is a record as this node last received it.
type member struct {
	record
	received time.Time
}

func hashKeys(keys []string) string {
	sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
	return hex.EncodeToString(sum[:8])
}

func decode(data []byte, v any) bool { return json.Unmarshal(data, v) == nil }

// heartbeat writes this node's record when due.
func (n *Node) heartbeat(ctx context.Context, now time.Time) {
	n.mu.Lock()
	due := now.Sub(n.lastBeat) >= n.t.renew
	held := make([]string, 0, len(n.held))
	for k, l := range n.held {
		if !l.gone && !l.releasing {
			held = append(held, k)
		}
	}
	n.mu.Unlock()
	if !due {
		return
	}
	slices.Sort(held)
	rec := record{Node: n.o.NodeID, Instance: n.instance, PublicURL: n.o.PublicURL, PeerURL: n.o.PeerURL,
		Started: n.started, Ready: n.ready(now), Held: held, Keys: n.keysHash}
	data, _ := json.Marshal(rec)
	ctx, cancel := context.WithTimeout(ctx, n.t.opTimeout)
	defer cancel()
	began := time.Now()
	_, err := n.nodes.Put(ctx, n.o.NodeID, data)
	n.observe("heartbeat", began)
	if err == nil {
		n.wrote(time.Now())
	}
	n.mu.Lock()
	n.lastBeat = now
	// A watcher that stopped delivering (our own record does not come
	// back) is made anew.
	stale := err == nil && n.synced && !n.echoed.IsZero() && now.Sub(n.echoed) > 3*n.t.renew
	n.mu.Unlock()
	if stale {
		n.o.Log.Warn("cluster: node records stopped arriving; watching again", "node", n.o.NodeID)
		select {
		case n.rewatch <- struct{}{}:
		default:
		}
	}
}

// watchMembers keeps n.members from the nodes bucket until ctx ends,
// watching anew after a reconnection or when asked.
func (n *Node) watchMembers(ctx context.Context) {
	for ctx.Err() == nil {
		w, err := n.nodes.WatchAll(ctx)
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		n.follow(ctx, w)
		w.Stop()
	}
}

// follow applies a watcher's updates until it ends, ctx ends, or a new
// watch is asked for.
func (n *Node) follow(ctx context.Context, w jetstream.KeyWatcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.rewatch:
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			now := time.Now()
			n.mu.Lock()
			switch {
			case e == nil:
				n.synced = true
			case e.Operation() != jetstream.KeyValuePut:
				delete(n.members, e.Key())
			default:
				var r record
				if decode(e.Value(), &r) && r.Node == e.Key() {
					n.members[r.Node] = member{record: r, received: now}
					if r.Node == n.o.NodeID && r.Instance == n.instance {
						n.echoed = now
					}
				}
			}
			n.mu.Unlock()
		}
	}
}

// live returns the records of the nodes alive now (heard from within a
// lease TTL), this node's own included as it is now; n.mu held.
func (n *Node) live(now time.Time) []member {
	out := make([]member, 0, len(n.members)+1)
	for id, m := range n.members {
		if id == n.o.NodeID || now.Sub(m.received) > n.t.ttl {
			continue
		}
		out = append(out, m)
	}
	self := member{record: record{Node: n.o.NodeID, Instance: n.instance, PublicURL: n.o.PublicURL, PeerURL: n.o.PeerURL,
		Started: n.started, Keys: n.keysHash}, received: now}
	self.Ready = n.readyLocked(now)
	for k, l := range n.held {
		if !l.gone && !l.releasing {
			self.Held = append(self.Held, k)
		}
	}
	out = append(out, self)
	slices.SortFunc(out, func(a, b member) int { return strings.Compare(a.Node, b.Node) })
	return out
}
