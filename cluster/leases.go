package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func (n *Node) value() []byte {
	data, _ := json.Marshal(leaseValue{Node: n.o.NodeID, Instance: n.instance})
	return data
}

// renewal is one lease's renewal on its way.
type renewal struct {
	l   *lease
	fut jetstream.PubAckFuture
}

// renew rewrites every lease this node holds when due, all at once
// (asynchronous publishes), each only if its revision is still the one
// this node wrote last.
func (n *Node) renew(ctx context.Context, now time.Time) {
	n.mu.Lock()
	if now.Sub(n.lastRenew) < n.t.renew {
		n.mu.Unlock()
		return
	}
	n.lastRenew = now
	var ls []*lease
	for _, l := range n.held {
		if !l.gone {
			ls = append(ls, l) // a lease being handed over is kept until its Serve returned
		}
	}
	n.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	value := n.value()
	sent := time.Now()
	var (
		pending  []renewal
		conflict []*lease
		failed   bool
	)
	for _, l := range ls {
		msg := &nats.Msg{Subject: "$KV." + leaseBucket + "." + l.key, Data: value}
		fut, err := n.js.PublishMsgAsync(msg, jetstream.WithExpectLastSequencePerSubject(n.revision(l)))
		if err != nil {
			failed = true
			continue
		}
		pending = append(pending, renewal{l, fut})
	}
	timeout := time.NewTimer(n.t.opTimeout)
	defer timeout.Stop()
wait:
	for _, r := range pending {
		select {
		case ack := <-r.fut.Ok():
			n.renewed(r.l, ack.Sequence, sent)
		case err := <-r.fut.Err():
			if isConflict(err) {
				conflict = append(conflict, r.l)
			} else {
				failed = true
			}
		case <-timeout.C:
			failed = true
			break wait
		case <-ctx.Done():
			return
		}
	}
	n.observe("renew", sent)
	if !failed {
		n.wrote(time.Now())
	}
	for _, l := range conflict {
		n.reclaim(ctx, l)
	}
}

func (n *Node) revision(l *lease) uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return l.rev
}

// isConflict: the key's last revision is not the one expected.
func isConflict(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// reclaim settles a renewal that found another revision: the lease expired
// (NATS was out of reach for longer than its TTL) and is claimed again if
// free; written by this process (a late renewal got through) and kept; or
// taken by another node, and dropped.
func (n *Node) reclaim(ctx context.Context, l *lease) {
	n.mu.Lock()
	gone := l.gone
	n.mu.Unlock()
	if gone {
		return // stopped meanwhile: claiming it would hold it for nobody
	}
	ctx, cancel := context.WithTimeout(ctx, n.t.opTimeout)
	defer cancel()
	e, err := n.leases.Get(ctx, l.key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
		sent := time.Now()
		rev, err := n.leases.Create(ctx, l.key, n.value())
		switch {
		case err == nil:
			n.renewed(l, rev, sent)
			n.o.Log.Info("cluster: lease had expired while NATS was out of reach; claimed again", "node", n.o.NodeID, "key", l.key)
		case errors.Is(err, jetstream.ErrKeyExists):
			n.mu.Lock()
			n.drop(l, "another node took it while NATS was out of reach")
			n.mu.Unlock()
		}
	case err != nil:
		// NATS trouble: the lease's deadline decides.
	default:
		var v leaseValue
		decode(e.Value(), &v)
		n.mu.Lock()
		if v.Instance == n.instance {
			l.rev = e.Revision()
		} else {
			n.drop(l, "taken by node "+v.Node)
		}
		n.mu.Unlock()
	}
}

// renewed records a successful write of a lease, sent at sent.
func (n *Node) renewed(l *lease, rev uint64, sent time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l.rev, l.renewed, l.blind = rev, sent, false
	if !l.gone {
		l.watchdog.Reset(time.Until(n.deadline(l)))
	}
}

// deadline is when a lease must be given up: a margin before it can
// expire at the server; n.mu held.
func (n *Node) deadline(l *lease) time.Time { return l.renewed.Add(n.t.ttl - n.t.margin) }

// expire runs at a lease's deadline (its watchdog): it gives the lease up
// unless it was renewed meanwhile or no other node could take it
// (holdBlind, asked again shortly).
func (n *Node) expire(l *lease) {
	now := time.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case l.gone:
	case now.Before(n.deadline(l)):
		l.watchdog.Reset(n.deadline(l).Sub(now))
	case l.releasing:
		l.gone = true // still stopping: the lease will not wait for it
	case n.holdBlind(now):
		l.blind = true
		l.watchdog.Reset(probeEvery)
	case l.blind && n.natsOK(now) && now.Sub(n.okSince) < n.t.settle/4:
		// NATS is back after an outage for every node, and this lease's
		// claim again is on its way (reclaim); nobody takes a lease
		// before settle after reaching NATS again.
		l.watchdog.Reset(n.t.margin / 10)
	case n.awaitingVerdict(now) && now.Before(l.renewed.Add(n.t.ttl-n.t.margin/4)):
		// The peers are being asked: wait for them within the margin.
		l.watchdog.Reset(n.t.margin / 10)
	default:
		n.drop(l, "its lease could not be renewed, and another node may take it")
	}
}

