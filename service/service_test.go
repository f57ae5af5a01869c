package service

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/internal/leakcheck"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/internal/testcam"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// rig is a running service under test.
type rig struct {
	svc    *Service
	base   string
	cancel context.CancelFunc
	done   chan error
	// admin carries an admin's API token: every API and WHEP request needs one.
	admin http.Header
	logs  *syncbuf.Buffer // the service's log
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// startService runs hallwatch with the given cameras section (YAML, indented
// for a center's "cameras:" key) and returns once HTTP answers.
func startService(t *testing.T, extra, cameras string) *rig {
	t.Helper()
	return runService(t, serviceConfig(t, extra, cameras, nil))
}

// serviceConfig is startService's configuration, with HALLWATCH_*
// overrides in env.
func serviceConfig(t *testing.T, extra, cameras string, env []string) *config.Config {
	t.Helper()
	yaml := fmt.Sprintf(`
http:
  listen: 127.0.0.1:0
webrtc:
  udp_port: %d
  tcp_port: 0
  include_loopback: true
  interfaces: [lo]
storage:
  path: %s/hallwatch.db
%s
districts:
  - id: dongcheng
    name: 东城区
    centers:
      - id: jingshan
        name: 景山街道市民服务中心
        cameras:
%s`, freeUDPPort(t), t.TempDir(), extra, cameras)
	cfg, err := config.Parse("test.yaml", []byte(yaml), env)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// runService runs the service on a parsed config until the test ends and
// gives it an admin token; prepare, if given, changes it before it runs.
func runService(t *testing.T, cfg *config.Config, prepare ...func(*Service)) *rig {
	t.Helper()
	logs := &syncbuf.Buffer{}
	var out io.Writer = logs
	if testing.Verbose() {
		out = io.MultiWriter(logs, &testWriter{t})
	}
	svc, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(out, nil)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range prepare {
		p(svc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{svc: svc, base: "http://" + svc.Addr().String(), cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { r.done <- svc.Run(ctx) }()
	t.Cleanup(r.stop)
	r.admin = adminToken(t, svc)
	return r
}

// adminToken creates an admin and an API token for it.
func adminToken(t *testing.T, svc *Service) http.Header {
	t.Helper()
	ctx := context.Background()
	u, err := svc.Auth().EnsureUser(ctx, "test-admin", auth.RoleAdmin, auth.UserScope{}, "test-admin-password")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := svc.Auth().CreateToken(ctx, auth.Actor{Name: "test"}, u.ID, "service test")
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"Bearer " + token}}
}

func (r *rig) stop() {
	r.cancel()
	<-r.done
	r.done <- nil // later stops return at once
}

type testWriter struct{ t *testing.T }

func (w *testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// get fetches path as the admin; the caller closes the body.
func (r *rig) get(t *testing.T, path string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.base+path, nil)
	req.Header = r.admin.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// cameraState fetches /api/cameras and returns the camera's status object.
func (r *rig) cameraState(t *testing.T, id string) map[string]any {
	t.Helper()
	return r.camera(t, id, "status")
}

// camera returns a part ("status", "analysis") of a camera in /api/cameras;
// nil when the camera or the part is missing.
func (r *rig) camera(t *testing.T, id, part string) map[string]any {
	t.Helper()
	resp := r.get(t, "/api/cameras")
	defer resp.Body.Close()
	var tree struct {
		Districts []struct {
			Centers []struct {
				Cameras []map[string]any `json:"cameras"`
			} `json:"centers"`
		} `json:"districts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tree); err != nil {
		t.Fatal(err)
	}
	for _, d := range tree.Districts {
		for _, c := range d.Centers {
			for _, cam := range c.Cameras {
				if cam["id"] == id {
					m, _ := cam[part].(map[string]any)
					return m
				}
			}
		}
	}
	return nil
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestLiveRelayFromGStreamerCamera(t *testing.T) {
	base := leakcheck.Count()
	cam := testcam.Start(t, testcam.Options{Width: 320, Height: 240, FPS: 15, GOP: 45})
	r := startService(t, "", fmt.Sprintf(`
          - id: hall1
            name: 大厅一
            url: %s
            transport: tcp
`, cam.URL()))
	waitFor(t, "camera live in /api/cameras", 20*time.Second, func() bool {
		return r.cameraState(t, "hall1")["state"] == "live"
	})

	ctx := context.Background()
	var loc1, loc2 string
	v1, err := whepclient.Connect(ctx, whepclient.HTTP(http.DefaultClient, r.base+"/whep/hall1", r.admin, &loc1), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := whepclient.Connect(ctx, whepclient.HTTP(http.DefaultClient, r.base+"/whep/hall1", r.admin, &loc2), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*whepclient.Client{v1, v2} {
		first := <-v.Units()
		if !first.Key {
			t.Fatal("a viewer's first access unit is not a key frame")
		}
		for i := 0; i < 20; i++ {
			select {
			case <-v.Units():
			case <-time.After(10 * time.Second):
				t.Fatalf("viewer stalled after %d units", i)
			}
		}
	}
	if !strings.HasPrefix(loc1, "/whep/hall1/") || loc1 == loc2 {
		t.Fatalf("bad WHEP session locations %q, %q", loc1, loc2)
	}
	// Hang up one viewer with DELETE; the other keeps playing.
	req, _ := http.NewRequest(http.MethodDelete, r.base+loc1, nil)
	req.Header = r.admin.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE %s: %v %v", loc1, resp.Status, err)
	}
	resp.Body.Close()
	waitFor(t, "one viewer left", 10*time.Second, func() bool { return r.svc.viewers.Count() == 1 })
	v1.Close()
	v2.Close()
	r.stop()
	cam.Stop()
	leakcheck.Wait(t, base)
}
