// Package browser starts headless Debian Chromium for end-to-end tests of
// the web UI (live wall, boards, playback), driven through chromedp.
package browser

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// Path is Debian's Chromium.
const Path = "/usr/bin/chromium"

// New starts Chromium and returns a tab context, closed with the test. The
// test is skipped when Chromium is not installed.
func New(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		t.Skipf("browser: %s not installed (apt-get install chromium)", Path)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), Options(t.TempDir())...)
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now so a failure shows here, not in the first
	// action. (It must be ctx itself: the browser lives as long as the
	// context of its first run.)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browser: start chromium: %v", err)
	}
	return ctx
}

// Options are headless Chromium's settings (profile in userDataDir), for
// tests and for the bench.
func Options(userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Path),
		chromedp.UserDataDir(userDataDir),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.WindowSize(1280, 900),
	}
}

// Screenshot saves a full-page PNG and returns its path: into
// $HALLWATCH_SCREENSHOTS when set (to look at it), else a temp dir.
func Screenshot(ctx context.Context, t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("HALLWATCH_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
