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
	"github.com/hallwatch/hallwatch/internal/testzone"
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
	now := time.Now()
	ids := seedOpenAlerts(t, dbPath,
		store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: "jingshan", Camera: "js-hall", Window: "w1", RaisedAt: now.Add(-5 * time.Minute)},
		store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: "jingshan", Camera: "js-hall", Window: "w2", RaisedAt: now.Add(-6 * time.Minute)})
	cfg := testConfig(t, dbPath)
	twoCenters(t, cfg, testzone.Midday())
	r := startServiceConfig(t, cfg)
	user, pw := pageUser(t, r, "li", auth.RoleCenterManager, auth.UserScope{Centers: []string{"jingshan"}})

	p := openPage(t, r.base)
	p.login(user, pw)
	names := placeNames(cfg, user)
	for i, c := range []struct {
		lang     string
		size     browser.Size
		choice   string // the option picked
		verdict  string
		reason   string
		comment  string
		tileRate string
	}{
		{"zh", browser.Phone, "clerk_present", store.VerdictFalseAlarm, store.ReasonClerkPresent, "", "1"},
		{"en", browser.Desktop, "other", store.VerdictFalseAlarm, store.ReasonOther, "a visitor sat in the clerk's chair", "1"},
	} {
		id := ids[i]
		card := fmt.Sprintf(`#open-alerts .alert[data-alert="%d"]`, id)
		p.resize(c.size)
		p.setLang(c.lang)
		p.open("/board.html?center=jingshan")
		p.waitJS("the alert card with its verdict choice", 20*time.Second, fmt.Sprintf(`document.querySelector('%s select[name="verdict"]')`, card))
		p.checkLayout("board with verdict choices", names)
		if fits := evalJS[bool](p.ctx, t, fmt.Sprintf(`(() => { const s = document.querySelector('%s select[name="verdict"]').getBoundingClientRect();
			return s.left >= 0 && s.right <= window.innerWidth && s.width >= 120; })()`, card)); !fits {
			t.Errorf("%s %s: the verdict choice does not fit the screen", c.lang, c.size.Name)
		}
		submit := card + ` button[type="submit"]`
		if disabled := evalJS[bool](p.ctx, t, fmt.Sprintf(`document.querySelector('%s').disabled`, submit)); !disabled {
			t.Errorf("%s: submit enabled before a verdict is chosen", c.lang)
		}
		p.pickVerdict(card, c.choice)
		if c.reason == store.ReasonOther {
			if disabled := evalJS[bool](p.ctx, t, fmt.Sprintf(`document.querySelector('%s').disabled`, submit)); !disabled {
				t.Errorf("%s: \"other\" may be submitted without saying why", c.lang)
			}
		}
		if c.comment != "" {
			p.do("type the comment", chromedp.SendKeys(card+` input[name="comment"]`, c.comment))
		}
		p.shot("verdict")
		p.do("submit the verdict", chromedp.Click(submit))
		p.waitJS("the verdict on the card", 10*time.Second, fmt.Sprintf(`(document.querySelector('%s .verdict') || {}).dataset`, card))
		got := evalJS[map[string]string](p.ctx, t, fmt.Sprintf(`({...document.querySelector('%s .verdict').dataset, text: document.querySelector('%s .verdict').textContent})`, card, card))
		if got["verdict"] != c.verdict || got["reason"] != c.reason || got["text"] == "" {
			t.Errorf("%s: card shows verdict %v, want %s (%s)", c.lang, got, c.verdict, c.reason)
		}
		a, err := r.svc.store.Alert(ctx0, id)
		if err != nil || a.Verdict != c.verdict || a.VerdictReason != c.reason || a.AckedBy != user || a.AckComment != c.comment {
			t.Errorf("%s: stored %+v, %v", c.lang, a, err)
		}
		p.waitJS("the window's false-alarm rate", 10*time.Second,
			fmt.Sprintf(`(document.querySelector('.win[data-window="%s"] .win-fa') || {dataset: {}}).dataset.rate === %q`, a.Window, c.tileRate))
		p.checkLayout("board after the verdict", append(names, c.comment))
		p.shot("verdict-done")
	}
	p.check()
}
