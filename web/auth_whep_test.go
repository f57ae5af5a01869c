package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/internal/testclip"
	"github.com/hallwatch/hallwatch/internal/whepclient"
	"github.com/hallwatch/hallwatch/relay"
	"github.com/hallwatch/hallwatch/store"
)

// browserOffer makes a real recvonly video offer with all candidates, as
// the live wall sends it.
func browserOffer(t testing.TB) string {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-gathered
	return pc.LocalDescription().SDP
}

func sdpHeaders(c *caller) map[string]string {
	h := map[string]string{"Content-Type": "application/sdp"}
	if c.bearer != "" {
		h["Authorization"] = "Bearer " + c.bearer
	}
	return h
}

// whepHeader carries a caller's credentials into whepclient.
func whepHeader(c *caller) http.Header {
	h := http.Header{}
	if c.session != "" {
		h.Set("Cookie", cookieSession+"="+c.session+"; "+cookieCSRF+"="+c.csrf)
		h.Set(headerCSRF, c.csrf)
	}
	if c.bearer != "" {
		h.Set("Authorization", "Bearer "+c.bearer)
	}
	return h
}

// TestWHEPAccess plays a camera through real pion peers: refused without
// login or outside the scope (before any ICE work), played with a session
// cookie or an API token, and ended by logout and by disabling the user;
// each watch lands in the audit log with its duration.
func TestWHEPAccess(t *testing.T) {
	units := testclip.H264(t, testclip.Options{Width: 160, Height: 120, FPS: 25, GOP: 25, Frames: 50})
	r := newAuthRig(t, rigOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); testclip.Play(ctx, t, r.relays["cam1"].Push, units, 25) }()
	defer func() { cancel(); wg.Wait() }()

	offer := browserOffer(t)
	resp, body := r.do(t, anonymous, "POST", "/whep/cam1", offer, sdpHeaders(anonymous))
	wantJSON(t, resp, body, http.StatusUnauthorized, nil)
	mgr := r.login(t, "mgr", passwordMgr)
	resp, body = r.do(t, mgr, "POST", "/whep/cam2", offer, sdpHeaders(mgr))
	wantJSON(t, resp, body, http.StatusForbidden, nil)
	plan := r.login(t, "plan", passwordPlanner)
	resp, body = r.do(t, plan, "POST", "/whep/cam1", offer, sdpHeaders(plan))
	wantJSON(t, resp, body, http.StatusForbidden, nil)
	if n := r.viewers.Count(); n != 0 {
		t.Fatalf("%d WHEP sessions after refused offers", n)
	}

	admin := r.login(t, "root", passwordAdmin)
	var tok struct{ Token string }
	resp, body = r.do(t, admin, "POST", "/api/tokens", `{"user":"sup","name":"wall"}`, nil)
	wantJSON(t, resp, body, http.StatusCreated, &tok)
	sup := &caller{name: "sup token", bearer: tok.Token}

	var locMgr, locSup string
	mgrView, err := whepclient.Connect(ctx, whepclient.HTTP(r.client, r.base+"/whep/cam1", whepHeader(mgr), &locMgr), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer mgrView.Close()
	supView, err := whepclient.Connect(ctx, whepclient.HTTP(r.client, r.base+"/whep/cam1", whepHeader(sup), &locSup), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer supView.Close()
	mgrView.Wait(t, 10, 20*time.Second)
	supView.Wait(t, 10, 20*time.Second)
	// A viewing is in the audit log while it lasts: who watches now.
	watching, err := r.st.Audit(ctx, store.AuditQuery{Action: "watch"})
	if err != nil {
		t.Fatal(err)
	}
	if len(watching) != 2 || watching[0].Detail != "watching" || watching[1].Detail != "watching" {
		t.Fatalf("audit while two viewers watch: %+v", watching)
	}

	// Someone else's session cannot be hung up, even knowing its URL.
	resp, body = r.do(t, sup, "DELETE", locMgr, "", nil)
	wantJSON(t, resp, body, http.StatusNotFound, nil)

	resp, body = r.do(t, mgr, "POST", "/api/logout", "", nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	if users := sessionUsers(r.viewers); users != "sup" {
		t.Fatalf("after mgr's logout the sessions are %q, want sup's only", users)
	}
	// Revoking a token ends the video it opened, and only that.
	var tok2 struct {
		Token string
		Info  tokenView
	}
	resp, body = r.do(t, admin, "POST", "/api/tokens", `{"user":"sup","name":"second screen"}`, nil)
	wantJSON(t, resp, body, http.StatusCreated, &tok2)
	second, err := whepclient.Connect(ctx, whepclient.HTTP(r.client, r.base+"/whep/cam1", whepHeader(&caller{bearer: tok2.Token}), nil), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.Wait(t, 5, 20*time.Second)
	if n := r.viewers.Count(); n != 2 {
		t.Fatalf("%d sessions, want sup's two", n)
	}
	resp, body = r.do(t, admin, "DELETE", fmt.Sprintf("/api/tokens/%d", tok2.Info.ID), "", nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	if n := r.viewers.Count(); n != 1 {
		t.Fatalf("%d sessions after revoking the second token, want 1", n)
	}
	supView.Wait(t, 5, 20*time.Second) // the first token's viewer plays on

	supUser, _ := r.auth.UserByName(ctx, "sup")
	resp, body = r.do(t, admin, "PATCH", fmt.Sprintf("/api/users/%d", supUser.ID), `{"disabled":true}`, nil)
	wantJSON(t, resp, body, http.StatusOK, nil)
	if n := r.viewers.Count(); n != 0 {
		t.Fatalf("%d sessions after the user was disabled", n)
	}

	// The audit entries are completed as the peers close.
	completed := func(ws []store.AuditEntry) bool {
		for _, w := range ws {
			if w.Detail == "watching" {
				return false
			}
		}
		return len(ws) == 3
	}
	deadline := time.Now().Add(10 * time.Second)
	var watches []store.AuditEntry
	for !completed(watches) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		watches, _ = r.st.Audit(ctx, store.AuditQuery{Action: "watch"})
	}
	if len(watches) != 3 {
		t.Fatalf("%d watch audit entries, want 3: %+v", len(watches), watches)
	}
	for _, w := range watches {
		if w.Target != "cam1" || w.RemoteAddr != "127.0.0.1" || !strings.Contains(w.Detail, "of video") {
			t.Errorf("watch entry %+v", w)
		}
	}
}

func sessionUsers(v *relay.Sessions) string {
	var users []string
	for _, s := range v.Sessions() {
		users = append(users, s.User)
	}
	return strings.Join(users, ",")
}

// TestWHEPHostileOffers: every malformed or oversized offer is a 4xx and
// leaves no session behind.
func TestWHEPHostileOffers(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	admin := r.login(t, "root", passwordAdmin)
	good := browserOffer(t)
	noH264 := strings.NewReplacer("H264", "XVID", "h264", "xvid").Replace(good)
	manySections := good + strings.Repeat("m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 H264/90000\r\n", 20)
	for _, c := range []struct {
		name, body, ctype string
		status            int
	}{
		{"not SDP", "hello", "application/sdp", 400},
		{"empty", "", "application/sdp", 400},
		{"wrong type", good, "text/plain", 415},
		{"no H.264", noH264, "application/sdp", 400},
		{"too many sections", manySections, "application/sdp", 400},
		{"over the offer limit", good + strings.Repeat("a=x:"+strings.Repeat("y", 100)+"\r\n", 700), "application/sdp", 413},
		{"bad camera id", good, "application/sdp", 400},
		{"unknown camera", good, "application/sdp", 404},
	} {
		path := "/whep/cam1"
		switch c.name {
		case "bad camera id":
			path = "/whep/CAM%201"
		case "unknown camera":
			path = "/whep/cam9"
		}
		resp, body := r.do(t, admin, "POST", path, c.body, map[string]string{"Content-Type": c.ctype})
		if resp.StatusCode != c.status {
			t.Errorf("%s: %s %.200s, want %d", c.name, resp.Status, body, c.status)
		}
	}
	// Beyond http.max_body_bytes the server answers 413 without reading the
	// rest, and may close the connection while the client still writes.
	req, _ := http.NewRequest("POST", r.base+"/whep/cam1", strings.NewReader(strings.Repeat("v", 2<<20)))
	req.Header.Set("Content-Type", "application/sdp")
	req.Header.Set("Authorization", "Bearer nothing-checked-yet")
	if resp, err := r.client.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("2 MiB body: %s, want 413", resp.Status)
		}
	} else if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("2 MiB body: %v", err)
	}
	if n := r.viewers.Count(); n != 0 {
		t.Errorf("%d sessions after hostile offers", n)
	}
}

