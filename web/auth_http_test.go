package web

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/store"
)

func TestLoginLogout(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	resp, body := r.do(t, anonymous, "POST", "/api/login", `{"username":"sup","password":"not-it-at-all"}`, nil)
	wantJSON(t, resp, body, http.StatusUnauthorized, nil)
	if len(resp.Cookies()) != 0 {
		t.Errorf("failed login set cookies %v", resp.Cookies())
	}
	resp, body = r.do(t, anonymous, "POST", "/api/login", fmt.Sprintf(`{"username":"SUP","password":%q}`, passwordSup), nil)
	var me meView
	wantJSON(t, resp, body, http.StatusOK, &me)
	if me.Name != "sup" || me.Role != "district_supervisor" || !me.Access["live"] || me.Access["ack"] || me.Access["admin"] {
		t.Errorf("login answer %+v", me)
	}
	for _, ck := range resp.Cookies() {
		if ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/" {
			t.Errorf("cookie %s: SameSite %v Secure %v Path %q; want Strict, not Secure without TLS, /", ck.Name, ck.SameSite, ck.Secure, ck.Path)
		}
		if ck.HttpOnly != (ck.Name == cookieSession) {
			t.Errorf("cookie %s HttpOnly=%v; only the session cookie must be", ck.Name, ck.HttpOnly)
		}
	}
	sup := r.login(t, "sup", passwordSup)
	resp, body = r.do(t, sup, "GET", "/api/me", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &me)
	if me.Via != "session" || len(me.Districts) != 1 || me.Districts[0] != "d1" {
		t.Errorf("/api/me = %+v", me)
	}
	resp, body = r.do(t, sup, "POST", "/api/logout", "", nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	cleared := 0
	for _, ck := range resp.Cookies() {
		if ck.Value == "" && ck.Expires.Before(time.Now()) {
			cleared++
		}
	}
	if cleared != 2 {
		t.Errorf("logout cleared %d cookies, want 2: %v", cleared, resp.Cookies())
	}
	resp, body = r.do(t, sup, "GET", "/api/cameras", "", nil)
	wantJSON(t, resp, body, http.StatusUnauthorized, nil)
	if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %q", got)
	}
	// A made-up session is no session.
	resp, body = r.do(t, &caller{session: "forged", csrf: "x"}, "GET", "/api/me", "", nil)
	wantJSON(t, resp, body, http.StatusUnauthorized, nil)

	if es, _ := r.st.Audit(t.Context(), store.AuditQuery{User: "sup"}); len(es) < 3 {
		t.Errorf("audit for sup has %d entries, want logins and a logout: %+v", len(es), es)
	}
}

