package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// probeEvery is how often a node whose NATS writes fail asks its peers.
const probeEvery = time.Second

// verdict is the peers' answer to "could another node take my leases?".
type verdict struct {
	at   time.Time
	hold bool   // every peer answered and none has reached NATS for settle/2
	why  string // for the log
}

// holdBlind reports whether this node, unable to write to NATS, may keep
// its leases past their expiry: its peers say none of them could take
// them; n.mu held.
func (n *Node) holdBlind(now time.Time) bool {
	return !n.natsOK(now) && n.verdict.hold && n.verdict.at.After(n.failSince) && now.Sub(n.verdict.at) <= 3*probeEvery
}

// awaitingVerdict: NATS writes fail and the peers have not answered yet;
// n.mu held.
func (n *Node) awaitingVerdict(now time.Time) bool {
	return !n.natsOK(now) && !n.verdict.at.After(n.failSince)
}

// witness asks the peers, while this node's NATS writes fail, whether they
// reach NATS; see the package comment.
func (n *Node) witness(ctx context.Context) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.askNow:
		}
		n.mu.Lock()
		failing := !n.natsOK(time.Now())
		var peers []member
		for id, m := range n.members {
			// The nodes alive when NATS was last reached.
			if id != n.o.NodeID && m.received.After(n.failSince.Add(-n.t.ttl)) {
				peers = append(peers, m)
			}
		}
		n.mu.Unlock()
		if !failing {
			continue
		}
		v := n.ask(ctx, peers)
		n.mu.Lock()
		if v.hold != n.verdict.hold || n.verdict.at.IsZero() {
			n.o.Log.Warn("cluster: cut off from NATS", "node", n.o.NodeID, "keep_cameras", v.hold, "why", v.why)
		}
		n.verdict = v
		n.mu.Unlock()
	}
}

// ask probes every peer at once. A peer that says it reaches NATS is
// asked again a moment later: a NATS server that just went down is
// noticed by its clients a few milliseconds apart.
func (n *Node) ask(ctx context.Context, peers []member) verdict {
	v := verdict{at: time.Now(), hold: true, why: "no other node"}
	if len(peers) > 0 {
		v.why = "NATS is out of reach for every node too"
	}
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for _, p := range peers {
		wg.Go(func() {
			okFor, err := n.probe(ctx, p)
			if err == nil && okFor >= n.t.settle/2 {
				select {
				case <-ctx.Done():
				case <-time.After(reaskAfter):
				}
				okFor, err = n.probe(ctx, p)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				v.hold, v.why = false, fmt.Sprintf("node %s does not answer (%v): it may reach NATS", p.Node, err)
			case okFor >= n.t.settle/2:
				v.hold, v.why = false, fmt.Sprintf("node %s reaches NATS", p.Node)
			}
		})
	}
	wg.Wait()
	return v
}

// reaskAfter is how long a peer that reaches NATS gets to notice that it
// does not, before it is believed.
const reaskAfter = 100 * time.Millisecond

// probe asks a peer how long it has reached NATS.
func (n *Node) probe(ctx context.Context, p member) (time.Duration, error) {
	url := p.PeerURL
	if url == "" {
		url = p.PublicURL
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/healthz", nil)
	if err != nil {
		return 0, err
	}
	resp, err := n.o.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var h struct {
		Cluster *Health `json:"cluster"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h); err != nil || h.Cluster == nil {
		return 0, fmt.Errorf("%s answered %s without its cluster state", url, resp.Status)
	}
	if h.Cluster.Node != p.Node {
		return 0, fmt.Errorf("%s is node %q, not %q", url, h.Cluster.Node, p.Node)
	}
	return time.Duration(h.Cluster.NATSOKFor * float64(time.Second)), nil
}
