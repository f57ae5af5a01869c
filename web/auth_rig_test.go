package web

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geometry"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/metrics"
	"github.com/hallwatch/hallwatch/relay"
	"github.com/hallwatch/hallwatch/store"
)

// Secrets the rig's configuration and users hold; none may ever appear
// in a response, the log or the audit export.
const (
	secretCameraPassword = "cam-pass-7Qx9"
	secretWebhookSecret  = "SECwebhook4f8a2c"
	secretWebhookToken   = "dingtalk-token-91ab"
	passwordAdmin        = "admin-pass-Zr81k"
	passwordSup          = "sup-pass-Kq27m"
	passwordMgr          = "mgr-pass-Hv63p"
	passwordPlanner      = "plan-pass-Wd45n"
)

// rigConfig: district d1 with centers c1 (camera cam1, in the time zone
// of rigOptions.zone) and c1b (cam1b), district d2 with center c2 (cam2).
const rigConfig = `
http:
  listen: 127.0.0.1:0
%s
%s
storage:
  path: %s
auth:
  lockout_attempts: 3
  lockout_duration: 10m
notifiers:
  - id: duty
    kind: dingtalk
    url: https://oapi.dingtalk.com/robot/send?access_token=` + secretWebhookToken + `
    secret: ` + secretWebhookSecret + `
districts:
  - id: d1
    name: District One
    centers:
      - id: c1
        name: Center One
        timezone: %s
        cameras:
          - id: cam1
            name: Hall One
            url: rtsp://viewer:` + secretCameraPassword + `@127.0.0.1:1/one
%s
      - id: c1b
        name: Center One B
        cameras:
          - id: cam1b
            name: Hall One B
            url: rtsp://viewer:` + secretCameraPassword + `@127.0.0.1:1/oneb
  - id: d2
    name: District Two
    centers:
      - id: c2
        name: Center Two
        cameras:
          - id: cam2
            name: Hall Two
            url: rtsp://viewer:` + secretCameraPassword + `@127.0.0.1:1/two
`

// rigHash keeps logins fast in tests; production uses auth.DefaultHashParams.
var rigHash = auth.HashParams{Memory: 256, Time: 1, Threads: 1}

// authRig is a running server on 127.0.0.1 with a real SQLite store,
// real auth service, WHEP on loopback ICE, and the four roles' users.
type authRig struct {
	srv     *Server
	base    string
	cfg     *config.Config
	st      *store.Store
	auth    *auth.Service
	viewers *relay.Sessions
	relays  map[string]*relay.Relay
	log     *syncbuf.Buffer
	alerts  []int64 // alert ids at cam1, cam1b, cam2
	client  *http.Client

	// geometry is the drawn geometry; scenes what "analysis" sees.
	geometry *geometry.Manager
	scenes   rigScenes
}

// rigMetricsToken lets a scraper read /metrics in the rig.
const rigMetricsToken = "rig-metrics-token-0123456789"

type rigOptions struct {
	httpYAML string   // more keys of the http section, indented
	yaml     string   // more top-level sections
	env      []string // HALLWATCH_* overrides
	zone     string   // center c1's time zone (default Asia/Shanghai)

	tls *tls.Config
	// analytics is cam1's analytics section, indented under the camera.
	analytics string
}

