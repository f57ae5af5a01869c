package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/internal/testclip"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// eventClient is a real SSE client of /api/events.
type eventClient struct{ ended chan struct{} }

// openEvents starts an event stream as c and waits for its first bytes.
func (r *authRig) openEvents(t *testing.T, c *caller) *eventClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", r.base+"/api/events", nil)
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: cookieSession, Value: c.session})
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	resp, err := (&http.Client{Transport: r.client.Transport}).Do(req) // no timeout: a stream lasts
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("event stream of %s: %s %s", c.name, resp.Status, body)
	}
	first := make([]byte, 8)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatalf("event stream of %s: %v", c.name, err)
	}
	e := &eventClient{ended: make(chan struct{})}
	go func() {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		close(e.ended)
	}()
	return e
}

func (e *eventClient) open() bool {
	select {
	case <-e.ended:
		return false
	default:
		return true
	}
}

// play feeds cam1's relay with a test clip until the test ends.
func (r *authRig) play(t *testing.T) {
	units := testclip.H264(t, testclip.Options{Width: 160, Height: 120, FPS: 25, GOP: 25, Frames: 50})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); testclip.Play(ctx, t, r.relays["cam1"].Push, units, 25) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// watch plays cam1 as c with a real pion peer and waits for video.
func (r *authRig) watch(t *testing.T, c *caller) {
	t.Helper()
	v, err := whepclient.Connect(context.Background(), whepclient.HTTP(r.client, r.base+"/whep/cam1", whepHeader(c), nil), whepclient.Options{})
	if err != nil {
		t.Fatalf("WHEP as %s: %v", c.name, err)
	}
	t.Cleanup(func() { v.Close() })
	v.Wait(t, 3, 20*time.Second)
}

func (r *authRig) watching(user string) int {
	n := 0
	for _, v := range r.viewers.Sessions() {
		if v.User == user {
			n++
		}
	}
	return n
}

