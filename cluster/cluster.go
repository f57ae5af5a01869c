// Package cluster shares resources (cameras, notifiers) among hallwatch
// nodes through NATS JetStream: each resource is held by exactly one node
// at a time under a lease, a key in a key-value bucket whose writes expire
// after the lease TTL (the bucket's max age: NATS 2.9, as Debian ships it,
// has no per-key TTL, and needs none here). The holder renews its leases
// by compare-and-set on their revision, so two nodes can never both
// believe a write of theirs holds a resource.
//
// Placement is rendezvous hashing with bounded loads (Place) over the
// nodes alive in a second bucket, where every node writes a heartbeat
// record. Every node computes the same placement; a node takes the
// resources placed on it once their leases are free, and hands over (stops,
// then deletes the lease) those placed elsewhere once that node is ready.
// A node runs a resource it holds with Options.Serve under a context that
// ends when it loses the lease; it deletes the lease only after Serve has
// returned, so the next holder never overlaps it.
//
// Losing NATS: a node whose writes fail keeps its resources while no other
// node could take them. It asks its peers over HTTP (their /healthz): if
// each answers and none has reached NATS for settle/2, NATS is down for
// everyone and nobody can take a lease, so live view and analysis go on.
// Otherwise (a peer reaches NATS, or a peer does not answer) it stops each
// resource before its lease can expire at the server. Back on NATS, it
// renews at once (claiming again what expired meanwhile) and stops what
// another node took; a node (re)joining takes nothing new for settle, so
// that the others' heartbeats are in before it judges who is alive.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Bucket names in JetStream.
const (
	leaseBucket = "hallwatch_leases"
	nodeBucket  = "hallwatch_nodes"
)

// Options configures a Node.
type Options struct {
	// NATSURL is the NATS server (several comma-separated); SafeURL is the
	// same with credentials masked, for messages.
	NATSURL, SafeURL string
	// NodeID names this node; PublicURL is where viewers reach it, PeerURL
	// where the other nodes do.
	NodeID, PublicURL, PeerURL string
	// LeaseTTL is a lease's life without renewal (the same on every node).
	LeaseTTL time.Duration
	// Replicas of the buckets (NATS servers keeping them).
	Replicas int
	// Keys are the resources shared, "group/id" (camera/hall-1,
	// notifier/wecom): each group is spread evenly on its own.
	Keys []string
	// Serve runs a resource this node holds until ctx ends (lease lost,
	// handed over, shutdown). It is started again, after a pause, if it
	// returns before.
	Serve func(ctx context.Context, key string) error
	Log   *slog.Logger
	// Observe, if set, times NATS operations: op is renew, acquire or
	// heartbeat.
	Observe func(op string, d time.Duration)
	// Client asks peers whether they reach NATS; default: 1 s timeout.
	Client *http.Client
}

// Node is this process's place in the cluster.
type Node struct {
	o        Options
	t        timing
	instance string // this process: a restarted node is a new holder
	started  time.Time
	keys     []string
	keysHash string

	nc     *nats.Conn
	js     jetstream.JetStream
	leases jetstream.KeyValue
	nodes  jetstream.KeyValue

	rewatch chan struct{} // restart the membership watcher; capacity 1

	// pingMu guards the last answer of the NATS server to a ping (Health).
	pingMu sync.Mutex
	pingAt time.Time
	pingOK bool
	askNow chan struct{} // NATS writes began failing: ask the peers now; capacity 1

	mu                  sync.Mutex
	held                map[string]*lease
	members             map[string]member // by node id, self included once echoed
	synced              bool              // the watcher delivered the initial records
	echoed              time.Time         // our own record last came back through the watcher
	lastBeat, lastRenew time.Time
	// okSince: NATS writes have succeeded since then (zero while they
	// fail); lastOK: the last one that did; failSince: when they began
	// failing. See natsOK.
	okSince, lastOK, failSince time.Time
	verdict                    verdict // the peers' answer while NATS fails for us
	orphaned                   map[string]time.Time
	placed                     placement
	// gained, handed and lost count leases taken, handed over and lost.
	gained, handed, lost uint64
}

// timing derives every period from the lease TTL.
type timing struct {
	ttl       time.Duration
	tick      time.Duration // the run loop
	renew     time.Duration // leases and heartbeat
	margin    time.Duration // a lease is given up this long before it can expire
	settle    time.Duration // a (re)connected node takes nothing new before this
	orphan    time.Duration // a resource nobody holds this long is taken by the next node in rank
	opTimeout time.Duration // one NATS request
}

func newTiming(ttl time.Duration) timing {
	return timing{ttl: ttl, tick: ttl / 10, renew: ttl / 4, margin: ttl / 5, settle: 2 * ttl, orphan: 2 * ttl,
		opTimeout: max(ttl/5, 200*time.Millisecond)}
}

// lease is a resource this node holds, and its Serve.
type lease struct {
	key     string
	rev     uint64
	renewed time.Time // when the last successful write was sent
	cancel  context.CancelFunc
	done    chan struct{} // closed when Serve has returned for good
	// releasing: handed over, delete the lease once Serve returned; gone:
	// lost, forget it once Serve returned.
	releasing, gone bool
	// blind: kept past its deadline while NATS was down for every node
	// (holdBlind); cleared by the next successful write.
	blind bool
	// watchdog stops Serve at the lease's deadline, whatever the run loop
	// is doing (a slow NATS request, a starved process).
	watchdog *time.Timer
}

// leaseValue is what a lease key holds.
type leaseValue struct {
	Node     string `json:"node"`
	Instance string `json:"instance"`
}

// placement caches Place for one set of nodes.
type placement struct {
	nodes []string
	owner map[string]string
}

