package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/internal/natstest"
	"github.com/hallwatch/hallwatch/internal/tcpproxy"
)

// testTTL is the lease TTL of these tests: the shortest allowed.
const testTTL = 2 * time.Second

// tracker records who serves what, as the resources would see it: it
// measures how long two nodes ever served one key at once.
type tracker struct {
	mu      sync.Mutex
	serving map[string]map[string]bool // key → nodes
	since   map[string]time.Time       // key → start of an overlap
	overlap time.Duration              // longest overlap
	starts  int
	stops   int
}

func newTracker() *tracker {
	return &tracker{serving: map[string]map[string]bool{}, since: map[string]time.Time{}}
}

func (tr *tracker) serve(node string) func(context.Context, string) error {
	return func(ctx context.Context, key string) error {
		tr.mu.Lock()
		if tr.serving[key] == nil {
			tr.serving[key] = map[string]bool{}
		}
		tr.serving[key][node] = true
		tr.starts++
		if len(tr.serving[key]) > 1 {
			tr.since[key] = time.Now()
		}
		tr.mu.Unlock()
		<-ctx.Done()
		// Stopping a camera takes a moment.
		time.Sleep(50 * time.Millisecond)
		tr.mu.Lock()
		delete(tr.serving[key], node)
		tr.stops++
		if s, ok := tr.since[key]; ok && len(tr.serving[key]) <= 1 {
			tr.overlap = max(tr.overlap, time.Since(s))
			delete(tr.since, key)
		}
		tr.mu.Unlock()
		return nil
	}
}

// counts returns how many keys each node serves, and how many keys are
// served by exactly one node.
func (tr *tracker) counts() (map[string]int, int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	per, once := map[string]int{}, 0
	for _, nodes := range tr.serving {
		for n := range nodes {
			per[n]++
		}
		if len(nodes) == 1 {
			once++
		}
	}
	return per, once
}

func (tr *tracker) events() (starts, stops int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.starts, tr.stops
}

func (tr *tracker) longestOverlap() time.Duration {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	o := tr.overlap
	for _, s := range tr.since {
		o = max(o, time.Since(s))
	}
	return o
}

// testNode is a Node running in the test, with its /healthz for peers.
type testNode struct {
	*Node
	http   *httptest.Server
	cancel context.CancelFunc
	done   chan error
}

type rig struct {
	t    *testing.T
	url  string
	keys []string
	tr   *tracker
}

func newRig(t *testing.T, url string, keys int) *rig {
	r := &rig{t: t, url: url, tr: newTracker()}
	for i := range keys {
		r.keys = append(r.keys, fmt.Sprintf("camera/hall-%02d", i+1))
	}
	r.keys = append(r.keys, "notifier/wecom")
	return r
}

func (r *rig) start(id string, natsURL ...string) *testNode {
	r.t.Helper()
	tn := &testNode{done: make(chan error, 1)}
	tn.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"status": "ok", "cluster": tn.Node.Health()})
	}))
	url := r.url
	if len(natsURL) > 0 {
		url = natsURL[0]
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testLog{r.t}, nil))
	}
	n, err := New(context.Background(), Options{NATSURL: url, SafeURL: url, NodeID: id, PublicURL: "http://" + id + ".example",
		PeerURL: tn.http.URL, LeaseTTL: testTTL, Keys: r.keys, Serve: r.tr.serve(id), Log: log})
	if err != nil {
		tn.http.Close()
		r.t.Fatal(err)
	}
	tn.Node = n
	ctx, cancel := context.WithCancel(context.Background())
	tn.cancel = cancel
	go func() { tn.done <- n.Run(ctx) }()
	r.t.Cleanup(tn.stop)
	return tn
}

// stop leaves the cluster as a node shutting down does.
func (tn *testNode) stop() {
	tn.cancel()
	<-tn.done
	tn.done <- nil
	tn.http.Close()
}