func ptr[T any](v T) *T { return &v }

// TestWHEPSessionLimits: many parallel offers from one user get no more
// than the user's share of live video (429 beyond), and the total cap
// holds (503 beyond), so another user still gets in while the first one
// floods.
func TestWHEPSessionLimits(t *testing.T) {
	r := newAuthRig(t, rigOptions{yaml: "webrtc:\n  max_sessions: 6\n  max_sessions_per_user: 4\n  connect_timeout: 2m\n"})
	offer := browserOffer(t)
	offers := func(c *caller, n int) map[int]int {
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _ := r.do(t, c, "POST", "/whep/cam1", offer, sdpHeaders(c))
				statuses <- resp.StatusCode
			}()
		}
		wg.Wait()
		close(statuses)
		got := map[int]int{}
		for s := range statuses {
			got[s]++
		}
		return got
	}
	sup := r.login(t, "sup", passwordSup)
	if got := offers(sup, 24); got[http.StatusCreated] != 4 || got[http.StatusTooManyRequests] != 20 {
		t.Errorf("24 parallel offers of one user: %v, want 4 × 201 and 20 × 429", got)
	}
	mgr := r.login(t, "mgr", passwordMgr)
	if got := offers(mgr, 3); got[http.StatusCreated] != 2 || got[http.StatusServiceUnavailable] != 1 {
		t.Errorf("another user's offers: %v, want 2 × 201 (the total cap is 6) and 1 × 503", got)
	}
	if n := r.viewers.Count(); n != 6 {
		t.Errorf("%d sessions, want 6", n)
	}
	// Hanging up gives the slot back.
	for _, v := range r.viewers.Sessions() {
		if v.User == "sup" {
			resp, body := r.do(t, sup, "DELETE", "/whep/cam1/"+v.ID, "", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("DELETE: %s %s", resp.Status, body)
			}
			break
		}
	}
	if got := offers(sup, 3); got[http.StatusCreated] != 1 {
		t.Errorf("offers after a hang-up: %v, want one 201", got)
	}
}

