package web

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzWHEPOffer posts arbitrary bodies as WHEP offers with valid
// credentials: the answer is always 201 or 4xx, never a panic or a 5xx.
// Offers that parse reach pion (SetRemoteDescription, ICE gathering), whose
// background goroutines make coverage noisy, so bound minimisation:
//
//	go test ./web -run '^$' -fuzz FuzzWHEPOffer -fuzztime 30s -fuzzminimizetime 5x
func FuzzWHEPOffer(f *testing.F) {
	r := newAuthRig(f, rigOptions{})
	good := browserOffer(f)
	f.Add(good)
	f.Add(strings.ReplaceAll(good, "H264", "VP8"))
	f.Add(strings.ReplaceAll(good, "a=fingerprint", "a=x"))
	f.Add("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtpmap:96 H264/90000\r\n")
	f.Add("")
	f.Add("v=0\r\n" + strings.Repeat("m=video 9 RTP 0\r\n", 40))
	f.Add("\x00\xff\r\n")
	var tok struct{ Token string }
	admin := r.login(f, "root", passwordAdmin)
	resp, body := r.do(f, admin, "POST", "/api/tokens", `{"user":"root","name":"fuzz"}`, nil)
	wantJSON(f, resp, body, 201, &tok)

	f.Fuzz(func(t *testing.T, offer string) {
		req := httptest.NewRequest("POST", "/whep/cam1", strings.NewReader(offer))
		req.Header.Set("Content-Type", "application/sdp")
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err := r.srv.Handler().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode == 201:
			// Free the slot: the fuzzer must not fill the viewer limit.
			loc := resp.Header.Get("Location")
			r.viewers.Hangup("cam1", loc[strings.LastIndex(loc, "/")+1:])
		case resp.StatusCode >= 400 && resp.StatusCode < 500:
		default:
			t.Fatalf("offer %.300q: status %d", offer, resp.StatusCode)
		}
	})
}