// reap finishes leases whose Serve has returned: a handed-over lease is
// deleted, so that the next node takes it at once; a lost one is forgotten.
func (n *Node) reap(ctx context.Context) {
	n.mu.Lock()
	var done []*lease
	for _, l := range n.held {
		select {
		case <-l.done:
			done = append(done, l)
		default:
		}
	}
	n.mu.Unlock()
	for _, l := range done {
		if l.releasing && !l.gone {
			dctx, cancel := context.WithTimeout(ctx, n.t.opTimeout)
			err := n.leases.Delete(dctx, l.key, jetstream.LastRevision(n.revision(l)))
			cancel()
			if err != nil {
				n.o.Log.Warn("cluster: handing over: lease not deleted, it will expire", "key", l.key, "err", err)
			} else {
				n.o.Log.Info("cluster: lease handed over", "node", n.o.NodeID, "key", l.key)
			}
		}
		n.mu.Lock()
		l.watchdog.Stop()
		delete(n.held, l.key)
		n.mu.Unlock()
	}
}

// rebalance hands over the resources placed on other ready nodes and takes
// those placed here, and those nobody has held for a while (their placed
// node does not take them) in rank order.
func (n *Node) rebalance(ctx context.Context, now time.Time) {
	n.mu.Lock()
	live := n.live(now)
	names := make([]string, len(live))
	ready := map[string]bool{}
	var readyNames []string
	heldBy := map[string]string{}
	for i, m := range live {
		names[i] = m.Node
		if m.Ready {
			ready[m.Node] = true
			readyNames = append(readyNames, m.Node)
		}
		for _, k := range m.Held {
			heldBy[k] = m.Node
		}
	}
	if !slices.Equal(names, n.placed.nodes) {
		n.placed = placement{nodes: names, owner: Place(n.keys, names)}
	}
	self := n.o.NodeID
	for key, l := range n.held {
		if owner := n.placed.owner[key]; !l.gone && !l.releasing && owner != self && ready[owner] {
			l.releasing = true
			l.cancel()
			n.handed++
			n.o.Log.Info("cluster: handing over", "node", self, "key", key, "to", owner)
		}
	}
	var want []string
	for _, key := range n.keys {
		if _, mine := n.held[key]; mine {
			continue
		}
		if n.placed.owner[key] == self {
			want = append(want, key)
			continue
		}
		if heldBy[key] != "" {
			delete(n.orphaned, key)
			continue
		}
		since, ok := n.orphaned[key]
		if !ok {
			n.orphaned[key] = now
			continue
		}
		rank := slices.Index(Rank(key, readyNames), self)
		if rank >= 0 && now.Sub(since) > n.t.orphan+time.Duration(rank)*n.t.ttl/2 {
			want = append(want, key)
		}
	}
	n.mu.Unlock()
	// At once: a step must not wait on NATS for each.
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxAcquiring)
	for _, key := range want {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			n.acquire(ctx, key)
		})
	}
	wg.Wait()
}

// maxAcquiring bounds the lease claims in flight at once.
const maxAcquiring = 32

// acquire takes key's lease if it is free and starts serving it.
func (n *Node) acquire(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(ctx, n.t.opTimeout)
	defer cancel()
	sent := time.Now()
	rev, err := n.leases.Create(ctx, key, n.value())
	n.observe("acquire", sent)
	if err != nil {
		return // held by another node, or NATS trouble: the heartbeat tells
	}
	n.start(key, rev, sent)
}
