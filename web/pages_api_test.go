package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/testzone"
	"github.com/hallwatch/hallwatch/store"
)

// apiErrorBody is the shape of every API failure.
type apiErrorBody struct {
	Error      string `json:"error"`
	Code       string `json:"code"`
	RetryAfter int    `json:"retry_after"`
	Min        int    `json:"min"`
}

func wantCode(t *testing.T, resp *http.Response, body []byte, status int, code string) apiErrorBody {
	t.Helper()
	var e apiErrorBody
	wantJSON(t, resp, body, status, &e)
	if e.Code != code || e.Error == "" {
		t.Errorf("%s %s: code %q (error %q), want %q", resp.Request.Method, resp.Request.URL.Path, e.Code, e.Error, code)
	}
	return e
}

// TestErrorCodes: failures carry a stable code the pages translate, and
// the fields a code promises (retry_after, min).
func TestErrorCodes(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	for range 3 { // lockout_attempts: 3
		resp, body := r.do(t, anonymous, "POST", "/api/login", `{"username":"sup","password":"not-the-password"}`, nil)
		wantCode(t, resp, body, http.StatusUnauthorized, codeLoginFailed)
	}
	resp, body := r.do(t, anonymous, "POST", "/api/login", fmt.Sprintf(`{"username":"sup","password":%q}`, passwordSup), nil)
	e := wantCode(t, resp, body, http.StatusTooManyRequests, codeLoginLocked)
	if e.RetryAfter < 590 || e.RetryAfter > 600 || resp.Header.Get("Retry-After") != strconv.Itoa(e.RetryAfter) {
		t.Errorf("locked: retry_after %d, Retry-After %q; want the 10m lockout", e.RetryAfter, resp.Header.Get("Retry-After"))
	}

	mgr := r.login(t, "mgr", passwordMgr)
	resp, body = r.do(t, mgr, "POST", fmt.Sprintf("/api/alerts/%d/ack", r.alerts[0]), `{}`, map[string]string{headerCSRF: ""})
	wantCode(t, resp, body, http.StatusForbidden, codeCSRF)
	resp, body = r.do(t, mgr, "GET", "/api/board?center=c2", "", nil)
	wantCode(t, resp, body, http.StatusForbidden, codeOutOfScope)
	resp, body = r.do(t, mgr, "GET", "/api/users", "", nil)
	wantCode(t, resp, body, http.StatusForbidden, codeRole)
	resp, body = r.do(t, anonymous, "GET", "/api/me", "", nil)
	wantCode(t, resp, body, http.StatusUnauthorized, "login_required")
	resp, body = r.do(t, mgr, "GET", "/api/nothing-here", "", nil)
	wantCode(t, resp, body, http.StatusNotFound, "no_route")
	resp, body = r.do(t, mgr, "GET", "/api/counts?from=yesterday", "", nil)
	wantCode(t, resp, body, http.StatusBadRequest, codeBadDate)
	resp, body = r.do(t, mgr, "GET", "/api/counts?from=2020-01-01&to=2024-01-01", "", nil)
	wantCode(t, resp, body, http.StatusBadRequest, codeRangeTooLong)
	resp, body = r.do(t, mgr, "POST", "/api/me/password", fmt.Sprintf(`{"current_password":%q,"new_password":"short"}`, passwordMgr), nil)
	if e := wantCode(t, resp, body, http.StatusBadRequest, codePasswordTooShort); e.Min != 10 {
		t.Errorf("password_too_short: min %d, want 10", e.Min)
	}
	resp, body = r.do(t, mgr, "POST", "/api/me/password", `{"current_password":"wrong-password-1","new_password":"a-new-password-1"}`, nil)
	wantCode(t, resp, body, http.StatusForbidden, codeWrongPassword)
	resp, body = r.do(t, mgr, "POST", "/api/me/password", fmt.Sprintf(`{"current_password":%q,"new_password":%q}`, passwordMgr, passwordMgr), nil)
	wantCode(t, resp, body, http.StatusBadRequest, codePasswordUnchanged)
	resp, body = r.do(t, mgr, "GET", fmt.Sprintf("/api/alerts/%d/snapshot.jpg", r.alerts[0]), "", nil)
	wantCode(t, resp, body, http.StatusNotFound, codeNoSnapshot)
	admin := r.login(t, "root", passwordAdmin)
	resp, body = r.do(t, admin, "POST", "/api/users", `{"name":"MGR","role":"planner","centers":["c1"]}`, nil)
	wantCode(t, resp, body, http.StatusConflict, codeNameTaken)
	resp, body = r.do(t, admin, "PATCH", "/api/users/1", `{"disabled":true}`, nil)
	wantCode(t, resp, body, http.StatusConflict, codeLastAdmin)
}

