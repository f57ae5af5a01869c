package service

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/cluster"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/internal/natstest"
	"github.com/hallwatch/hallwatch/internal/pgtest"
	"github.com/hallwatch/hallwatch/internal/sseclient"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/internal/whepclient"
	"github.com/hallwatch/hallwatch/store"
)

// clusterTTL is the lease TTL of the cluster tests: the shortest allowed.
const clusterTTL = 2 * time.Second

// clusterMetricsToken lets the tests read /metrics and /api/cluster.
const clusterMetricsToken = "cluster-test-metrics-token"

// clusterRig is a PostgreSQL server, a NATS server, simulated cameras and
// hallwatch nodes running as child processes of the test binary, so that
// a node can be killed with SIGKILL.
type clusterRig struct {
	t        *testing.T
	nats     *natstest.Server
	db       *store.Store
	cams     *demo.Camera
	truth    *truthLog
	cfg      *config.Config // what every node shares
	ids      []string       // camera ids
	token    string         // an admin's API token
	stopCams context.CancelFunc
	camsDone chan error
	camsFrom time.Time // the halls' scenes began
}

// clusterNode is one hallwatch node process.
type clusterNode struct {
	id, base string
	cmd      *exec.Cmd
	logs     *syncbuf.Buffer
	exited   chan error
}

// newClusterRig serves n simulated halls (one center each) and prepares
// the shared configuration; scene gives camera i's scene, analysed when
// analyse is set.
func newClusterRig(t *testing.T, n int, scene func(i int) demo.SceneOptions, analyse bool) *clusterRig {
	t.Helper()
	pg := pgtest.Start(t)
	ctx := context.Background()
	dsn, err := pg.CreateDB(ctx, "hallwatch")
	if err != nil {
		t.Fatal(err)
	}
	r := &clusterRig{t: t, nats: natstest.Start(t), truth: &truthLog{}}
	var specs []demo.CameraSpec
	var halls []demo.Hall
	for i := range n {
		id := fmt.Sprintf("hall-%d", i+1)
		r.ids = append(r.ids, id)
		specs = append(specs, demo.CameraSpec{ID: id, Scene: scene(i), GOP: time.Second, BitrateKbps: 400, OnTruth: r.truth.add})
		halls = append(halls, demo.Hall{District: "dongcheng", DistrictName: "东城区", Center: fmt.Sprintf("center-%d", i+1),
			CenterName: fmt.Sprintf("中心 %d", i+1), Camera: id, CameraName: fmt.Sprintf("大厅 %d", i+1)})
	}
	r.cams, err = demo.NewCamera(demo.CameraOptions{Addr: "127.0.0.1:0", Cameras: specs, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	// The nodes share the analysis state and the recordings, as on shared
	// storage (the README's Recording paragraph), in the test's directory.
	cfg.Storage = config.Storage{Driver: store.DriverPostgres, DSN: dsn}
	cfg.Record.Path = t.TempDir()
	cfg.Auth.MetricsToken = clusterMetricsToken
	// The motion detector: what these tests measure (handover, event
	// fan-out, counts against the truth) holds for either detector, and
	// three nodes running the shipped Yolo model on every camera starve a
	// loaded 2-core machine into analysis lag.
	cfg.Detector.Kind = "motion"
	// Cameras come and go in these tests: reconnect quickly.
	cfg.Ingest.BackoffMax = config.Duration(2 * time.Second)
	cfg.Ingest.ReadTimeout = config.Duration(3 * time.Second)
	r.cams.AddTo(cfg, halls)
	if !analyse {
		for _, ref := range cfg.Cameras() {
			ref.Camera.Analytics = nil
		}
	}
	r.cfg = cfg

	if r.db, err = store.OpenPostgres(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.db.Close() })
	accounts := auth.New(r.db, auth.OptionsFrom(cfg.Auth))
	u, err := accounts.EnsureUser(ctx, "cluster-admin", auth.RoleAdmin, auth.UserScope{}, "cluster-admin-password")
	if err != nil {
		t.Fatal(err)
	}
	if r.token, _, err = accounts.CreateToken(ctx, auth.Actor{Name: "test"}, u.ID, "cluster test"); err != nil {
		t.Fatal(err)
	}

	camCtx, stop := context.WithCancel(context.Background())
	r.stopCams, r.camsDone, r.camsFrom = stop, make(chan error, 1), time.Now()
	go func() { r.camsDone <- r.cams.Run(camCtx) }()
	t.Cleanup(r.stopCameras)
	return r
}

// stopCameras ends the simulated halls (once).
func (r *clusterRig) stopCameras() {
	r.stopCams()
	if err := <-r.camsDone; err != nil {
		r.t.Errorf("demo cameras: %v", err)
	}
	r.camsDone <- nil
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs a node reaching NATS at natsURL and waits until it serves HTTP.
func (r *clusterRig) start(id, natsURL string) *clusterNode {
	t := r.t
	t.Helper()
	cfg := *r.cfg
	port := freeTCPPort(t)
	cfg.HTTP.Listen = fmt.Sprintf("127.0.0.1:%d", port)
	cfg.WebRTC.UDPPort, cfg.WebRTC.TCPPort = freeUDPPort(t), 0
	cfg.WebRTC.IncludeLoopback, cfg.WebRTC.Interfaces = true, []string{"lo"}
	// Each node keeps its analysis state on its own disk, as deployed
	// (deploy/: the working directory of each node's container).
	cfg.Storage.StateDir = t.TempDir()
	cfg.Cluster = config.Cluster{NATSURL: natsURL, NodeID: id, PublicURL: fmt.Sprintf("http://127.0.0.1:%d", port),
		LeaseTTL: config.Duration(clusterTTL), Replicas: 1}
	data, err := yaml.Marshal(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), id+".yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	n := &clusterNode{id: id, logs: &syncbuf.Buffer{}, exited: make(chan error, 1)}
	n.cmd = exec.Command(os.Args[0], "-test.run=^$")
	n.cmd.Env = append(os.Environ(), nodeEnv+"="+path)
	n.cmd.Stderr = n.logs
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlive the test
	out, err := n.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				listening <- addr
			}
		}
	}()
	go func() { n.exited <- n.cmd.Wait() }()
	t.Cleanup(func() { n.stop(t) })
	select {
	case addr := <-listening:
		n.base = "http://" + addr
	case err := <-n.exited:
		n.exited <- err
		t.Fatalf("node %s exited at start (%v):\n%s", id, err, n.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("node %s did not start:\n%s", id, n.logs.String())
	}
	return n
}

