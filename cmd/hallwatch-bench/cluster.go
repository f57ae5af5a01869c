package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/internal/natstest"
	"github.com/hallwatch/hallwatch/internal/pgtest"
	"github.com/hallwatch/hallwatch/internal/sseclient"
	"github.com/hallwatch/hallwatch/store"
)

// Cluster targets (from the issue).
const (
	clusterNodes      = 3
	targetFailover    = 30 * time.Second
	targetBalance     = 0.10
	targetFanout      = 200 * time.Millisecond
	clusterMetricsKey = "bench-cluster-metrics-token"
	camerasPerCenter  = 5
)

// clusterRun is three hallwatch nodes on one PostgreSQL and one NATS.
type clusterRun struct {
	b     *bench
	cfg   *config.Config // shared part
	ids   []string
	nodes []*clusterChild
}

type clusterChild struct {
	id  string
	cfg *config.Config
	dir string
	*child
}

// runCluster measures a three-node cluster over b.clusterCameras replay
// cameras (analysed, small): how evenly the leases spread, how fast a live
// message reaches the other nodes, the database's and NATS's latency, and
// how long the cameras of a killed node take to be live on the others (two
// kills; the first node killed rejoins in between).
func (b *bench) runCluster(ctx context.Context) ([]row, error) {
	const sc = "cluster"
	pg, err := pgtest.New()
	if err != nil {
		return skip(sc, err)
	}
	defer pg.Remove()
	nats, err := natstest.New(natstest.Options{})
	if err != nil {
		return skip(sc, err)
	}
	defer nats.Remove()
	dsn, err := pg.CreateDB(ctx, "hallwatch")
	if err != nil {
		return nil, err
	}

	b.logf("cluster: encoding %d cameras' loops (%dx%d)", b.clusterCameras, b.clusterProfile.Width, b.clusterProfile.Height)
	var specs []demo.CameraSpec
	r := &clusterRun{b: b}
	for i := range b.clusterCameras {
		id := fmt.Sprintf("cam%03d", i+1)
		r.ids = append(r.ids, id)
		specs = append(specs, spec(id, b.clusterProfile, busyScene(int64(500+i))))
	}
	cams, err := startCameras(specs)
	if err != nil {
		return nil, err
	}
	defer cams.Close()
	r.cfg = config.Default()
	r.cfg.Storage = config.Storage{Driver: store.DriverPostgres, DSN: dsn}
	r.cfg.Auth.MetricsToken = clusterMetricsKey
	r.cfg.Detector.Kind = "motion"
	var centers []config.Center
	for i, id := range r.ids {
		if i%camerasPerCenter == 0 {
			centers = append(centers, config.Center{ID: fmt.Sprintf("center%02d", i/camerasPerCenter+1), Name: fmt.Sprintf("center %d", i/camerasPerCenter+1)})
		}
		cam := config.Camera{ID: id, Name: id, URL: cams.cam.URL(id), Transport: "tcp", Analytics: cams.cam.Analytics(id)}
		centers[len(centers)-1].Cameras = append(centers[len(centers)-1].Cameras, cam)
	}
	r.cfg.Districts = []config.District{{ID: "district", Name: "district", Centers: centers}}

	b.logf("cluster: starting %d nodes", clusterNodes)
	for i := range clusterNodes {
		n, err := r.start(ctx, fmt.Sprintf("node%d", i+1), nats.URL())
		if err != nil {
			return nil, err
		}
		defer n.Stop()
		r.nodes = append(r.nodes, n)
	}
	began := time.Now()
	if err := r.waitSpread(ctx, r.nodes, 120*time.Second); err != nil {
		return nil, err
	}
	b.logf("cluster: %d cameras live and spread after %v", len(r.ids), time.Since(began).Round(time.Millisecond))
	var rows []row
	rows = append(rows, r.balanceRow(sc, r.nodes, "3 nodes, after start"))

	// Live messages: SSE on every node for the window; each message's
	// arrival on the other nodes against its arrival on its own.
	b.logf("cluster: warm-up %v, then live messages for %v", b.analyticsWarmup, 2*b.window)
	if err := sleep(ctx, b.analyticsWarmup); err != nil {
		return nil, err
	}
	before := r.histograms(ctx)
	fan, err := r.fanOut(ctx, 2*b.window)
	if err != nil {
		return nil, err
	}
	rows = append(rows, fan...)
	rows = append(rows, r.latencyRows(sc, before, r.histograms(ctx), 2*b.window)...)

	// Failover twice: kill node3, measure, let it rejoin; kill node2.
	var moved []time.Duration
	for round, victim := range []int{2, 1} {
		took, err := r.failover(ctx, victim)
		if err != nil {
			return rows, err
		}
		moved = append(moved, took...)
		if round == 0 {
			b.logf("cluster: %s rejoins", r.nodes[victim].id)
			joined := time.Now()
			n, err := r.start(ctx, r.nodes[victim].id, nats.URL())
			if err != nil {
				return rows, err
			}
			defer n.Stop()
			r.nodes[victim] = n
			if err := r.waitSpread(ctx, r.nodes, 120*time.Second); err != nil {
				return rows, err
			}
			rows = append(rows, r.balanceRow(sc, r.nodes, fmt.Sprintf("3 nodes, %.1f s after the killed node rejoined", time.Since(joined).Seconds())))
		}
	}
	p95, worst := percentile(moved, 95), percentile(moved, 100)
	rows = append(rows, row{scenario: sc, measure: "failover p95 (kill -9 → live on another node)",
		value: fmt.Sprintf("%.1f s", p95.Seconds()), target: fmt.Sprintf("< %v", targetFailover), verdict: check(p95 < targetFailover),
		note: fmt.Sprintf("%d cameras moved in 2 kills; slowest %.1f s; lease TTL %v", len(moved), worst.Seconds(), r.cfg.Cluster.LeaseTTL)})
	var survivors []*clusterChild
	for i, n := range r.nodes {
		if i != 1 {
			survivors = append(survivors, n)
		}
	}
	rows = append(rows, r.balanceRow(sc, survivors, "2 nodes, after the second kill"))
	return rows, nil
}