// TestUnconnectedSessionsExpire: a session whose viewer never connects
// ends after webrtc.connect_timeout and frees its slot.
func TestUnconnectedSessionsExpire(t *testing.T) {
	r := newAuthRig(t, rigOptions{yaml: "webrtc:\n  max_sessions_per_user: 2\n  connect_timeout: 1s\n"})
	sup := r.login(t, "sup", passwordSup)
	offer := browserOffer(t) // its peer is gone: it never connects
	for range 2 {
		resp, body := r.do(t, sup, "POST", "/whep/cam1", offer, sdpHeaders(sup))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("offer: %s %s", resp.Status, body)
		}
	}
	waitUntil(t, "unconnected sessions to end", func() bool { return r.viewers.Count() == 0 })
	resp, body := r.do(t, sup, "POST", "/whep/cam1", offer, sdpHeaders(sup))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("offer after the expiry: %s %s", resp.Status, body)
	}
	// Both expired viewings are completed in the audit; the third, just
	// started, shows as watching.
	var watches []store.AuditEntry
	waitUntil(t, "the audit of both", func() bool {
		watches, _ = r.st.Audit(t.Context(), store.AuditQuery{Action: "watch"})
		return len(watches) == 3 && strings.Contains(watches[1].Detail, "never connected") && strings.Contains(watches[2].Detail, "never connected")
	})
	if watches[0].Detail != "watching" {
		t.Errorf("watch entries %+v", watches)
	}
}

// waitUntil polls cond until it holds; the bound is generous, reaching it
// means the thing never happens.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 15 s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
