package service

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/browser"
	"github.com/hallwatch/hallwatch/store"
)

// TestBrowserAckVerdict: a center manager acknowledges alerts on the
// board with a verdict, in Chinese on a phone and in English on a desktop:
// the verdict choice fits the screen, submitting needs a choice (and a
// comment for "other"), the verdict is stored and shown, and the window's
// tile shows its false-alarm rate.
func TestBrowserAckVerdict(t *testing.T) {
	ctx0 := context.Background()
	dbPath := filepath.Join(t.TempDir(), "hallwatch.db")
	st, err := store.Open(ctx0, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var ids []int64
	for i, w := range []string{"w1", "w2"} {
		a, _, err := st.RaiseAlert(ctx0, store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: "jingshan",
			Camera: "js-hall", Window: w, RaisedAt: now.Add(-time.Duration(5+i) * time.Minute), Snapshot: testJPEG(t, i)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	st.Close()
	cfg := testConfig(t, dbPath)
	twoCenters(t, cfg)
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "li", auth.RoleCenterManager, auth.UserScope{Centers: []string{"jingshan"}})

	ctx := browser.New(t)
	pageErrs := watchPageErrors(ctx)
	browserLogin(ctx, t, r.base, user, pw)
	for i, c := range []struct {
		lang          string
		width, height int64
		choice        string // the option picked
		verdict       string
		reason        string
		comment       string
		tileRate      string
	}{
		{"zh", 390, 844, "clerk_present", store.VerdictFalseAlarm, store.ReasonClerkPresent, "", "1"},
		{"en", 1366, 768, "other", store.VerdictFalseAlarm, store.ReasonOther, "a visitor sat in the clerk's chair", "1"},
	} {
		id := ids[i]
		card := fmt.Sprintf(`#open-alerts .alert[data-alert="%d"]`, id)
		if err := chromedp.Do(ctx,
			chromedp.EmulateViewport(c.width, c.height),
			chromedp.Navigate(r.base+"/healthz"),
		); err != nil {
			t.Fatal(err)
		}
		evalJS[bool](ctx, t, fmt.Sprintf(`(localStorage.setItem("lang", %q), true)`, c.lang))
		if err := chromedp.Do(ctx, chromedp.Navigate(r.base+"/board.html?center=jingshan")); err != nil {
			t.Fatal(err)
		}
		waitJS(ctx, t, "the alert card with its verdict choice", 20*time.Second, fmt.Sprintf(`document.querySelector('%s select[name="verdict"]')`, card))
		if over := evalJS[int](ctx, t, `document.documentElement.scrollWidth - window.innerWidth`); over > 0 {
			t.Errorf("%s %dx%d: the board is %d px wider than the screen", c.lang, c.width, c.height, over)
		}
		if fits := evalJS[bool](ctx, t, fmt.Sprintf(`(() => { const s = document.querySelector('%s select[name="verdict"]').getBoundingClientRect();
			return s.left >= 0 && s.right <= window.innerWidth && s.width >= 120; })()`, card)); !fits {
			t.Errorf("%s %dx%d: the verdict choice does not fit the screen", c.lang, c.width, c.height)
		}
		if disabled := evalJS[bool](ctx, t, fmt.Sprintf(`document.querySelector('%s button[type="submit"]').disabled`, card)); !disabled {
			t.Errorf("%s: submit enabled before a verdict is chosen", c.lang)
		}
		evalJS[bool](ctx, t, fmt.Sprintf(`(() => { const s = document.querySelector('%s select[name="verdict"]');
			s.value = %q; s.dispatchEvent(new Event("change")); return true; })()`, card, c.choice))
		if c.reason == store.ReasonOther {
			if disabled := evalJS[bool](ctx, t, fmt.Sprintf(`document.querySelector('%s button[type="submit"]').disabled`, card)); !disabled {
				t.Errorf("%s: \"other\" may be submitted without saying why", c.lang)
			}
		}
		if c.comment != "" {
			if err := chromedp.Do(ctx, chromedp.SendKeys(card+` input[name="comment"]`, c.comment)); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("screenshot: %s", browser.Screenshot(ctx, t, fmt.Sprintf("verdict-%s-%d", c.lang, c.width)))
		if err := chromedp.Do(ctx, chromedp.Click(card+` button[type="submit"]`)); err != nil {
			t.Fatal(err)
		}
		waitJS(ctx, t, "the verdict on the card", 10*time.Second, fmt.Sprintf(`(document.querySelector('%s .verdict') || {}).dataset`, card))
		got := evalJS[map[string]string](ctx, t, fmt.Sprintf(`({...document.querySelector('%s .verdict').dataset, text: document.querySelector('%s .verdict').textContent})`, card, card))
		if got["verdict"] != c.verdict || got["reason"] != c.reason || got["text"] == "" {
			t.Errorf("%s: card shows verdict %v, want %s (%s)", c.lang, got, c.verdict, c.reason)
		}
		a, err := r.svc.store.Alert(ctx0, id)
		if err != nil || a.Verdict != c.verdict || a.VerdictReason != c.reason || a.AckedBy != user || a.AckComment != c.comment {
			t.Errorf("%s: stored %+v, %v", c.lang, a, err)
		}
		window := a.Window
		waitJS(ctx, t, "the window's false-alarm rate", 10*time.Second,
			fmt.Sprintf(`(document.querySelector('.win[data-window="%s"] .win-fa') || {dataset: {}}).dataset.rate === %q`, window, c.tileRate))
		t.Logf("screenshot: %s", browser.Screenshot(ctx, t, fmt.Sprintf("verdict-%s-%d-done", c.lang, c.width)))
	}
	pageErrs.check(t)
}