// TestWallViews: a user's last wall and named views are kept by the
// server (another login sees them), hold only cameras the user may watch,
// and are the user's alone.
func TestWallViews(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	sup := r.login(t, "sup", passwordSup)
	resp, body := r.do(t, sup, "POST", "/api/views", `{"name":"","layout":4,"cameras":["cam1b","cam1"]}`, nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	resp, body = r.do(t, sup, "POST", "/api/views", `{"name":"早班","layout":9,"cameras":["cam1"]}`, nil)
	var named viewJSON
	wantJSON(t, resp, body, http.StatusOK, &named)

	other := r.login(t, "sup", passwordSup) // another browser
	var list struct{ Views []viewJSON }
	resp, body = r.do(t, other, "GET", "/api/views", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &list)
	if len(list.Views) != 2 || list.Views[0].Name != "" || list.Views[0].Layout != 4 || !slices.Equal(list.Views[0].Cameras, []string{"cam1b", "cam1"}) ||
		list.Views[1].Name != "早班" || list.Views[1].Layout != 9 {
		t.Fatalf("views from another login: %s", body)
	}

	resp, body = r.do(t, sup, "POST", "/api/views", `{"name":"x","layout":4,"cameras":["cam2"]}`, nil)
	wantCode(t, resp, body, http.StatusForbidden, codeOutOfScope)
	resp, body = r.do(t, sup, "POST", "/api/views", `{"name":"x","layout":6,"cameras":[]}`, nil)
	wantJSON(t, resp, body, http.StatusBadRequest, nil)
	resp, body = r.do(t, sup, "POST", "/api/views", `{"name":"x","layout":4,"cameras":["no-such-cam"]}`, nil)
	wantJSON(t, resp, body, http.StatusNotFound, nil)

	mgr := r.login(t, "mgr", passwordMgr)
	resp, body = r.do(t, mgr, "GET", "/api/views", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &list)
	if len(list.Views) != 0 {
		t.Errorf("mgr sees views: %s", body)
	}
	resp, body = r.do(t, mgr, "DELETE", fmt.Sprintf("/api/views/%d", named.ID), "", nil)
	wantJSON(t, resp, body, http.StatusNotFound, nil)
	resp, body = r.do(t, sup, "DELETE", fmt.Sprintf("/api/views/%d", named.ID), "", nil)
	wantJSON(t, resp, body, http.StatusOK, nil)

	// A camera the user may no longer watch drops out of their views.
	admin := r.login(t, "root", passwordAdmin)
	u, _ := r.auth.UserByName(context.Background(), "mgr")
	resp, body = r.do(t, mgr, "POST", "/api/views", `{"name":"","layout":1,"cameras":["cam1"]}`, nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	resp, body = r.do(t, admin, "PATCH", fmt.Sprintf("/api/users/%d", u.ID), `{"centers":["c1b"]}`, nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	resp, body = r.do(t, mgr, "GET", "/api/views", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &list)
	if len(list.Views) != 1 || len(list.Views[0].Cameras) != 0 {
		t.Errorf("after losing c1, mgr's view: %s", body)
	}
}

// TestBulkAck acknowledges several alerts at once: all must be the
// user's, and those acknowledged meanwhile are reported, not failed.
func TestBulkAck(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	ctx := context.Background()
	a, _, err := r.st.RaiseAlert(ctx, store.AlertRecord{Kind: events.KindUnstaffed, District: "d1", Center: "c1", Camera: "cam1", Window: "w2", RaisedAt: time.Now()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	extra := a.ID
	mgr := r.login(t, "mgr", passwordMgr)
	resp, body := r.do(t, mgr, "POST", "/api/alerts/ack", fmt.Sprintf(`{"ids":[%d,%d],"verdict":"confirmed","comment":"都已联系"}`, r.alerts[0], r.alerts[1]), nil)
	wantCode(t, resp, body, http.StatusForbidden, codeOutOfScope)
	if a, _ := r.st.Alert(ctx, r.alerts[0]); !a.AckedAt.IsZero() {
		t.Fatal("a refused bulk acknowledgement acknowledged an alert")
	}
	resp, body = r.do(t, mgr, "POST", fmt.Sprintf("/api/alerts/%d/ack", extra), `{"verdict":"confirmed","comment":"先到"}`, nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	var got struct {
		Acknowledged []alertJSON `json:"acknowledged"`
		Skipped      []ackSkipped
	}
	resp, body = r.do(t, mgr, "POST", "/api/alerts/ack", fmt.Sprintf(`{"ids":[%d,%d],"verdict":"confirmed","comment":"都已联系"}`, r.alerts[0], extra), nil)
	wantJSON(t, resp, body, http.StatusOK, &got)
	if len(got.Acknowledged) != 1 || got.Acknowledged[0].ID != r.alerts[0] || got.Acknowledged[0].AckedBy != "mgr" ||
		len(got.Skipped) != 1 || got.Skipped[0].ID != extra || got.Skipped[0].Code != codeAcked {
		t.Fatalf("bulk ack: %s", body)
	}
	if a, _ := r.st.Alert(ctx, r.alerts[0]); a.AckComment != "都已联系" {
		t.Errorf("stored comment %q", a.AckComment)
	}
	resp, body = r.do(t, mgr, "POST", fmt.Sprintf("/api/alerts/%d/ack", extra), `{"verdict":"confirmed"}`, nil)
	wantCode(t, resp, body, http.StatusConflict, codeAcked)
	for _, bad := range []string{`{"ids":[],"verdict":"confirmed"}`, `{"ids":[0],"verdict":"confirmed"}`,
		fmt.Sprintf(`{"ids":[%d,%d],"verdict":"confirmed"}`, extra, extra), `{"ids":[999999],"verdict":"confirmed"}`,
		fmt.Sprintf(`{"ids":[%d]}`, extra), fmt.Sprintf(`{"ids":[%d],"verdict":"false_alarm"}`, extra)} {
		resp, body = r.do(t, mgr, "POST", "/api/alerts/ack", bad, nil)
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
			t.Errorf("bulk ack %s: %s %s", bad, resp.Status, body)
		}
	}
	acks, _ := r.st.Audit(ctx, store.AuditQuery{Action: "alert_ack"})
	if len(acks) != 2 {
		t.Errorf("%d alert_ack audit entries, want 2", len(acks))
	}
}

// TestCountsInCenterDay: without dates, counts cover the center's own last
// 7 days (not UTC's); rows start at the day its camera was first analysed
// and go up to now, days and hours without visitors included, and the CSV
// has exactly those rows.
func TestCountsInCenterDay(t *testing.T) {
	zone := testzone.NotOnUTCDay()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Skipf("no zone data: %v", err)
	}
	r := newAuthRig(t, rigOptions{zone: zone})
	ctx := context.Background()
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	if today.Format(time.DateOnly) == time.Now().UTC().Format(time.DateOnly) {
		t.Fatalf("zone %s is on UTC's day", zone)
	}
	first := today.AddDate(0, 0, -2).Add(10*time.Hour + 5*time.Minute) // installed two days ago
	var recs []store.EventRecord
	cross := func(at time.Time) {
		recs = append(recs, store.EventRecord{District: "d1", Center: "c1", Loc: loc,
			Event: events.Event{Type: events.TypeCrossing, Camera: "cam1", Line: "door", Direction: events.DirectionIn, Time: at}})
	}
	cross(first)
	cross(first.Add(time.Minute))
	nowish := today.Add(now.Sub(today) / 2) // earlier today, whatever the hour
	for range 3 {
		cross(nowish)
	}
	if err := r.st.AppendEvents(ctx, recs); err != nil {
		t.Fatal(err)
	}
	plan := r.login(t, "plan", passwordPlanner)

	var day countAnswer
	resp, body := r.do(t, plan, "GET", "/api/counts?center=c1", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &day)
	if day.To != today.Format(time.DateOnly) || day.From != today.AddDate(0, 0, -6).Format(time.DateOnly) {
		t.Errorf("default range %s..%s, want the center's last 7 days up to %s", day.From, day.To, today.Format(time.DateOnly))
	}
	var ins []int
	for _, row := range day.Rows {
		ins = append(ins, row.In)
	}
	if !slices.Equal(ins, []int{2, 0, 3}) || !day.Rows[0].Start.Equal(today.AddDate(0, 0, -2)) {
		t.Errorf("day rows %s, want 2, 0, 3 from the day the camera was first analysed", body)
	}
	if len(day.Centers) != 1 || day.Centers[0].Days != 3 || day.Centers[0].FirstDay != first.Format(time.DateOnly) || day.Centers[0].Timezone != zone {
		t.Errorf("centers %+v", day.Centers)
	}

	var hour countAnswer
	resp, body = r.do(t, plan, "GET", "/api/counts?center=c1&bucket=hour", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &hour)
	wantHours := int(time.Date(now.Year(), now.Month(), now.Day(), now.Hour(), 0, 0, 0, loc).Sub(first.Truncate(time.Hour)).Hours()) + 1
	sum := 0
	for _, row := range hour.Rows {
		sum += row.In
	}
	if len(hour.Rows) != wantHours || sum != 5 || hour.Rows[0].Start.In(loc).Hour() != 10 {
		t.Errorf("hour rows: %d from %v adding up to %d; want %d from 10:00 adding up to 5", len(hour.Rows), hour.Rows[0].Start, sum, wantHours)
	}

	for _, c := range []struct {
		bucket string
		rows   int
	}{{"day", len(day.Rows)}, {"hour", len(hour.Rows)}} {
		resp, body = r.do(t, plan, "GET", "/api/counts.csv?center=c1&bucket="+c.bucket, "", nil)
		if lines := strings.Count(strings.TrimSpace(string(body)), "\n") + 1; resp.StatusCode != http.StatusOK || lines != c.rows+1 {
			t.Errorf("%s CSV: %s, %d lines; want a header and %d rows", c.bucket, resp.Status, lines, c.rows)
		}
	}

	// A range before the installation has no rows; a center never analysed none either.
	var before countAnswer
	resp, body = r.do(t, plan, "GET", "/api/counts?center=c1&from="+today.AddDate(0, 0, -9).Format(time.DateOnly)+"&to="+today.AddDate(0, 0, -3).Format(time.DateOnly), "", nil)
	wantJSON(t, resp, body, http.StatusOK, &before)
	if len(before.Rows) != 0 || before.Centers[0].Days != 0 {
		t.Errorf("before installation: %s", body)
	}
	sup := r.login(t, "sup", passwordSup)
	var never countAnswer
	resp, body = r.do(t, sup, "GET", "/api/counts?center=c1b", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &never)
	if len(never.Rows) != 0 || len(never.Centers) != 1 || never.Centers[0].FirstDay != "" {
		t.Errorf("a center never analysed: %s", body)
	}
}

// TestBoardCarriesCameraStates: the board names its cameras with their
// states (pages grey the windows of one that is offline).
func TestBoardCarriesCameraStates(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	mgr := r.login(t, "mgr", passwordMgr)
	var b struct {
		Cameras []boardCamera `json:"cameras"`
	}
	resp, body := r.do(t, mgr, "GET", "/api/board?center=c1", "", nil)
	wantJSON(t, resp, body, http.StatusOK, &b)
	if len(b.Cameras) != 1 || b.Cameras[0].ID != "cam1" || b.Cameras[0].Name != "Hall One" {
		t.Errorf("board cameras %s", body)
	}
}

// TestFavicon: browsers ask for /favicon.ico on every page.
func TestFavicon(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	resp, body := r.do(t, anonymous, "GET", "/favicon.ico", "", nil)
	if resp.StatusCode != http.StatusOK || len(body) < 100 || string(body[:4]) != "\x00\x00\x01\x00" {
		t.Errorf("favicon: %s, %d bytes", resp.Status, len(body))
	}
}
