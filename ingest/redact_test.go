package ingest

import (
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	for _, tc := range []struct{ url, text, secret string }{
		{"rtsp://admin:Pa55w0rd@10.0.0.5/Streaming/101", "dial rtsp://admin:Pa55w0rd@10.0.0.5/Streaming/101: refused", "Pa55w0rd"},
		{"rtsp://admin:p%40ss%2Fx@10.0.0.5/", "server said: bad password p@ss/x", "p@ss/x"},
		{"rtsp://admin:p%40ss%2Fx@10.0.0.5/", "url admin:p%40ss%2Fx@10.0.0.5", "p%40ss%2Fx"},
		{"rtsp://10.0.0.5/cam?user=admin&password=hunter2", "invalid control rtsp://10.0.0.5/cam?user=admin&password=hunter2/trackID=1", "hunter2"},
		{"rtsp://u:x y@host", "parse \"rtsp://u:x y@host\": invalid character", "x y"},
	} {
		r := newRedactor(tc.url)
		got := r.redact(tc.text)
		if strings.Contains(got, tc.secret) {
			t.Errorf("redact(%q) = %q, still shows %q", tc.text, got, tc.secret)
		}
		if !strings.Contains(got, "***") {
			t.Errorf("redact(%q) = %q, no mask", tc.text, got)
		}
	}
	if got := newRedactor("rtsp://10.0.0.5/x").redact("EOF"); got != "EOF" {
		t.Errorf("URL without secrets changed text: %q", got)
	}
}
