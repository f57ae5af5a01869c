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

	"github.com/hallwatch/hallwatch/auth"
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

	// The audit entries are written as the peers close.
	deadline := time.Now().Add(10 * time.Second)
	var watches []store.AuditEntry
	for len(watches) < 3 && time.Now().Before(deadline) {
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

// TestRecheckEndsAccessChangedElsewhere: a change made outside this server
// (the CLI on the same database) ends live video and streams at the next
// sweep.
func TestRecheckEndsAccessChangedElsewhere(t *testing.T) {
	ctx := context.Background()
	r := newAuthRig(t, rigOptions{})
	offer := browserOffer(t)
	mgr := r.login(t, "mgr", passwordMgr)
	sup := r.login(t, "sup", passwordSup)
	for _, c := range []*caller{mgr, sup} {
		resp, body := r.do(t, c, "POST", "/whep/cam1", offer, sdpHeaders(c))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("offer as %s: %s %s", c.name, resp.Status, body)
		}
	}
	streams := func(name string) <-chan struct{} {
		p, err := r.auth.Current(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return r.srv.ends.ended(p)
	}
	mgrStreams, supStreams, planStreams := streams("mgr"), streams("sup"), streams("plan")

	r.srv.recheckAccess(ctx, "")
	if users := sessionUsers(r.viewers); !strings.Contains(users, "mgr") || !strings.Contains(users, "sup") {
		t.Fatalf("a sweep without changes ended sessions: %q left", users)
	}
	// As `hallwatch user …` would: mgr moves to c2, sup is disabled.
	u, _ := r.auth.UserByName(ctx, "mgr")
	if _, err := r.auth.ChangeUser(ctx, auth.Actor{Name: "cli"}, u.ID, auth.UserChange{Centers: &[]string{"c2"}}); err != nil {
		t.Fatal(err)
	}
	u, _ = r.auth.UserByName(ctx, "sup")
	if _, err := r.auth.ChangeUser(ctx, auth.Actor{Name: "cli"}, u.ID, auth.UserChange{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	r.srv.recheckAccess(ctx, "")
	if users := sessionUsers(r.viewers); users != "" {
		t.Errorf("sessions left after the sweep: %q", users)
	}
	for name, ch := range map[string]<-chan struct{}{"sup (disabled)": supStreams, "mgr (moved)": mgrStreams} {
		select {
		case <-ch:
		default:
			t.Errorf("streams of %s were not ended", name)
		}
	}
	select {
	case <-planStreams:
		t.Error("streams of an unchanged user were ended by the sweep")
	default:
	}
}

func ptr[T any](v T) *T { return &v }