// kill ends the node as kill -9 does: no lease released, no record deleted.
func (tn *testNode) kill() {
	tn.nc.Close()
	tn.stop()
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) time.Duration {
	t.Helper()
	began := time.Now()
	for !cond() {
		if time.Since(began) > timeout {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(began)
}

// balanced: every key served by exactly one node, each of the nodes
// holding its share of the cameras (rounded up) and no node left out.
func (r *rig) balanced(nodes ...string) func() bool {
	return func() bool {
		per, once := r.tr.counts()
		if once != len(r.keys) {
			return false
		}
		cameras := len(r.keys) - 1
		share := (cameras + len(nodes) - 1) / len(nodes)
		for _, n := range nodes {
			if per[n] == 0 || per[n] > share+1 { // +1: the notifier
				return false
			}
		}
		return len(per) == len(nodes)
	}
}

// Three nodes spread twelve cameras four each; a killed node's cameras
// are served by the two others after its leases expire, never by two at
// once; a node joining takes its share back, with few moves.
func TestSpreadFailoverJoin(t *testing.T) {
	srv := natstest.Start(t)
	r := newRig(t, srv.URL(), 12)
	a, b, c := r.start("a"), r.start("b"), r.start("c")
	took := waitFor(t, "12 cameras spread on 3 nodes", 30*time.Second, r.balanced("a", "b", "c"))
	per, _ := r.tr.counts()
	t.Logf("spread in %v: %v", took.Round(time.Millisecond), per)

	c.kill()
	took = waitFor(t, "c's cameras served by a and b", 30*time.Second, r.balanced("a", "b"))
	per, _ = r.tr.counts()
	t.Logf("failover in %v (lease TTL %v): %v", took.Round(time.Millisecond), testTTL, per)
	if took < testTTL-testTTL/5 {
		t.Errorf("cameras moved %v after the kill, before the killed node's leases could expire (%v)", took, testTTL)
	}

	starts, _ := r.tr.events()
	r.start("d")
	waitFor(t, "d takes its share", 30*time.Second, r.balanced("a", "b", "d"))
	moves, _ := r.tr.events()
	moves -= starts
	per, _ = r.tr.counts()
	t.Logf("d joined: %d moves: %v", moves, per)
	if share := (12 + 2) / 3; moves > share+1+share/2 {
		t.Errorf("d joining moved %d resources; its share is about %d", moves, share)
	}
	if o := r.tr.longestOverlap(); o > 0 {
		t.Errorf("a key was served by two nodes at once for %v", o)
	}
	st := a.Stats()
	if st.Gained == 0 || st.Nodes != 3 || !st.NATSOK {
		t.Errorf("a's stats %+v", st)
	}
	var v View
	waitFor(t, "b's view to settle", 10*time.Second, func() bool {
		v = b.View()
		held := 0
		for _, m := range v.Members {
			held += m.Leases
		}
		return len(v.Members) == 3 && len(v.Unheld) == 0 && len(v.Held) == v.Leases && held == len(r.keys)
	})
	if url, self, ok := a.Owner(v.Held[0]); !ok || self || url != "http://b.example" {
		t.Errorf("a: owner of b's %s = %q self %v ok %v", v.Held[0], url, self, ok)
	}
}

// A node cut off from NATS while its peers reach it stops its cameras
// before its leases can expire; the others take them, never two at once.
// Back, it takes its share again once settled.
func TestPartitionedNodeStops(t *testing.T) {
	srv := natstest.Start(t)
	proxy, err := tcpproxy.New(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	r := newRig(t, srv.URL(), 9)
	r.start("a")
	r.start("b")
	c := r.start("c", "nats://"+proxy.Addr())
	waitFor(t, "9 cameras spread on 3 nodes", 30*time.Second, r.balanced("a", "b", "c"))

	proxy.Cut()
	took := waitFor(t, "c's cameras served by a and b", 30*time.Second, r.balanced("a", "b"))
	t.Logf("c cut off: its cameras moved in %v", took.Round(time.Millisecond))
	if h := c.Health(); h.NATS != "failing" || h.Leases != 0 {
		t.Errorf("c's health while cut off: %+v", h)
	}
	proxy.Restore()
	took = waitFor(t, "c takes its share again", 60*time.Second, r.balanced("a", "b", "c"))
	t.Logf("c back: settled in %v", took.Round(time.Millisecond))
	if o := r.tr.longestOverlap(); o > 0 {
		t.Errorf("a key was served by two nodes at once for %v", o)
	}
}

// NATS down for every node: nobody can take a lease, so every node keeps
// its cameras; back, the nodes claim their expired leases again and no
// camera moves.
func TestNATSOutageKeepsCameras(t *testing.T) {
	srv := natstest.Start(t)
	r := newRig(t, srv.URL(), 9)
	nodes := []*testNode{r.start("a"), r.start("b"), r.start("c")}
	waitFor(t, "9 cameras spread on 3 nodes", 30*time.Second, r.balanced("a", "b", "c"))
	before, _ := r.tr.counts()
	starts, stops := r.tr.events()

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every node to see NATS fail", 20*time.Second, func() bool {
		for _, n := range nodes {
			if n.Health().NATS != "failing" {
				return false
			}
		}
		return true
	})
	time.Sleep(3 * testTTL) // well past every lease's expiry
	if s, e := r.tr.events(); s != starts || e != stops {
		t.Fatalf("while NATS was down, %d cameras started and %d stopped; want none", s-starts, e-stops)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every node ready again", 30*time.Second, func() bool {
		for _, n := range nodes {
			if h := n.Health(); !h.Ready || h.Nodes != 3 {
				return false
			}
		}
		return true
	})
	time.Sleep(testTTL) // a round of placement
	after, _ := r.tr.counts()
	if s, e := r.tr.events(); s != starts || e != stops || !maps(before, after) {
		t.Errorf("after NATS returned: %d starts, %d stops, %v → %v; want no camera moved", s-starts, e-stops, before, after)
	}
	if o := r.tr.longestOverlap(); o > 0 {
		t.Errorf("a key was served by two nodes at once for %v", o)
	}
}

