package service

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.yaml.in/yaml/v3"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/internal/browser"
)

// Helpers for the browser tests of the pages (board, alerts, planner).

// testConfig is a configuration for a service on 127.0.0.1 with its
// database in dbPath; tests add districts (demo.Camera.AddTo or by hand).
func testConfig(t *testing.T, dbPath string) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.WebRTC.UDPPort, cfg.WebRTC.TCPPort = freeUDPPort(t), 0
	cfg.WebRTC.Interfaces = []string{"lo"}
	cfg.Storage.Path = dbPath
	return cfg
}

// startServiceConfig runs hallwatch on cfg after a round trip through YAML,
// as `hallwatch demo` does, so that defaults and validation apply.
func startServiceConfig(t *testing.T, cfg *config.Config, prepare ...func(*Service)) *rig {
	t.Helper()
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := config.Parse(filepath.Join(t.TempDir(), "test.yaml"), data, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return runService(t, parsed, prepare...)
}

// pageUser creates (or resets) an account for the browser to log in with.
func pageUser(t *testing.T, r *rig, name, role string, scope auth.UserScope) (user, password string) {
	t.Helper()
	password = "pages-test-" + name + "-pw"
	if _, err := r.svc.Auth().EnsureUser(context.Background(), name, role, scope, password); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return name, password
}

// browserLogin logs the browser in through the login API, as the login
// page does; the session cookies stay in the browser.
func browserLogin(ctx context.Context, t *testing.T, base, user, password string) {
	t.Helper()
	js := fmt.Sprintf(`fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({username: %q, password: %q})}).then((r) => r.status)`, user, password)
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/healthz")); err != nil {
		t.Fatalf("open %s: %v", base, err)
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil || status != 200 {
		t.Fatalf("log in as %s: status %d, %v", user, status, err)
	}
}

// pageErrors collects the page's uncaught exceptions and console errors
// (a Content-Security-Policy violation is one).
type pageErrors struct {
	mu   sync.Mutex
	list []string
}

func watchPageErrors(ctx context.Context) *pageErrors {
	pe := &pageErrors{}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Type != chromedp.ConsoleError && !m.IsException()) || strings.HasSuffix(m.URL, "/favicon.ico") {
				continue
			}
			pe.mu.Lock()
			pe.list = append(pe.list, m.String()+" ("+m.URL+")")
			pe.mu.Unlock()
		}
	}()
	return pe
}

// check fails the test with every error the page reported.
func (pe *pageErrors) check(t *testing.T) {
	t.Helper()
	pe.mu.Lock()
	defer pe.mu.Unlock()
	for _, m := range pe.list {
		t.Errorf("page error: %s", m)
	}
}

// evalJS runs a JavaScript expression (awaiting a promise) and decodes its value.
func evalJS[T any](ctx context.Context, t *testing.T, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.60q…: %v", js, err)
	}
	return v
}

// waitJS polls a JavaScript condition until it is true, at most timeout;
// on failure it shows what the page says and keeps a screenshot.
func waitJS(ctx context.Context, t *testing.T, what string, timeout time.Duration, cond string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !evalJS[bool](ctx, t, "!!("+cond+")") {
		if time.Now().After(deadline) {
			text := evalJS[string](ctx, t, "document.body.innerText")
			t.Fatalf("timed out after %v waiting for %s; the page says:\n%s\nscreenshot: %s", timeout, what, text,
				browser.Screenshot(ctx, t, "failed-"+strings.ReplaceAll(t.Name(), "/", "-")))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testJPEG is a small picture standing in for an alert snapshot.
func testJPEG(t *testing.T, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 180))
	for y := range 180 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x/2 + 40*seed), uint8(y), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
