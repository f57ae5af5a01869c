package service

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
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

// page is a browser tab on the service under test that notices what a
// person would: script errors, Content-Security-Policy violations, and
// requests that fail or answer an error.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	size browser.Size
	lang string

	mu       sync.Mutex
	problems []string
	requests map[network.RequestID]string // "METHOD url"
	expected []string                     // problems the test causes on purpose
}

// openPage starts a browser at the desktop size in Chinese.
func openPage(t *testing.T, base string) *page {
	t.Helper()
	p := &page{t: t, ctx: browser.New(t), base: base, size: browser.Desktop, lang: "zh", requests: map[network.RequestID]string{}}
	if err := chromedp.Listen(p.ctx, p.observe); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(p.ctx, browser.Resize(p.size)); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *page) observe(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		p.requests[ev.RequestID] = ev.Request.Method + " " + ev.Request.URL
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.problems = append(p.problems, fmt.Sprintf("%s answered %d", p.requests[ev.RequestID], ev.Response.Status))
		}
	case *network.EventLoadingFailed:
		// Navigating away cancels the page's open requests (its event stream).
		if ev.BlockedReason != "" {
			p.problems = append(p.problems, fmt.Sprintf("%s blocked: %s", p.requests[ev.RequestID], ev.BlockedReason))
		} else if !ev.Canceled {
			p.problems = append(p.problems, fmt.Sprintf("%s failed: %s", p.requests[ev.RequestID], ev.ErrorText))
		}
	case *runtime.EventExceptionThrown:
		p.problems = append(p.problems, "exception: "+exceptionText(ev.ExceptionDetails))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			p.problems = append(p.problems, "console.error: "+strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		// Failed loads are reported with their request above.
		if ev.Entry.Level == log.EntryLevelError && !strings.HasPrefix(ev.Entry.Text, "Failed to load resource") {
			p.problems = append(p.problems, "browser log: "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	s := d.Text + " " + d.URL
	if d.Exception != nil {
		s += ": " + d.Exception.Description
	}
	return s
}

// expect allows problems containing s: failures the test causes on purpose.
func (p *page) expect(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expected = append(p.expected, s)
}

// check fails the test with every unexpected problem so far, and forgets them.
func (p *page) check() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.problems {
		if !slices.ContainsFunc(p.expected, func(e string) bool { return strings.Contains(m, e) }) {
			p.t.Errorf("page problem (%s %s): %s", p.size.Name, p.lang, m)
		}
	}
	p.problems = nil
}

// do runs browser actions, failing the test on error; an element that
// never comes fails it after 30 s, naming the step.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v\nscreenshot: %s", what, err, browser.Screenshot(p.ctx, p.t, "failed-"+p.t.Name()))
	}
}

// open navigates to path.
func (p *page) open(path string) {
	p.t.Helper()
	p.do("open "+path, chromedp.Navigate(p.base+path))
}

// login logs the browser in through the login API, as the login page
// does; the session cookies stay in the browser.
func (p *page) login(user, password string) {
	p.t.Helper()
	p.open("/healthz")
	js := fmt.Sprintf(`fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({username: %q, password: %q})}).then((r) => r.status)`, user, password)
	if status := evalJS[int](p.ctx, p.t, js); status != 200 {
		p.t.Fatalf("log in as %s: status %d", user, status)
	}
	p.setLang(p.lang)
}

// setLang chooses the pages' language (kept in the browser's storage).
func (p *page) setLang(lang string) {
	p.t.Helper()
	p.lang = lang
	evalJS[bool](p.ctx, p.t, fmt.Sprintf(`localStorage.setItem("lang", %q) || true`, lang))
}

func (p *page) resize(s browser.Size) {
	p.t.Helper()
	p.size = s
	p.do("resize to "+s.Name, browser.Resize(s))
}

// pickVerdict chooses an acknowledgement's verdict in the form under sel,
// as a person does (the page listens for the change).
func (p *page) pickVerdict(sel, value string) {
	p.t.Helper()
	js := fmt.Sprintf(`(() => { const s = document.querySelector(%q); if (!s) return false;
		s.value = %q; s.dispatchEvent(new Event("change")); return s.value === %q; })()`, sel+` select[name="verdict"]`, value, value)
	if !evalJS[bool](p.ctx, p.t, js) {
		p.t.Fatalf("no verdict %q to choose in %s", value, sel)
	}
}

func (p *page) waitJS(what string, timeout time.Duration, cond string) {
	p.t.Helper()
	waitJS(p.ctx, p.t, what, timeout, cond)
}

// shot saves a screenshot named after what it shows, size and language.
func (p *page) shot(name string) {
	p.t.Helper()
	p.t.Logf("screenshot: %s", browser.Screenshot(p.ctx, p.t, name+"-"+p.size.Name+"-"+p.lang))
}

// overflowJS lists the elements that stick out of the viewport (those
// inside a box that scrolls or clips count as that box).
const overflowJS = `(() => {
	const vw = document.documentElement.clientWidth, out = [];
	if (document.documentElement.scrollWidth > vw) out.push("page scrolls sideways: " + document.documentElement.scrollWidth + " > " + vw);
	for (const e of document.body.querySelectorAll("*")) {
		const r = e.getBoundingClientRect();
		if (r.width === 0 || (r.right <= vw + 1 && r.left >= -1)) continue;
		let clipped = false;
		for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
			const o = getComputedStyle(a).overflowX;
			if (o === "auto" || o === "scroll" || o === "hidden") { clipped = true; break; }
		}
		if (!clipped) out.push(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className ? "." + e.className : "") +
			" " + Math.round(r.left) + ".." + Math.round(r.right));
	}
	return out.slice(0, 10);
})()`

// cjkJS is the page's visible Chinese text once the names of places,
// cameras, windows and people (data, not wording) are taken out.
const cjkJS = `((names) => {
	let text = document.body.innerText + " " + document.title;
	for (const n of names.sort((a, b) => b.length - a.length)) text = text.split(n).join(" ");
	return (text.match(/[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+/g) || []).slice(0, 10);
})(%s)`

// checkLayout fails on elements wider than the viewport and, in English,
// on Chinese wording left untranslated (names are data and may be Chinese).
func (p *page) checkLayout(what string, names []string) {
	p.t.Helper()
	if bad := evalJS[[]string](p.ctx, p.t, overflowJS); len(bad) > 0 {
		p.t.Errorf("%s at %s: wider than the viewport: %q", what, p.size.Name, bad)
	}
	if p.lang == "en" {
		// The language switch names the other language in it.
		js, _ := json.Marshal(append([]string{"中文"}, names...))
		if zh := evalJS[[]string](p.ctx, p.t, fmt.Sprintf(cjkJS, js)); len(zh) > 0 {
			p.t.Errorf("%s in English still says %q", what, zh)
		}
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
// on failure it shows what the page says and keeps a screenshot. A page
// that navigates meanwhile (a redirect) is asked again.
func waitJS(ctx context.Context, t *testing.T, what string, timeout time.Duration, cond string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ok, err := chromedp.Run(ectx, chromedp.Evaluate[bool]("!!("+cond+")", chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
			t.Fatalf("timed out after %v waiting for %s (last error: %v); the page says:\n%s\nscreenshot: %s", timeout, what, err, text,
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
