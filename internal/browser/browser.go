// Package browser starts headless Debian Chromium for end-to-end tests of
// the web UI (live wall, boards, playback), driven through chromedp, and keeps the
// screenshots of a test run in one directory for a person to look at.
package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Path is Debian's Chromium.
const Path = "/usr/bin/chromium"

// Size is a browser window: the desktop and the phone the pages are made for.
type Size struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

var (
	Desktop = Size{Name: "1366x768", Width: 1366, Height: 768}
	Phone   = Size{Name: "390x844", Width: 390, Height: 844, Mobile: true}
)

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
		chromedp.WindowSize(1366, 900),
	}
}

// Resize makes the page's viewport s (a phone also gets mobile emulation).
func Resize(s Size) chromedp.Action[chromedp.Void] {
	if s.Mobile {
		return chromedp.EmulateViewport(s.Width, s.Height, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(s.Width, s.Height)
}

// Timezone makes the page's clock run in zone (an IANA name), as a
// browser in another place would.
func Timezone(zone string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: zone})
		return err
	})
}

// GrantNotifications lets origin show desktop notifications, as a user
// who allowed them would.
func GrantNotifications(origin string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"},
			Setting:    cdpbrowser.PermissionSettingGranted,
			Origin:     origin,
		})
		return err
	})
}

var (
	shotsOnce sync.Once
	shotsDir  string
	shotsErr  error
)

// ScreenshotDir is where this test run keeps its screenshots:
// $HALLWATCH_SCREENSHOTS when set, else a new directory under the system's
// temp dir that stays after the run (an artifact, never in the repository).
func ScreenshotDir(t testing.TB) string {
	t.Helper()
	shotsOnce.Do(func() {
		if shotsDir = os.Getenv("HALLWATCH_SCREENSHOTS"); shotsDir != "" {
			shotsErr = os.MkdirAll(shotsDir, 0o755)
			return
		}
		shotsDir, shotsErr = os.MkdirTemp("", "hallwatch-screenshots-")
		if shotsErr == nil {
			fmt.Fprintf(os.Stderr, "browser: screenshots of this run in %s\n", shotsDir)
		}
	})
	if shotsErr != nil {
		t.Fatalf("screenshot directory: %v", shotsErr)
	}
	return shotsDir
}

// Screenshot saves a full-page PNG into ScreenshotDir and returns its path.
func Screenshot(ctx context.Context, t testing.TB, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	name = strings.NewReplacer("/", "-", " ", "_").Replace(name)
	path := filepath.Join(ScreenshotDir(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