func maps(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Bad input at start: errors name the key at fault and why.
func TestStartErrors(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := func(url string) Options {
		return Options{NATSURL: url, SafeURL: "nats://***@" + strings.TrimPrefix(url, "nats://"), NodeID: "a", PublicURL: "http://a",
			LeaseTTL: testTTL, Serve: func(context.Context, string) error { return nil }, Log: log}
	}
	plain := natstest.Start(t, natstest.Options{NoJetStream: true})
	js := natstest.Start(t)
	for _, c := range []struct {
		name string
		o    Options
		want string
	}{
		{"nothing listens", opts("nats://127.0.0.1:1"), "cluster.nats_url: nats://***@127.0.0.1:1: cannot connect: "},
		{"no JetStream", opts(plain.URL()), "JetStream is not enabled on this NATS server"},
	} {
		_, err := New(context.Background(), c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		t.Logf("%s: %v", c.name, err)
	}

	// A node id another running node uses.
	r := newRig(t, js.URL(), 2)
	r.start("a")
	_, err := New(context.Background(), opts(js.URL()))
	if err == nil || !strings.Contains(err.Error(), `cluster.node_id: "a" is in use by another running node`) {
		t.Errorf("second node a: error %v", err)
	}
	// A lease TTL the cluster's buckets were not made with.
	o := opts(js.URL())
	o.NodeID, o.LeaseTTL = "b", 3*time.Second
	_, err = New(context.Background(), o)
	if err == nil || !strings.HasPrefix(err.Error(), "cluster.lease_ttl: is 3s here, but the cluster's bucket") {
		t.Errorf("lease TTL 3s: error %v", err)
	}
}