// TestStreamsEndWithTheirLogin: live video (real pion peers) and event
// streams (a real SSE client) end when the login that opened them ends
// or loses access, for every reason, whether this server made the change
// or another process did on the same database (the CLI): the server
// notices within recheckEvery, not at a 30 s sweep. Another user's
// streams go on.
func TestStreamsEndWithTheirLogin(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		env  string
		// victim is sup or mgr (both see cam1 and c1); act ends its access.
		victim string
		act    func(t *testing.T, r *authRig, cli *auth.Service, victim *caller)
	}{
		{name: "own password change in another browser", victim: "sup",
			act: func(t *testing.T, r *authRig, _ *auth.Service, _ *caller) {
				other := r.login(t, "sup", passwordSup)
				resp, body := r.do(t, other, "POST", "/api/me/password", `{"current_password":"`+passwordSup+`","new_password":"sup-new-pass-1234"}`, nil)
				wantJSON(t, resp, body, http.StatusOK, nil)
			}},
		{name: "password reset by an admin", victim: "mgr",
			act: func(t *testing.T, r *authRig, _ *auth.Service, _ *caller) {
				admin := r.login(t, "root", passwordAdmin)
				u, _ := r.auth.UserByName(ctx, "mgr")
				resp, body := r.do(t, admin, "POST", fmt.Sprintf("/api/users/%d/password", u.ID), `{}`, nil)
				wantJSON(t, resp, body, http.StatusOK, nil)
			}},
		{name: "session expiry", victim: "sup", env: "HALLWATCH_AUTH_SESSION_TTL=3s",
			act: func(*testing.T, *authRig, *auth.Service, *caller) {}},
		{name: "role change by an admin", victim: "sup",
			act: func(t *testing.T, r *authRig, _ *auth.Service, _ *caller) {
				admin := r.login(t, "root", passwordAdmin)
				u, _ := r.auth.UserByName(ctx, "sup")
				resp, body := r.do(t, admin, "PATCH", fmt.Sprintf("/api/users/%d", u.ID), `{"role":"planner"}`, nil)
				wantJSON(t, resp, body, http.StatusOK, nil)
			}},
		{name: "scope change from the CLI", victim: "mgr",
			act: func(t *testing.T, r *authRig, cli *auth.Service, _ *caller) {
				u, _ := cli.UserByName(ctx, "mgr")
				if _, err := cli.ChangeUser(ctx, auth.Actor{Name: "cli"}, u.ID, auth.UserChange{Centers: &[]string{"c2"}}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "disabled from the CLI", victim: "sup",
			act: func(t *testing.T, r *authRig, cli *auth.Service, _ *caller) {
				u, _ := cli.UserByName(ctx, "sup")
				if _, err := cli.ChangeUser(ctx, auth.Actor{Name: "cli"}, u.ID, auth.UserChange{Disabled: ptr(true)}); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "password reset from the CLI", victim: "mgr",
			act: func(t *testing.T, r *authRig, cli *auth.Service, _ *caller) {
				u, _ := cli.UserByName(ctx, "mgr")
				if _, err := cli.ResetPassword(ctx, auth.Actor{Name: "cli"}, u.ID, ""); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "token revoked from the CLI", victim: "sup token",
			act: func(t *testing.T, r *authRig, cli *auth.Service, victim *caller) {
				ts, _ := cli.Tokens(ctx)
				for _, tok := range ts {
					if tok.Name == "wall" {
						if _, err := cli.RevokeToken(ctx, auth.Actor{Name: "cli"}, tok.ID); err != nil {
							t.Fatal(err)
						}
					}
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newAuthRig(t, rigOptions{env: []string{c.env}})
			r.play(t)
			cli := auth.New(r.st, auth.Options{Hash: rigHash}) // another process on the same database
			var victim *caller
			user := c.victim
			switch c.victim {
			case "sup":
				victim = r.login(t, "sup", passwordSup)
			case "mgr":
				victim = r.login(t, "mgr", passwordMgr)
			case "sup token":
				u, _ := r.auth.UserByName(ctx, "sup")
				secret, _, err := r.auth.CreateToken(ctx, auth.Actor{Name: "test"}, u.ID, "wall")
				if err != nil {
					t.Fatal(err)
				}
				victim, user = &caller{name: "sup token", bearer: secret}, "sup"
			}
			// The bystander's token outlives sessions (expiry case).
			root, _ := r.auth.UserByName(ctx, "root")
			rootToken, _, err := r.auth.CreateToken(ctx, auth.Actor{Name: "test"}, root.ID, "bystander")
			if err != nil {
				t.Fatal(err)
			}
			bystander := &caller{name: "root token", bearer: rootToken}
			r.watch(t, victim)
			r.watch(t, bystander)
			events, bystanderEvents := r.openEvents(t, victim), r.openEvents(t, bystander)
			time.Sleep(2 * recheckEvery) // checks without a change end nothing
			if r.watching(user) != 1 || !events.open() {
				t.Fatal("a check without any change ended a stream")
			}

			acted := time.Now()
			c.act(t, r, cli, victim)
			waitUntil(t, "the live video to end", func() bool { return r.watching(user) == 0 })
			video := time.Since(acted)
			waitUntil(t, "the event stream to end", func() bool { return !events.open() })
			t.Logf("ended %v (video) and %v (events) after the change", video.Round(time.Millisecond), time.Since(acted).Round(time.Millisecond))
			if r.watching("root") != 1 || !bystanderEvents.open() {
				t.Error("another user's live video or event stream ended too")
			}
		})
	}
}

// TestEventStreamLimits: one user gets at most http.max_streams_per_user
// event streams (429 beyond), all users together http.max_streams (503);
// a stream that ends gives its place back.
func TestEventStreamLimits(t *testing.T) {
	r := newAuthRig(t, rigOptions{httpYAML: "  max_streams: 3\n  max_streams_per_user: 2\n"})
	sup, mgr, plan := r.login(t, "sup", passwordSup), r.login(t, "mgr", passwordMgr), r.login(t, "plan", passwordPlanner)
	r.openEvents(t, sup)
	r.openEvents(t, sup)
	resp, body := r.do(t, sup, "GET", "/api/events", "", nil)
	wantJSON(t, resp, body, http.StatusTooManyRequests, nil)
	last := r.openEvents(t, mgr)
	resp, body = r.do(t, plan, "GET", "/api/events", "", nil)
	wantJSON(t, resp, body, http.StatusServiceUnavailable, nil)
	resp, body = r.do(t, mgr, "POST", "/api/logout", "", nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	<-last.ended
	waitUntil(t, "the ended stream's place", func() bool { return len(r.srv.streams.list()) == 2 })
	r.openEvents(t, plan)
}