func skip(sc string, err error) ([]row, error) {
	if errors.Is(err, pgtest.ErrAbsent) || errors.Is(err, natstest.ErrAbsent) {
		return []row{{scenario: sc, measure: "cluster", value: "-", verdict: skipped, note: err.Error()}}, nil
	}
	return nil, err
}

// start runs node id of the cluster.
func (r *clusterRun) start(ctx context.Context, id, natsURL string) (*clusterChild, error) {
	dir, err := r.b.tempDir("cluster-" + id)
	if err != nil {
		return nil, err
	}
	own, err := newConfig(dir)
	if err != nil {
		return nil, err
	}
	cfg := *r.cfg
	cfg.HTTP, cfg.WebRTC = own.HTTP, own.WebRTC
	cfg.Cluster = config.Default().Cluster
	cfg.Cluster.NATSURL, cfg.Cluster.NodeID, cfg.Cluster.PublicURL = natsURL, id, "http://"+own.HTTP.Listen
	r.cfg.Cluster.LeaseTTL = cfg.Cluster.LeaseTTL
	c, err := launchChild(ctx, r.b.binary, dir, &cfg)
	if err != nil {
		return nil, err
	}
	return &clusterChild{id: id, cfg: &cfg, dir: dir, child: c}, nil
}

// view is what a node's /api/cluster says.
type view struct {
	Held    []string `json:"held"`
	Members []struct {
		Node   string `json:"node"`
		Leases int    `json:"leases"`
	} `json:"members"`
}

func (n *clusterChild) view(ctx context.Context) (view, error) {
	var v view
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.base+"/api/cluster", nil)
	if err != nil {
		return v, err
	}
	req.Header.Set("Authorization", "Bearer "+clusterMetricsKey)
	resp, err := n.http.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("%s/api/cluster: %s", n.base, resp.Status)
	}
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

