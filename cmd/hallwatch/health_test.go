package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hallwatch/hallwatch/cluster"
)

func TestHealth(t *testing.T) {
	clustered := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/healthz" && !clustered:
			json.NewEncoder(w).Encode(map[string]any{"status": "ok"})
		case r.URL.Path == "/healthz":
			json.NewEncoder(w).Encode(map[string]any{"status": "ok", "cluster": cluster.Health{
				Node: "hallwatch-2", NATS: "ok", NATSOKFor: 75.2, Ready: true, Leases: 21, Nodes: 3}})
		case r.URL.Path == "/api/cluster" && r.Header.Get("Authorization") == "Bearer metrics-token-0123456":
			json.NewEncoder(w).Encode(map[string]any{
				"node": "hallwatch-2", "held": []string{"camera/a", "camera/b"}, "unheld": []string{"camera/c"},
				"members": []cluster.MemberView{
					{Node: "hallwatch-1", PublicURL: "https://h/node/hallwatch-1", Ready: true, Leases: 20, SeenAgo: 0.4, SameKeys: true},
					{Node: "hallwatch-2", PublicURL: "https://h/node/hallwatch-2", Ready: false, Leases: 2, SameKeys: false},
				},
				"live_messages": map[string]any{"sent": 10, "received": 20, "queued": 1, "dropped": 2},
			})
		default:
			http.Error(w, "no", http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	run := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := runHealth(context.Background(), append([]string{"--url", srv.URL + "/healthz"}, args...), &out, &errOut)
		return out.String(), err
	}

	out, err := run()
	if err != nil || !strings.HasPrefix(out, "ok\nnode hallwatch-2: NATS ok for 1m15s, ready, 21 leases; 3 nodes alive\n") {
		t.Errorf("health of a cluster node: %q, %v", out, err)
	}
	t.Setenv("HALLWATCH_AUTH_METRICS_TOKEN", "")
	t.Setenv("HALLWATCH_TOKEN", "")
	if _, err := run("--cluster"); err == nil || !strings.Contains(err.Error(), "needs a token") {
		t.Errorf("--cluster without a token: %v", err)
	}
	t.Setenv("HALLWATCH_AUTH_METRICS_TOKEN", "metrics-token-0123456")
	out, err = run("--cluster")
	for _, want := range []string{"hallwatch-1", "20 leases  ready, seen 0.4s ago", "settling, CONFIGURED WITH OTHER CAMERAS OR NOTIFIERS",
		"held here: camera/a, camera/b", "held by no node: camera/c", "10 sent, 20 received, 1 waiting for NATS, 2 dropped"} {
		if err != nil || !strings.Contains(out, want) {
			t.Errorf("--cluster: want %q in:\n%s (%v)", want, out, err)
		}
	}
	clustered = false
	if out, err := run(); err != nil || out != "ok\n" {
		t.Errorf("health of a single node: %q, %v", out, err)
	}
}