func TestLoginLockoutOverHTTP(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	for range 3 { // lockout_attempts: 3
		resp, body := r.do(t, anonymous, "POST", "/api/login", `{"username":"mgr","password":"wrong-password"}`, nil)
		wantJSON(t, resp, body, http.StatusUnauthorized, nil)
	}
	resp, body := r.do(t, anonymous, "POST", "/api/login", fmt.Sprintf(`{"username":"mgr","password":%q}`, passwordMgr), nil)
	wantJSON(t, resp, body, http.StatusTooManyRequests, nil)
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 500 || s > 600 {
		t.Errorf("Retry-After %q, want about 600 s", resp.Header.Get("Retry-After"))
	}
	if !strings.Contains(string(body), "too many failed logins for this account") {
		t.Errorf("lockout answer %s", body)
	}
	// Other accounts are not locked.
	r.login(t, "plan", passwordPlanner)
	// An admin's password reset lifts the lockout.
	admin := r.login(t, "root", passwordAdmin)
	u, _ := r.auth.UserByName(t.Context(), "mgr")
	resp, body = r.do(t, admin, "POST", fmt.Sprintf("/api/users/%d/password", u.ID), `{"password":"fresh-mgr-password"}`, nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	r.login(t, "mgr", "fresh-mgr-password")

	// The admin page shows a lockout and lifts it.
	for range 3 {
		r.do(t, anonymous, "POST", "/api/login", `{"username":"mgr","password":"wrong-password"}`, nil)
	}
	var users struct{ Users []userView }
	resp, body = r.do(t, admin, "GET", "/api/users", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &users)
	for _, v := range users.Users {
		if locked := v.LockedUntil != nil; locked != (v.Name == "mgr") {
			t.Errorf("user %s: locked_until %v", v.Name, v.LockedUntil)
		}
	}
	var unlocked userView
	resp, body = r.do(t, admin, "POST", fmt.Sprintf("/api/users/%d/unlock", u.ID), "", nil)
	wantJSON(t, resp, body, http.StatusOK, &unlocked)
	if unlocked.Name != "mgr" || unlocked.LockedUntil != nil {
		t.Errorf("unlock answered %s", body)
	}
	r.login(t, "mgr", "fresh-mgr-password")
	if es, _ := r.st.Audit(t.Context(), store.AuditQuery{Action: "user_unlock"}); len(es) != 1 || es[0].User != "root" || es[0].Target != "mgr" {
		t.Errorf("unlock audit %+v", es)
	}
}

func TestCSRFAndOrigin(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	mgr := r.login(t, "mgr", passwordMgr)
	ack := fmt.Sprintf("/api/alerts/%d/ack", r.alerts[0])
	for _, c := range []struct {
		name string
		hdr  map[string]string
	}{
		{"no CSRF header", map[string]string{headerCSRF: ""}},
		{"wrong CSRF header", map[string]string{headerCSRF: "0123456789"}},
		{"another session's token", map[string]string{headerCSRF: r.login(t, "mgr", passwordMgr).csrf}},
		{"cross-site origin", map[string]string{"Origin": "https://evil.example"}},
		{"https origin of a plain-http server", map[string]string{"Origin": strings.Replace(r.base, "http://", "https://", 1)}},
		{"origin with a path", map[string]string{"Origin": r.base + "/x"}},
	} {
		resp, body := r.do(t, mgr, "POST", ack, `{"verdict":"confirmed","comment":"on my way"}`, c.hdr)
		wantJSON(t, resp, body, http.StatusForbidden, nil)
		t.Logf("%s: %s", c.name, body)
	}
	resp, body := r.do(t, anonymous, "POST", "/api/login", fmt.Sprintf(`{"username":"mgr","password":%q}`, passwordMgr), map[string]string{"Origin": "https://evil.example"})
	wantJSON(t, resp, body, http.StatusForbidden, nil)

	resp, body = r.do(t, mgr, "POST", ack, `{"verdict":"confirmed","comment":"on my way"}`, map[string]string{"Origin": r.base})
	wantJSON(t, resp, body, http.StatusOK, nil)
	es, _ := r.st.Audit(t.Context(), store.AuditQuery{Action: "alert_ack"})
	if len(es) != 1 || es[0].User != "mgr" || es[0].Target != fmt.Sprint("alert ", r.alerts[0]) {
		t.Errorf("ack audit = %+v", es)
	}
	// GET needs no CSRF token.
	resp, body = r.do(t, mgr, "GET", "/api/me", "", map[string]string{headerCSRF: ""})
	wantJSON(t, resp, body, http.StatusOK, nil)

	// Behind a proxy that terminates TLS, http.public_url names the origin.
	proxied := newAuthRig(t, rigOptions{httpYAML: "  public_url: https://Hallwatch.example:8443/"})
	mgr = proxied.login(t, "mgr", passwordMgr)
	for origin, status := range map[string]int{"https://hallwatch.example:8443": 200, "http://hallwatch.example:8443": 403, "https://hallwatch.example": 403} {
		resp, body = proxied.do(t, mgr, "POST", ack, `{"verdict":"confirmed","comment":"x"}`, map[string]string{"Origin": origin})
		if resp.StatusCode != status && !(status == 200 && resp.StatusCode == http.StatusConflict) {
			t.Errorf("Origin %s behind a proxy: %s %s, want %d", origin, resp.Status, body, status)
		}
	}
}

// TestJSONMediaTypeExact: a JSON body needs exactly application/json
// (parameters such as charset allowed), not a type that starts with it.
func TestJSONMediaTypeExact(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	login := fmt.Sprintf(`{"username":"mgr","password":%q}`, passwordMgr)
	for ctype, status := range map[string]int{
		"application/json": 200, "application/json; charset=utf-8": 200, "Application/JSON": 200,
		"application/jsonx": 415, "application/json-patch+json": 415, "text/plain": 415, "application/json;;": 415,
	} {
		resp, body := r.do(t, anonymous, "POST", "/api/login", login, map[string]string{"Content-Type": ctype})
		if resp.StatusCode != status {
			t.Errorf("Content-Type %q: %s %s, want %d", ctype, resp.Status, body, status)
		}
	}
}

func TestAPITokens(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	admin := r.login(t, "root", passwordAdmin)
	var created struct {
		Token string    `json:"token"`
		Info  tokenView `json:"info"`
	}
	resp, body := r.do(t, admin, "POST", "/api/tokens", `{"user":"sup","name":"wall display"}`, nil)
	wantJSON(t, resp, body, http.StatusCreated, &created)
	if !strings.HasPrefix(created.Token, "hw_") || created.Info.User != "sup" {
		t.Fatalf("token answer %s", body)
	}
	bot := &caller{name: "token", bearer: created.Token}
	var me meView
	resp, body = r.do(t, bot, "GET", "/api/me", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &me)
	if me.Name != "sup" || me.Via != "token" {
		t.Errorf("token /api/me = %+v", me)
	}
	// Scoped like its user; writes need no CSRF token.
	resp, body = r.do(t, bot, "GET", "/api/alerts/"+fmt.Sprint(r.alerts[2]), "", nil)
	wantJSON(t, resp, body, http.StatusForbidden, nil)
	resp, body = r.do(t, bot, "GET", "/api/alerts/"+fmt.Sprint(r.alerts[1]), "", nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	resp, body = r.do(t, bot, "POST", "/api/logout", "", nil)
	wantJSON(t, resp, body, http.StatusBadRequest, nil)

	var list struct{ Tokens []map[string]any }
	resp, body = r.do(t, admin, "GET", "/api/tokens", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &list)
	if len(list.Tokens) != 1 || strings.Contains(string(body), created.Token) || strings.Contains(string(body), "hash") {
		t.Errorf("token list %s", body)
	}
	resp, body = r.do(t, admin, "DELETE", fmt.Sprintf("/api/tokens/%d", created.Info.ID), "", nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	resp, body = r.do(t, bot, "GET", "/api/me", "", nil)
	wantJSON(t, resp, body, http.StatusUnauthorized, nil)
	for _, bad := range []string{"Bearer", "Bearer hw_nope", "Basic c3VwOnB3", "bearer " + created.Token} {
		resp, body = r.do(t, anonymous, "GET", "/api/me", "", map[string]string{"Authorization": bad})
		wantJSON(t, resp, body, http.StatusUnauthorized, nil)
	}
}

func TestCamerasFilteredByScope(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	for _, c := range []struct {
		user, pw string
		want     string
	}{
		{"root", passwordAdmin, "cam1,cam1b,cam2"},
		{"sup", passwordSup, "cam1,cam1b"},
		{"mgr", passwordMgr, "cam1"},
		{"plan", passwordPlanner, ""}, // no live video, no camera list
	} {
		var tree struct {
			Districts []struct {
				Centers []struct {
					Cameras []struct{ ID string }
				}
			}
		}
		resp, body := r.do(t, r.login(t, c.user, c.pw), "GET", "/api/cameras", "", nil)
		wantJSON(t, resp, body, http.StatusOK, &tree)
		var ids []string
		for _, d := range tree.Districts {
			for _, ctr := range d.Centers {
				for _, cam := range ctr.Cameras {
					ids = append(ids, cam.ID)
				}
			}
		}
		if got := strings.Join(ids, ","); got != c.want {
			t.Errorf("%s sees cameras %q, want %q", c.user, got, c.want)
		}
	}
}

func TestUserAdministration(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	admin := r.login(t, "root", passwordAdmin)
	var created createdUser
	resp, body := r.do(t, admin, "POST", "/api/users", `{"name":"eve","display_name":"Eve 王","role":"center_manager","centers":["c1b"]}`, nil)
	wantJSON(t, resp, body, http.StatusCreated, &created)
	if created.Password == "" || !created.User.MustChangePassword || created.User.Centers[0] != "c1b" {
		t.Fatalf("create answer %s", body)
	}
	for _, c := range []struct{ body, want string }{
		{`{"name":"x","role":"planner","centers":["nowhere"]}`, `unknown center \"nowhere\"`},
		{`{"name":"x","role":"boss"}`, `role \"boss\"`},
		{`{"name":"x","role":"admin","districts":["d1"]}`, "admin sees every district"},
		{`{"name":"eve","role":"planner"}`, "already taken"},
		{`{"name":"x","role":"planner","password":"short"}`, "at least 10"},
		{`{"name":"x","role":"planner","is_admin":true}`, `unknown field \"is_admin\"`},
		{`{"name":"x","role":"planner"} {"name":"y"}`, "single JSON object"},
		{`["x"]`, "cannot unmarshal array"},
	} {
		resp, body := r.do(t, admin, "POST", "/api/users", c.body, nil)
		if resp.StatusCode/100 != 4 || !strings.Contains(string(body), c.want) {
			t.Errorf("POST /api/users %s: %s %s, want 4xx naming %q", c.body, resp.Status, body, c.want)
		}
	}
	resp, body = r.do(t, admin, "POST", "/api/users", `{"name":"x","role":"planner"}`, map[string]string{"Content-Type": "text/plain"})
	wantJSON(t, resp, body, http.StatusUnsupportedMediaType, nil)

	// eve must change her password before anything else.
	eve := r.login(t, "eve", created.Password)
	resp, body = r.do(t, eve, "GET", "/api/cameras", "", nil)
	wantJSON(t, resp, body, http.StatusForbidden, nil)
	resp, body = r.do(t, eve, "POST", "/api/me/password", `{"current_password":"wrong-one-here","new_password":"eve-own-password"}`, nil)
	wantJSON(t, resp, body, http.StatusForbidden, nil)
	resp, body = r.do(t, eve, "POST", "/api/me/password", fmt.Sprintf(`{"current_password":%q,"new_password":"eve-own-password"}`, created.Password), nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	resp, body = r.do(t, eve, "GET", "/api/me", "", nil)
	wantJSON(t, resp, body, http.StatusUnauthorized, nil) // the old session ended with the change
	eve = r.login(t, "eve", "eve-own-password")
	resp, body = r.do(t, eve, "GET", "/api/alerts/"+fmt.Sprint(r.alerts[1]), "", nil)
	wantJSON(t, resp, body, http.StatusOK, nil)

	// Move her to c2: the old alert is out of reach at once.
	id := created.User.ID
	resp, body = r.do(t, admin, "PATCH", fmt.Sprintf("/api/users/%d", id), `{"centers":["c2"]}`, nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	resp, body = r.do(t, eve, "GET", "/api/alerts/"+fmt.Sprint(r.alerts[1]), "", nil)
	wantJSON(t, resp, body, http.StatusForbidden, nil)

	// Disable: her session stops working.
	resp, body = r.do(t, admin, "PATCH", fmt.Sprintf("/api/users/%d", id), `{"disabled":true}`, nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	resp, body = r.do(t, eve, "GET", "/api/me", "", nil)
	wantJSON(t, resp, body, http.StatusUnauthorized, nil)

	// The last admin stays.
	root, _ := r.auth.UserByName(t.Context(), "root")
	resp, body = r.do(t, admin, "PATCH", fmt.Sprintf("/api/users/%d", root.ID), `{"disabled":true}`, nil)
	wantJSON(t, resp, body, http.StatusConflict, nil)
	for _, path := range []string{"/api/users/0", "/api/users/abc", "/api/users/99999999999999999999"} {
		resp, body = r.do(t, admin, "PATCH", path, `{"disabled":true}`, nil)
		wantJSON(t, resp, body, http.StatusBadRequest, nil)
	}
	resp, body = r.do(t, admin, "PATCH", "/api/users/4242", `{"disabled":true}`, nil)
	wantJSON(t, resp, body, http.StatusNotFound, nil)

	var users struct{ Users []userView }
	resp, body = r.do(t, admin, "GET", "/api/users", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &users)
	if len(users.Users) != 5 || strings.Contains(string(body), "argon2") {
		t.Errorf("user list %s", body)
	}
}

func TestAuditLogAndCSV(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	admin := r.login(t, "root", passwordAdmin)
	r.do(t, anonymous, "POST", "/api/login", `{"username":"=cmd|' /C calc'!A0","password":"whatever-pass"}`, nil)
	r.do(t, anonymous, "POST", "/api/login", `{"username":"plan","password":"wrong-password"}`, nil)
	resp, body := r.do(t, admin, "POST", "/api/users", `{"name":"=1+1","role":"planner"}`, nil)
	wantJSON(t, resp, body, http.StatusCreated, nil)

	var list struct{ Entries []auditView }
	resp, body = r.do(t, admin, "GET", "/api/audit?action=login_failed", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &list)
	if len(list.Entries) != 2 {
		t.Fatalf("login_failed entries: %s", body)
	}
	resp, body = r.do(t, admin, "GET", "/api/audit.csv?from=2000-01-01", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("audit.csv: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	csv := string(body)
	if !strings.HasPrefix(csv, "time,user,action,target,target_name,detail,remote_addr\n") || !strings.Contains(csv, ",login,root,") ||
		!strings.Contains(csv, "login_failed,plan,,wrong password,127.0.0.1") {
		t.Errorf("audit.csv:\n%s", csv)
	}
	for _, bad := range []string{"?from=yesterday", "?limit=0", "?limit=999999999", "?from=2025-02-01&to=2025-01-01"} {
		resp, body = r.do(t, admin, "GET", "/api/audit"+bad, "", nil)
		wantJSON(t, resp, body, http.StatusBadRequest, nil)
	}
	if !strings.Contains(csv, ",user_create,'=1+1,") {
		t.Errorf("a formula-like user name is not defused in the export:\n%s", csv)
	}
	if strings.Contains(csv, "=cmd") {
		t.Error("a typed unknown user name reached the audit export")
	}
}

func TestSecurityHeaders(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	for _, path := range []string{"/", "/login.html", "/api/me", "/no/such"} {
		resp, _ := r.do(t, anonymous, "GET", path, "", nil)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, h)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS without TLS", path)
		}
	}
	for _, path := range []string{"/api/me", "/API/ME", "/Api/Cameras", "/WHEP/cam1", "/metrics"} {
		resp, _ := r.do(t, anonymous, "GET", path, "", nil)
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, resp.Header.Get("Cache-Control"))
		}
		if path != "/api/me" && path != "/metrics" && resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404 (paths are case-sensitive)", path, resp.Status)
		}
	}
	// Answers fasthttp gives before any handler runs carry them too.
	host := strings.TrimPrefix(r.base, "http://")
	resp := rawRequest(t, host, fmt.Sprintf("POST /api/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		host, r.cfg.HTTP.MaxBodyBytes+1))
	checkSecurityHeaders(t, "413", resp, http.StatusRequestEntityTooLarge)
	resp = rawRequest(t, host, "GET /api/me HTTP/1.1\r\nHost: "+host+"\r\nX-Filler: "+strings.Repeat("y", 8<<10)+"\r\n\r\n")
	checkSecurityHeaders(t, "431", resp, http.StatusRequestHeaderFieldsTooLarge)
}

// rawRequest writes a request as is (without a body it may announce) and
// reads the answer.
func rawRequest(t *testing.T, addr, req string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp
}

func checkSecurityHeaders(t *testing.T, what string, resp *http.Response, status int) {
	t.Helper()
	h := resp.Header
	if resp.StatusCode != status {
		t.Errorf("%s: %s, want %d", what, resp.Status, status)
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
		h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: headers %v", what, h)
	}
}

func TestPanicIsA500(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(r.srv.recoverPanics)
	app.Get("/boom", func(*fiber.Ctx) error { panic("kaboom") })
	for range 2 { // and the server still answers after one
		resp, err := app.Test(httptest.NewRequest("GET", "/boom", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 500 || strings.Contains(string(body), "kaboom") {
			t.Errorf("panic answered %d %s, want a 500 without details", resp.StatusCode, body)
		}
	}
	if !strings.Contains(r.log.String(), "kaboom") {
		t.Error("the panic is not in the log")
	}
}

// TestEventStreamEndsOnLogout: a live event stream stops when its user
// logs out.
func TestEventStreamEndsOnLogout(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	mgr := r.login(t, "mgr", passwordMgr)
	req, _ := http.NewRequest("GET", r.base+"/api/events", nil)
	req.AddCookie(&http.Cookie{Name: cookieSession, Value: mgr.session})
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 8)
	if _, err := io.ReadFull(resp.Body, first); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: %s %q %v", resp.Status, first, err)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		ended <- err
	}()
	resp2, body := r.do(t, mgr, "POST", "/api/logout", "", nil)
	wantJSON(t, resp2, body, http.StatusOK, nil)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the event stream outlived the logout")
	}
}

// TestServerStopsRightAfterStart: a context cancelled before the listener
// is serving still stops Run (it used to wait in Accept forever).
func TestServerStopsRightAfterStart(t *testing.T) {
	for range 20 {
		t.Run("", func(t *testing.T) { newAuthRig(t, rigOptions{}) }) // the rig's cleanup waits for Run
	}
}