// cameras returns the cameras a node runs.
func (n *clusterChild) cameras(ctx context.Context) []string {
	v, err := n.view(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, k := range v.Held {
		if id, ok := strings.CutPrefix(k, "camera/"); ok {
			out = append(out, id)
		}
	}
	return out
}

// waitSpread waits until the nodes run every camera between them, evenly,
// and every camera is live.
func (r *clusterRun) waitSpread(ctx context.Context, nodes []*clusterChild, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	share := (len(r.ids) + len(nodes) - 1) / len(nodes)
	var last string
	for time.Now().Before(deadline) {
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
		var all []string
		even := true
		for _, n := range nodes {
			cams := n.cameras(ctx)
			even = even && len(cams) >= share-1 && len(cams) <= share
			all = append(all, cams...)
		}
		slices.Sort(all)
		if !even || !slices.Equal(all, r.ids) {
			last = fmt.Sprintf("%d of %d cameras held, not evenly", len(all), len(r.ids))
			continue
		}
		st, err := nodes[0].cameraStates(ctx)
		if err != nil {
			last = err.Error()
			continue
		}
		live := 0
		for _, id := range r.ids {
			if st[id].State == "live" {
				live++
			}
		}
		if live == len(r.ids) {
			return nil
		}
		last = fmt.Sprintf("%d of %d cameras live", live, len(r.ids))
	}
	return fmt.Errorf("cluster not spread after %v: %s", limit, last)
}

// balanceRow: each node's camera leases against an even share.
func (r *clusterRun) balanceRow(sc string, nodes []*clusterChild, when string) row {
	even := float64(len(r.ids)) / float64(len(nodes))
	var counts []string
	worst := 0.0
	for _, n := range nodes {
		c := len(n.cameras(context.Background()))
		counts = append(counts, fmt.Sprintf("%s %d", n.id, c))
		worst = max(worst, math.Abs(float64(c)-even)/even)
	}
	return row{scenario: sc, measure: "leases off an even share (" + when + ")", value: fmt.Sprintf("%.1f %%", 100*worst),
		target: fmt.Sprintf("≤ %.0f %%", 100*targetBalance), verdict: check(worst <= targetBalance),
		note: strings.Join(counts, ", ") + fmt.Sprintf(" of %d cameras", len(r.ids))}
}

// arrival is a message seen on a node's event stream.
type arrival struct {
	stream string // the node whose stream delivered it
	origin string // the node it comes from
	at     time.Time
}

// fanOut follows every node's event stream for window and returns the
// delay from a message's arrival on its own node to its arrival on the
// others.
func (r *clusterRun) fanOut(ctx context.Context, window time.Duration) ([]row, error) {
	const sc = "cluster"
	ctx, cancel := context.WithTimeout(ctx, window)
	defer cancel()
	var (
		mu   sync.Mutex
		seen = map[string][]arrival{} // message → arrivals, one per node
		wg   sync.WaitGroup
		errs = make([]error, len(r.nodes))
	)
	cpu0 := make([]procSample, len(r.nodes))
	for i, n := range r.nodes {
		cpu0[i], _ = n.sample()
		wg.Go(func() {
			errs[i] = n.follow(ctx, func(m eventbus.Message, at time.Time) {
				origin := m.Node
				if origin == "" {
					origin = n.id
				}
				key := m.Type + "|" + m.Camera + "|" + m.Time.Format(time.RFC3339Nano) + "|" + string(m.Data)
				mu.Lock()
				seen[key] = append(seen[key], arrival{stream: n.id, origin: origin, at: at})
				mu.Unlock()
			})
		})
	}
	wg.Wait()
	var perNode []string
	for i, n := range r.nodes {
		if s, err := n.sample(); err == nil {
			perNode = append(perNode, fmt.Sprintf("%s %.2f", n.id, cores(cpu0[i], s)))
		}
	}
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
	}
	var delays []time.Duration
	complete := 0
	for _, as := range seen {
		delays = append(delays, fanDelays(as)...)
		if len(as) == len(r.nodes) {
			complete++
		}
	}
	p50, p99 := percentile(delays, 50), percentile(delays, 99)
	return []row{
		{scenario: sc, measure: "live message fan-out p99 (its node → another node's page)", value: ms(p99),
			target: "< " + ms(targetFanout), verdict: check(len(delays) > 0 && p99 < targetFanout),
			note: fmt.Sprintf("p50 %s; %d messages in %v, %d seen on all %d nodes, %d delays", ms(p50), len(seen), window, complete, len(r.nodes), len(delays))},
		{scenario: sc, measure: "cores per node (analysing and relaying its cameras)", value: strings.Join(perNode, ", "), verdict: info,
			note: fmt.Sprintf("%d cameras %dx%d %d fps, all analysed (motion)", len(r.ids), r.b.clusterProfile.Width, r.b.clusterProfile.Height, r.b.clusterProfile.FPS)},
	}, nil
}

// fanDelays returns, for one message, each other node's arrival minus the
// arrival on the node it comes from (none if that was not seen).
func fanDelays(as []arrival) []time.Duration {
	i := slices.IndexFunc(as, func(a arrival) bool { return a.stream == a.origin })
	if i < 0 {
		return nil
	}
	var out []time.Duration
	for j, a := range as {
		if j != i {
			out = append(out, a.at.Sub(as[i].at))
		}
	}
	return out
}

// follow reads the node's event stream until ctx ends.
func (n *clusterChild) follow(ctx context.Context, got func(eventbus.Message, time.Time)) error {
	return sseclient.Follow(ctx, n.base+"/api/events", n.auth, func(data []byte) {
		at := time.Now()
		var m eventbus.Message
		if json.Unmarshal(data, &m) == nil {
			got(m, at)
		}
	})
}

