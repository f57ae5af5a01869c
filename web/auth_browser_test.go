package web

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/internal/browser"
)

// TestBrowserLoginAndAdmin drives the login and admin pages in headless
// Chromium under the real Content-Security-Policy: a visit without login
// lands on the login page, the admin logs in, creates a planner (whose
// one-time password the page shows), logs out; the planner logs in, must
// choose a password, and sees only the links of the role. Any CSP
// violation or script error fails the test.
func TestBrowserLoginAndAdmin(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	ctx := browser.New(t)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError && !strings.Contains(ev.Entry.Text, "status of 40") {
				problems = append(problems, ev.Entry.Text)
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, exceptionText(ev.ExceptionDetails))
		}
	}); err != nil {
		t.Fatal(err)
	}
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	waitPath := func(path string) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); ; {
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if err == nil && strings.HasPrefix(strings.TrimPrefix(loc, r.base), path) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("page %s, want %s", loc, path)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	run("open the admin page", chromedp.Navigate(r.base+"/admin.html"))
	waitPath("/login.html?next=%2Fadmin.html")
	run("log in as admin",
		chromedp.WaitVisible(`#login input[name=username]`),
		chromedp.SendKeys(`#login input[name=username]`, "root"),
		chromedp.SendKeys(`#login input[name=password]`, passwordAdmin),
		chromedp.Click(`#login button[type=submit]`),
	)
	waitPath("/admin.html")
	run("users listed", chromedp.WaitVisible(`#users tbody tr`))
	if who := text("#topbar .who"); !strings.Contains(who, "root") {
		t.Errorf("top bar shows %q, want the user", who)
	}
	run("add a planner",
		chromedp.SendKeys(`#userform input[name=name]`, "bw"),
		chromedp.SetValue(`#userform select[name=role]`, "planner"),
		chromedp.Click(`#centers input[value=c1]`),
		chromedp.Click(`#userform button[type=submit]`),
		chromedp.WaitVisible(`#newpassword`),
	)
	t.Logf("screenshot: %s", browser.Screenshot(ctx, t, "admin"))
	pw := text("#newpassword code")
	if len(pw) < 10 {
		t.Fatalf("one-time password %q", pw)
	}
	run("audit shows the creation", chromedp.Click(`#auditform button[type=submit]`))
	created := func() bool {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#audit tr[data-action="user_create"]').length`))
		return err == nil && n > 0 && strings.Contains(text("#audit tbody"), "bw")
	}
	for deadline := time.Now().Add(10 * time.Second); !created(); {
		if time.Now().After(deadline) {
			t.Fatalf("audit table: %q", text("#audit tbody"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	run("log out", chromedp.Click(`#logout`))
	waitPath("/login.html")

	run("login page", chromedp.WaitVisible(`#login input[name=username]`))
	t.Logf("screenshot: %s", browser.Screenshot(ctx, t, "login"))
	run("log in as the planner",
		chromedp.SendKeys(`#login input[name=username]`, "bw"),
		chromedp.SendKeys(`#login input[name=password]`, pw),
		chromedp.Click(`#login button[type=submit]`),
		chromedp.WaitVisible(`#change input[name=new]`),
		chromedp.SendKeys(`#change input[name=new]`, "planner-own-pw"),
		chromedp.SendKeys(`#change input[name=repeat]`, "planner-own-pw"),
		chromedp.Click(`#change button[type=submit]`),
	)
	waitPath("/planner.html")
	run("top bar", chromedp.WaitVisible(`#topbar a[href="/planner.html"]`))
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#topbar nav.links a")].filter((a) => !a.hidden).map((a) => a.getAttribute("href"))`))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(visible) != "[/planner.html]" {
		t.Errorf("planner's top bar links %v, want the planner page only", visible)
	}
	t.Logf("screenshot: %s", browser.Screenshot(ctx, t, "planner-after-login"))
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser reported: %s", p)
	}
}

func exceptionText(d *runtime.ExceptionDetails) string {
	s := d.Text + " " + d.URL
	if d.Exception != nil {
		s += ": " + d.Exception.Description
	}
	return s
}