func newAuthRig(t testing.TB, o rigOptions) *authRig {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	zone := o.zone
	if zone == "" {
		zone = config.DefaultTimezone
	}
	cfg, err := config.Parse("rig.yaml", []byte(fmt.Sprintf(rigConfig, o.httpYAML, o.yaml, dir+"/hw.db", zone, o.analytics)), o.env)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := store.Open(ctx, cfg.Storage.Path)
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &syncbuf.Buffer{}
	log := slog.New(slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := auth.OptionsFrom(cfg.Auth)
	opts.Hash, opts.Log = rigHash, log
	opts.LoginBurst, opts.LoginPerMinute = 1000, 1000
	r := &authRig{cfg: cfg, st: st, auth: auth.New(st, opts), log: logBuf, relays: map[string]*relay.Relay{}}
	for _, ref := range cfg.Cameras() {
		if r.relays[ref.Camera.ID], err = relay.New(ref.Camera.ID, relay.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	engine, err := relay.NewEngine(rigICE(t))
	if err != nil {
		t.Fatal(err)
	}
	r.viewers = relay.NewSessions(engine, func(camera string, _ []ingest.Codec) (*relay.Relay, error) {
		if rel, ok := r.relays[camera]; ok {
			return rel, nil
		}
		return nil, relay.ErrUnknownCamera
	}, relay.Limits{Max: cfg.WebRTC.MaxSessions, PerUser: cfg.WebRTC.MaxSessionsPerUser, ConnectTimeout: cfg.WebRTC.ConnectTimeout.D()},
		func(v relay.Session) { r.srv.ViewerEnded(v) })
	bus := eventbus.New()
	r.geometry = geometry.New(geometry.Options{Config: cfg, Store: st, Log: log})
	r.srv = New(Deps{
		Geometry: r.geometry, Scenes: &r.scenes,
		Log: log, Config: cfg, Viewers: r.viewers,
		Status: func(string) (ingest.Status, bool) { return ingest.Status{}, true },
		Store:  st, Alerts: alerts.New(alerts.Options{Config: cfg, Store: st, Bus: bus, Log: log}), Bus: bus,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes, Auth: r.auth, Audit: st, Views: st,
		Metrics: metrics.New(metrics.Sources{}).Registry, MetricsToken: rigMetricsToken,
	})
	for _, u := range []struct {
		name, role, pw string
		sc             auth.UserScope
	}{
		{"root", auth.RoleAdmin, passwordAdmin, auth.UserScope{}},
		{"sup", auth.RoleDistrictSupervisor, passwordSup, auth.UserScope{Districts: []string{"d1"}}},
		{"mgr", auth.RoleCenterManager, passwordMgr, auth.UserScope{Centers: []string{"c1"}}},
		{"plan", auth.RolePlanner, passwordPlanner, auth.UserScope{Centers: []string{"c1"}}},
	} {
		if _, err := r.auth.EnsureUser(ctx, u.name, u.role, u.sc, u.pw); err != nil {
			t.Fatal(err)
		}
	}
	for _, ref := range cfg.Cameras() {
		a, _, err := st.RaiseAlert(ctx, store.AlertRecord{Kind: events.KindUnstaffed, District: ref.District.ID,
			Center: ref.Center.ID, Camera: ref.Camera.ID, Window: "w1", RaisedAt: time.Now().Add(-time.Minute)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r.alerts = append(r.alerts, a.ID)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.base = "http://" + ln.Addr().String()
	r.client = &http.Client{Timeout: 30 * time.Second}
	if o.tls != nil {
		r.base = "https://" + ln.Addr().String()
		r.client.Transport = &http.Transport{TLSClientConfig: o.tls}
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- r.srv.Run(runCtx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
		r.viewers.Close()
		engine.Close()
		st.Close()
	})
	return r
}

// rigICE gathers loopback candidates only, on a free UDP port.
func rigICE(t testing.TB) relay.ICEOptions {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	c.Close()
	return relay.ICEOptions{UDPPort: port, IncludeLoopback: true, Interfaces: []string{"lo"}}
}

// caller is one way of calling the server: anonymous, a browser session
// (cookie + CSRF token) or an API token.
type caller struct {
	name          string
	session, csrf string
	bearer        string
}

var anonymous = &caller{name: "anonymous"}

// login logs in over HTTP and returns the browser session.
func (r *authRig) login(t testing.TB, name, pw string) *caller {
	t.Helper()
	resp, body := r.do(t, anonymous, "POST", "/api/login", fmt.Sprintf(`{"username":%q,"password":%q}`, name, pw), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login %s: %s %s", name, resp.Status, body)
	}
	c := &caller{name: name}
	for _, ck := range resp.Cookies() {
		switch ck.Name {
		case cookieSession:
			c.session = ck.Value
		case cookieCSRF:
			c.csrf = ck.Value
		}
	}
	if c.session == "" || c.csrf == "" {
		t.Fatalf("login %s set no session or CSRF cookie: %v", name, resp.Cookies())
	}
	return c
}

// do sends a request (a string body goes as JSON unless hdr sets a
// Content-Type) and returns the response with its body read.
func (r *authRig) do(t testing.TB, c *caller, method, path, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	return doAt(t, r.client, r.base, c, method, path, body, hdr)
}

func doAt(t testing.TB, client *http.Client, base string, c *caller, method, path, body string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: cookieSession, Value: c.session})
		req.AddCookie(&http.Cookie{Name: cookieCSRF, Value: c.csrf})
		if method != "GET" && method != "HEAD" {
			req.Header.Set(headerCSRF, c.csrf)
		}
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, b
}

// wantJSON decodes a JSON response body of the wanted status.
func wantJSON(t testing.TB, resp *http.Response, body []byte, status int, v any) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %s %s, want %d", resp.Request.Method, resp.Request.URL.Path, resp.Status, body, status)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%s %s: Content-Type %q, want JSON", resp.Request.Method, resp.Request.URL.Path, resp.Header.Get("Content-Type"))
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s %s: %v in %s", resp.Request.Method, resp.Request.URL.Path, err, body)
		}
	}
}