// stop ends a node as `docker stop` does (SIGTERM, then SIGKILL), once.
func (n *clusterNode) stop(t *testing.T) {
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-n.exited:
		n.exited <- err
		if err != nil && !strings.Contains(err.Error(), "killed") {
			t.Errorf("node %s: %v", n.id, err)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("node %s did not stop on SIGTERM", n.id)
		n.kill()
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("node %s log:\n%s", n.id, tail(n.logs.String(), 60))
	}
}

// kill ends a node with SIGKILL: nothing is released, nothing flushed.
func (n *clusterNode) kill() {
	n.cmd.Process.Kill()
	err := <-n.exited
	n.exited <- err
}

func (n *clusterNode) running() bool {
	select {
	case err := <-n.exited:
		n.exited <- err
		return false
	default:
		return true
	}
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// get reads a node's JSON API as the admin (or, for /metrics and
// /api/cluster, the scraper); false when the node does not answer 200.
func (r *clusterRig) get(n *clusterNode, path string, v any) bool {
	req, _ := http.NewRequest(http.MethodGet, n.base+path, nil)
	token := r.token
	if path == "/api/cluster" {
		token = clusterMetricsToken
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	return json.NewDecoder(resp.Body).Decode(v) == nil
}

// held returns the cameras each node says it runs (its /api/cluster).
func (r *clusterRig) held(nodes ...*clusterNode) map[string][]string {
	out := map[string][]string{}
	for _, n := range nodes {
		var v cluster.View
		if !r.get(n, "/api/cluster", &v) {
			continue
		}
		for _, k := range v.Held {
			if id, ok := strings.CutPrefix(k, cameraKey); ok {
				out[n.id] = append(out[n.id], id)
			}
		}
	}
	return out
}

// spread reports whether the nodes run every camera between them, each
// once, each node its share (rounded up).
func (r *clusterRig) spread(nodes ...*clusterNode) (map[string][]string, bool) {
	held := r.held(nodes...)
	var all []string
	share := (len(r.ids) + len(nodes) - 1) / len(nodes)
	for _, n := range nodes {
		if len(held[n.id]) == 0 || len(held[n.id]) > share {
			return held, false
		}
		all = append(all, held[n.id]...)
	}
	slices.Sort(all)
	return held, slices.Equal(all, r.ids)
}

// owner returns the node among nodes running camera, if any.
func (r *clusterRig) owner(camera string, nodes ...*clusterNode) *clusterNode {
	held := r.held(nodes...)
	for _, n := range nodes {
		if slices.Contains(held[n.id], camera) {
			return n
		}
	}
	return nil
}

// states returns the ingest state of every camera as node n shows it.
func (r *clusterRig) states(n *clusterNode) map[string]string {
	var tree struct {
		Districts []struct {
			Centers []struct {
				Cameras []struct {
					ID     string `json:"id"`
					Status struct {
						State string `json:"state"`
					} `json:"status"`
				} `json:"cameras"`
			} `json:"centers"`
		} `json:"districts"`
	}
	out := map[string]string{}
	if !r.get(n, "/api/cameras", &tree) {
		return out
	}
	for _, d := range tree.Districts {
		for _, c := range d.Centers {
			for _, cam := range c.Cameras {
				out[cam.ID] = cam.Status.State
			}
		}
	}
	return out
}

// watch connects a viewer of camera through node n (which may redirect
// it to the node running the camera); it returns the session's URL.
func (r *clusterRig) watch(ctx context.Context, n *clusterNode, camera string) (*whepclient.Client, string, error) {
	var loc string
	header := http.Header{"Authorization": {"Bearer " + r.token}}
	v, err := whepclient.Connect(ctx, whepclient.HTTP(http.DefaultClient, n.base+"/whep/"+camera, header, &loc), whepclient.Options{})
	return v, loc, err
}

// metric returns the value of a metric without labels, or with these
// labels, from node n's /metrics.
func (r *clusterRig) metric(n *clusterNode, name, labels string) float64 {
	req, _ := http.NewRequest(http.MethodGet, n.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+clusterMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	want := name
	if labels != "" {
		want += "{" + labels + "}"
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), want+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return -1
}

// liveLog is what a node's event stream (SSE) delivered to one user.
type liveLog struct {
	mu     sync.Mutex
	msgs   []eventbus.Message
	cancel context.CancelFunc
	done   chan struct{}
	err    error // why the stream ended, once done
}

// listen opens node n's event stream with an API token and records its
// messages until close (or the node's end).
func (r *clusterRig) listen(n *clusterNode, token string) *liveLog {
	ctx, cancel := context.WithCancel(context.Background())
	l := &liveLog{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		l.err = sseclient.Follow(ctx, n.base+"/api/events", http.Header{"Authorization": {"Bearer " + token}}, func(data []byte) {
			var m eventbus.Message
			if json.Unmarshal(data, &m) == nil {
				l.mu.Lock()
				l.msgs = append(l.msgs, m)
				l.mu.Unlock()
			}
		})
	}()
	r.t.Cleanup(func() { l.close() })
	return l
}

// close ends the stream; an error is why it ended before (a refusal).
func (l *liveLog) close() error {
	l.cancel()
	<-l.done
	if errors.Is(l.err, context.Canceled) {
		return nil
	}
	return l.err
}

func (l *liveLog) all() []eventbus.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

// scopedToken creates a center manager of one center and its API token.
func (r *clusterRig) scopedToken(center string) string {
	r.t.Helper()
	ctx := context.Background()
	accounts := auth.New(r.db, auth.OptionsFrom(r.cfg.Auth))
	u, err := accounts.EnsureUser(ctx, "manager-"+center, auth.RoleCenterManager, auth.UserScope{Centers: []string{center}}, "manager-password-"+center)
	if err != nil {
		r.t.Fatal(err)
	}
	token, _, err := accounts.CreateToken(ctx, auth.Actor{Name: "test"}, u.ID, "cluster test")
	if err != nil {
		r.t.Fatal(err)
	}
	return token
}

// hookLog is a webhook notifier's endpoint: it counts the messages it
// receives per alert and state.
type hookLog struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen map[string]int // "alert_id state" → deliveries
}

func newHookLog(t *testing.T) *hookLog {
	h := &hookLog{seen: map[string]int{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			AlertID int64  `json:"alert_id"`
			State   string `json:"state"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.seen[fmt.Sprintf("%d %s", m.AlertID, m.State)]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// deliveries returns how often each alert's states were delivered.
func (h *hookLog) deliveries() map[int64]map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[int64]map[string]int{}
	for k, n := range h.seen {
		var id int64
		var state string
		fmt.Sscan(k, &id, &state)
		if out[id] == nil {
			out[id] = map[string]int{}
		}
		out[id][state] = n
	}
	return out
}

// checkNotified: every stored alert was announced, each change once,
// whichever node raised or resolved it; it waits (bounded) for the
// deliveries still on their way.
func (r *clusterRig) checkNotified(h *hookLog) {
	t := r.t
	list, err := r.db.Alerts(context.Background(), store.AlertQuery{})
	if err != nil {
		t.Fatal(err)
	}
	complete := func(got map[int64]map[string]int) bool {
		for _, a := range list {
			if want := 1 + btoi(!a.ResolvedAt.IsZero()); len(got[a.ID]) < want {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	got := h.deliveries()
	for !complete(got) && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		got = h.deliveries()
	}
	for _, a := range list {
		if want := 1 + btoi(!a.ResolvedAt.IsZero()); len(got[a.ID]) != want {
			t.Errorf("alert %d (%s, resolved %v): notified %v, want %d changes", a.ID, a.Camera, !a.ResolvedAt.IsZero(), got[a.ID], want)
		}
		for state, n := range got[a.ID] {
			if n != 1 {
				t.Errorf("alert %d: %s notified %d times", a.ID, state, n)
			}
		}
	}
	t.Logf("notifications: %d alerts, %v", len(list), got)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
