package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/internal/natstest"
	"github.com/hallwatch/hallwatch/internal/pgtest"
	"github.com/hallwatch/hallwatch/store"
)

// proxied is one request through the test's reverse proxy.
type proxied struct {
	method, path string
	status       int
}

// TestBrowserWatchesThroughAnyNode puts two nodes behind one address, as
// deploy/ does with nginx: "/" goes to the node that does not run the
// camera, /node/<id>/ to that node. In headless Chromium, the page's WHEP
// player asks "/" for the camera: the 307 is followed with the SDP body to
// the node running it, the video plays, and the player's DELETE reaches
// that node.
func TestBrowserWatchesThroughAnyNode(t *testing.T) {
	pg := pgtest.Start(t)
	nats := natstest.Start(t)
	dsn, err := pg.CreateDB(context.Background(), "hallwatch")
	if err != nil {
		t.Fatal(err)
	}
	cam := runDemoCamera(t, busyHall)
	base := testConfig(t, filepath.Join(t.TempDir(), "unused.db"))
	base.Storage = config.Storage{Driver: store.DriverPostgres, DSN: dsn}
	cam.AddTo(base, []demo.Hall{{District: "dongcheng", DistrictName: "东城区", Center: "jingshan", CenterName: "景山",
		Camera: "hall", CameraName: "大厅"}})
	base.Districts[0].Centers[0].Cameras[0].Analytics = nil

	// The proxy, first: the nodes' public URLs are paths on it.
	var (
		mu       sync.Mutex
		log      []proxied
		backends = map[string]*url.URL{}
		nodes    = map[string]*Service{}
	)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		target, path := (*url.URL)(nil), r.URL.Path
		for id, u := range backends {
			if rest, ok := strings.CutPrefix(r.URL.Path, "/node/"+id+"/"); ok {
				target, path = u, "/"+rest
			}
		}
		if target == nil { // "/": the node that does not run the camera
			for id, svc := range nodes {
				if _, here := svc.camera("hall"); !here {
					target = backends[id]
				}
			}
		}
		mu.Unlock()
		if target == nil {
			http.Error(w, "no node", http.StatusBadGateway)
			return
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.URL.Path, pr.Out.URL.RawPath = path, ""
			pr.Out.Host = pr.In.Host // as nginx's proxy_set_header Host $host
		}, FlushInterval: -1}
		proxy.ServeHTTP(rec, r)
		mu.Lock()
		log = append(log, proxied{r.Method, r.URL.Path, rec.status})
		mu.Unlock()
	}))
	// The page's event stream stays open through the proxy until the
	// browser closes, which is after this function: cut it, or Close waits.
	defer func() { front.CloseClientConnections(); front.Close() }()

	for _, id := range []string{"a", "b"} {
		cfg := *base
		cfg.WebRTC.UDPPort = freeUDPPort(t)
		cfg.Cluster = config.Cluster{NATSURL: nats.URL(), NodeID: id, PublicURL: front.URL + "/node/" + id,
			LeaseTTL: config.Duration(clusterTTL), Replicas: 1}
		svc, err := New(context.Background(), &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- svc.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		u, _ := url.Parse("http://" + svc.Addr().String())
		mu.Lock()
		backends[id], nodes[id] = u, svc
		mu.Unlock()
	}
	waitFor(t, "one node running the camera", 30*time.Second, func() bool {
		_, onA := nodes["a"].camera("hall")
		_, onB := nodes["b"].camera("hall")
		return onA != onB
	})
	owner := "a"
	if _, onB := nodes["b"].camera("hall"); onB {
		owner = "b"
	}
	if _, err := nodes[owner].Auth().EnsureUser(context.Background(), "viewer", auth.RoleAdmin, auth.UserScope{}, "viewer-password-1"); err != nil {
		t.Fatal(err)
	}

	tab := openPage(t, front.URL)
	tab.login("viewer", "viewer-password-1")
	ctx, cancel := context.WithTimeout(tab.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(front.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// The page's own player, as the live wall uses it.
	type played struct {
		Frames   float64 `json:"frames"`
		Location string  `json:"location"`
		Error    string  `json:"error"`
	}
	start := `(async () => {
		const v = document.createElement("video");
		v.muted = true;
		document.body.appendChild(v);
		window.testPlayer = new WhepPlayer(v, "hall");
		try { await window.testPlayer.start(); } catch (e) { return {error: String(e)}; }
		return {location: window.testPlayer.location};
	})()`
	got := evalJS[played](ctx, t, start)
	if got.Error != "" {
		t.Fatalf("WHEP through the proxy: %s", got.Error)
	}
	if want := front.URL + "/node/" + owner + "/whep/hall/"; !strings.HasPrefix(got.Location, want) {
		t.Errorf("session at %q, want under %s", got.Location, want)
	}
	probe := `(async () => {
		let frames = 0;
		(await window.testPlayer.pc.getStats()).forEach((s) => {
			if (s.type === "inbound-rtp" && s.kind === "video") frames = s.framesDecoded || 0;
		});
		return {frames};
	})()`
	deadline := time.Now().Add(30 * time.Second)
	for got.Frames < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("the browser decoded %v frames", got.Frames)
		}
		time.Sleep(250 * time.Millisecond)
		got = evalJS[played](ctx, t, probe)
	}
	evalJS[played](ctx, t, `window.testPlayer.stop().then(() => ({}))`)

	mu.Lock()
	defer mu.Unlock()
	want := []proxied{{"POST", "/whep/hall", http.StatusTemporaryRedirect}, {"POST", "/node/" + owner + "/whep/hall", http.StatusCreated}}
	var whep []proxied
	for _, p := range log {
		if strings.Contains(p.path, "/whep/") {
			whep = append(whep, p)
		}
	}
	// The DELETE finds the session (200), or finds it ended already by the
	// connection's close if the player closes first (404): either way it
	// went to the node that runs the camera.
	if len(whep) != 3 || whep[0] != want[0] || whep[1] != want[1] || whep[2].method != "DELETE" ||
		!strings.HasPrefix(whep[2].path, "/node/"+owner+"/whep/hall/") || (whep[2].status != http.StatusOK && whep[2].status != http.StatusNotFound) {
		t.Errorf("WHEP requests through the proxy: %v; want %v, then the DELETE to node %s", whep, want, owner)
	}
	t.Logf("WHEP through the proxy: %v; %v frames decoded", whep, got.Frames)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
