package web

import (
	"net/http"
	"strings"
	"testing"
)

// The metrics token opens /metrics and nothing else; admins read metrics
// and profiles with their session.
func TestMetricsTokenAndProfiles(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	scraper := &caller{name: "scraper", bearer: rigMetricsToken}
	resp, body := r.do(t, scraper, "GET", "/metrics", "", nil)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "hallwatch_store_write_seconds") {
		t.Fatalf("metrics with the token: %s\n%.300s", resp.Status, body)
	}
	for _, path := range []string{"/api/users", "/api/cameras", "/debug/pprof/"} {
		if resp, _ := r.do(t, scraper, "GET", path, "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("metrics token on %s: %s, want 401", path, resp.Status)
		}
	}
	wrong := &caller{name: "wrong", bearer: rigMetricsToken + "x"}
	if resp, _ := r.do(t, wrong, "GET", "/metrics", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong metrics token: %s, want 401", resp.Status)
	}
	root := r.login(t, "root", passwordAdmin)
	if resp, body := r.do(t, root, "GET", "/debug/pprof/", "", nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine") {
		t.Errorf("admin pprof index: %s", resp.Status)
	}
	if resp, body := r.do(t, root, "GET", "/debug/pprof/goroutine?debug=1", "", nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("admin goroutine profile: %s %.100s", resp.Status, body)
	}
	if resp, body := r.do(t, root, "GET", "/api/notifiers", "", nil); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"notifiers"`) {
		t.Errorf("admin notifiers: %s %s", resp.Status, body)
	}
}