// New connects to NATS and prepares the buckets; errors name
// cluster.nats_url (or the key at fault) and say why. Run starts taking
// part.
func New(ctx context.Context, o Options) (*Node, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: time.Second}
	}
	if o.SafeURL == "" {
		o.SafeURL = "(hidden)"
	}
	if o.Replicas < 1 {
		o.Replicas = 1
	}
	id := make([]byte, 8)
	rand.Read(id)
	n := &Node{o: o, t: newTiming(o.LeaseTTL), instance: hex.EncodeToString(id), started: time.Now(),
		keys: slices.Sorted(slices.Values(o.Keys)), rewatch: make(chan struct{}, 1), askNow: make(chan struct{}, 1),
		held: map[string]*lease{}, members: map[string]member{}, orphaned: map[string]time.Time{}}
	n.keysHash = hashKeys(n.keys)
	if err := n.connect(ctx); err != nil {
		return nil, err
	}
	return n, nil
}

// Run takes part in the cluster until ctx ends, then stops every resource,
// releases the leases (so that other nodes take them at once) and leaves.
func (n *Node) Run(ctx context.Context) error {
	defer n.nc.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	loopCtx, stop := context.WithCancel(ctx)
	defer stop()
	wg.Go(func() { n.watchMembers(loopCtx) })
	wg.Go(func() { n.witness(loopCtx) })
	tick := time.NewTicker(n.t.tick)
	defer tick.Stop()
	for {
		n.step(ctx)
		select {
		case <-ctx.Done():
			stop()
			n.leave()
			return nil
		case <-tick.C:
		}
	}
}

// step is one round: heartbeat and renewals when due, leases that can no
// longer be kept given up, handovers finished, and resources taken.
func (n *Node) step(ctx context.Context) {
	now := time.Now()
	n.heartbeat(ctx, now)
	n.renew(ctx, now)
	n.reap(ctx)
	if n.ready(now) {
		n.rebalance(ctx, now)
	}
}

// ready: NATS has worked for settle and the nodes' records are in, so
// this node may take resources and hand them over.
func (n *Node) ready(now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.readyLocked(now)
}

func (n *Node) readyLocked(now time.Time) bool {
	return n.synced && n.natsOK(now) && now.Sub(n.okSince) >= n.t.settle
}

// natsOK reports whether NATS writes succeed: one did lately (a slow or
// lost write on a loaded machine is not an outage), and the connection
// is up; n.mu held.
func (n *Node) natsOK(now time.Time) bool {
	if !n.okSince.IsZero() && now.Sub(n.lastOK) > n.t.renew+n.t.opTimeout {
		n.failing(now)
	}
	return !n.okSince.IsZero()
}

// failing marks NATS writes as failing; n.mu held.
func (n *Node) failing(now time.Time) {
	if n.okSince.IsZero() {
		return
	}
	n.okSince, n.failSince = time.Time{}, now
	n.o.Log.Warn("cluster: NATS writes fail; asking the other nodes whether they reach it", "node", n.o.NodeID)
	select {
	case n.askNow <- struct{}{}:
	default:
	}
}

// wrote records a NATS write that succeeded.
func (n *Node) wrote(now time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lastOK = now
	if n.okSince.IsZero() {
		n.okSince, n.verdict = now, verdict{}
		n.o.Log.Info("cluster: NATS writes succeed", "node", n.o.NodeID)
	}
}

func (n *Node) observe(op string, began time.Time) {
	if n.o.Observe != nil {
		n.o.Observe(op, time.Since(began))
	}
}

// start runs key's Serve under a new lease record.
func (n *Node) start(key string, rev uint64, sent time.Time) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &lease{key: key, rev: rev, renewed: sent, cancel: cancel, done: make(chan struct{})}
	n.mu.Lock()
	l.watchdog = time.AfterFunc(time.Until(n.deadline(l)), func() { n.expire(l) })
	n.held[key] = l
	n.gained++
	delete(n.orphaned, key)
	n.mu.Unlock()
	n.o.Log.Info("cluster: lease taken", "node", n.o.NodeID, "key", key)
	go n.serve(ctx, l)
}

// serve runs Serve until the lease's context ends, again after a pause if
// it returns before.
func (n *Node) serve(ctx context.Context, l *lease) {
	defer close(l.done)
	for attempt := 1; ; attempt++ {
		err := n.o.Serve(ctx, l.key)
		if ctx.Err() != nil {
			return
		}
		n.o.Log.Error("cluster: serving stopped by itself; starting again", "key", l.key, "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Duration(attempt)*time.Second, 30*time.Second)):
		}
	}
}

// drop stops serving a lease this node no longer holds; n.mu held.
func (n *Node) drop(l *lease, why string) {
	if l.gone || l.releasing {
		return
	}
	l.gone = true
	l.cancel()
	n.lost++
	n.o.Log.Warn("cluster: lease lost; stopped", "node", n.o.NodeID, "key", l.key, "why", why)
}

// leave stops every resource, waits for them (bounded), and deletes this
// node's leases and record so that the others take over at once.
func (n *Node) leave() {
	n.mu.Lock()
	ls := make([]*lease, 0, len(n.held))
	for _, l := range n.held {
		l.watchdog.Stop()
		l.cancel()
		ls = append(ls, l)
	}
	n.mu.Unlock()
	deadline := time.After(5 * time.Second)
	for _, l := range ls {
		select {
		case <-l.done:
		case <-deadline:
			n.o.Log.Error("cluster: a resource did not stop in time; its lease is left to expire", "key", l.key)
			return
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, l := range ls {
		if !l.gone {
			n.leases.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
		}
	}
	n.nodes.Delete(ctx, n.o.NodeID)
}

func (n *Node) String() string { return fmt.Sprintf("node %s (%s)", n.o.NodeID, n.instance) }