// clusterLatencies are the histograms latencyRows reports.
var clusterLatencies = []struct{ name, measure, note string }{
	{"hallwatch_store_write_seconds", "PostgreSQL write p99 (a batch of events)", "hallwatch_store_write_seconds"},
	{`hallwatch_cluster_nats_seconds{op="renew"`, "NATS lease renewal p99 (all a node's leases at once)", "hallwatch_cluster_nats_seconds{op=renew}"},
	{`hallwatch_cluster_nats_seconds{op="heartbeat"`, "NATS heartbeat p99 (a key-value write)", "hallwatch_cluster_nats_seconds{op=heartbeat}"},
}

// histograms reads the clusterLatencies' buckets, summed over the nodes.
func (r *clusterRun) histograms(ctx context.Context) []map[float64]float64 {
	out := make([]map[float64]float64, len(clusterLatencies))
	for i, l := range clusterLatencies {
		out[i] = map[float64]float64{}
		for _, n := range r.nodes {
			if err := n.histogram(ctx, l.name, out[i]); err != nil {
				r.b.logf("cluster: %s: %v", l.name, err)
			}
		}
	}
	return out
}

// latencyRows reports the p99 of PostgreSQL batch writes and NATS
// operations over all nodes during a window, from their metrics.
func (r *clusterRun) latencyRows(sc string, before, after []map[float64]float64, window time.Duration) []row {
	var out []row
	for i, l := range clusterLatencies {
		delta := map[float64]float64{}
		for b, n := range after[i] {
			delta[b] = n - before[i][b]
		}
		p99, count := deltaQuantile(delta, 0.99)
		out = append(out, row{scenario: sc, measure: l.measure, value: "≤ " + ms(p99), verdict: info,
			note: fmt.Sprintf("%s over the %v window, all nodes: %.0f observations; the bucket's upper bound", l.note, window, count)})
	}
	return out
}

// histogram adds the cumulative bucket counts of a histogram (name with
// any leading labels, without the closing brace) from the node's metrics.
func (n *clusterChild) histogram(ctx context.Context, name string, buckets map[float64]float64) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.base+"/metrics", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+clusterMetricsKey)
	resp, err := n.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	base, labels, _ := strings.Cut(name, "{")
	prefix := base + "_bucket{"
	if labels != "" {
		prefix += labels + ","
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), prefix)
		if !ok {
			continue
		}
		le, after, ok := strings.Cut(strings.TrimPrefix(rest, `le="`), `"} `)
		if !ok {
			continue
		}
		bound, err1 := strconv.ParseFloat(le, 64)
		count, err2 := strconv.ParseFloat(strings.TrimSpace(after), 64)
		if err1 == nil && err2 == nil {
			buckets[bound] += count
		}
	}
	return sc.Err()
}

// deltaQuantile of a cumulative histogram: the upper bound of the bucket that
// holds it (+Inf counts as the largest finite bound), and the total count.
func deltaQuantile(buckets map[float64]float64, q float64) (time.Duration, float64) {
	bounds := make([]float64, 0, len(buckets))
	for b := range buckets {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	if len(bounds) == 0 {
		return 0, 0
	}
	total := buckets[bounds[len(bounds)-1]]
	for i, b := range bounds {
		if buckets[b] >= q*total {
			if math.IsInf(b, 1) && i > 0 {
				b = bounds[i-1]
			}
			return time.Duration(b * float64(time.Second)), total
		}
	}
	return 0, total
}

// failover kills node i and returns, for each of its cameras, the time
// until it is live on another node.
func (r *clusterRun) failover(ctx context.Context, i int) ([]time.Duration, error) {
	victim := r.nodes[i]
	var survivors []*clusterChild
	for j, n := range r.nodes {
		if j != i {
			survivors = append(survivors, n)
		}
	}
	moving := victim.cameras(ctx)
	r.b.logf("cluster: kill -9 %s (%d cameras)", victim.id, len(moving))
	killed := time.Now()
	victim.Kill()
	live := map[string]time.Duration{}
	deadline := killed.Add(3 * targetFailover)
	for len(live) < len(moving) && time.Now().Before(deadline) {
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
		for _, n := range survivors {
			held := n.cameras(ctx)
			st, err := n.cameraStates(ctx)
			if err != nil {
				continue
			}
			for _, id := range held {
				if _, done := live[id]; !done && slices.Contains(moving, id) && st[id].State == "live" {
					live[id] = time.Since(killed)
				}
			}
		}
	}
	if len(live) < len(moving) {
		return nil, fmt.Errorf("%d of %s's %d cameras not live on another node %v after the kill", len(moving)-len(live), victim.id, len(moving), 3*targetFailover)
	}
	out := make([]time.Duration, 0, len(live))
	for _, d := range live {
		out = append(out, d)
	}
	r.b.logf("cluster: %s's cameras live elsewhere after %.1f..%.1f s", victim.id, percentile(out, 0).Seconds(), percentile(out, 100).Seconds())
	return out, nil
}
