package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hallwatch/hallwatch/cluster"
	"github.com/hallwatch/hallwatch/natsbus"
)

// runHealth probes a running hallwatch's /healthz (container health checks
// have no curl in the slim image). A node of a cluster also says its part
// in it; with a token (the metrics token or an admin's API token), the
// cluster as it sees it.
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("health", "health [--url URL] [--cluster]", stderr)
	url := fs.String("url", "http://127.0.0.1:8080/healthz", "health endpoint to probe")
	detail := fs.Bool("cluster", false, "also list the cluster's nodes and leases (needs HALLWATCH_AUTH_METRICS_TOKEN or HALLWATCH_TOKEN)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var h struct {
		Status  string          `json:"status"`
		Cluster *cluster.Health `json:"cluster"`
	}
	if err := getJSON(ctx, *url, "", &h); err != nil {
		return err
	}
	fmt.Fprintln(stdout, h.Status)
	if h.Cluster == nil {
		return nil
	}
	c := h.Cluster
	nats := "NATS failing"
	if c.NATS == "ok" {
		nats = "NATS ok for " + time.Duration(c.NATSOKFor*float64(time.Second)).Round(time.Second).String()
	}
	ready := "settling (takes no camera yet)"
	if c.Ready {
		ready = "ready"
	}
	fmt.Fprintf(stdout, "node %s: %s, %s, %d leases; %d nodes alive\n", c.Node, nats, ready, c.Leases, c.Nodes)
	if !*detail {
		return nil
	}
	token := os.Getenv("HALLWATCH_AUTH_METRICS_TOKEN")
	if token == "" {
		token = os.Getenv("HALLWATCH_TOKEN")
	}
	if token == "" {
		return fmt.Errorf("--cluster needs a token: set HALLWATCH_AUTH_METRICS_TOKEN (or HALLWATCH_TOKEN, an admin's API token)")
	}
	var v struct {
		cluster.View
		Live natsbus.Stats `json:"live_messages"`
	}
	if err := getJSON(ctx, strings.TrimSuffix(*url, "/healthz")+"/api/cluster", token, &v); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "nodes:")
	for _, m := range v.Members {
		state := "ready"
		if !m.Ready {
			state = "settling"
		}
		if !m.SameKeys {
			state += ", CONFIGURED WITH OTHER CAMERAS OR NOTIFIERS"
		}
		fmt.Fprintf(stdout, "  %-16s %-48s %3d leases  %s, seen %.1fs ago\n", m.Node, m.PublicURL, m.Leases, state, m.SeenAgo)
	}
	fmt.Fprintf(stdout, "held here: %s\n", list(v.Held))
	fmt.Fprintf(stdout, "held by no node: %s\n", list(v.Unheld))
	fmt.Fprintf(stdout, "live messages: %d sent, %d received, %d waiting for NATS, %d dropped\n",
		v.Live.Sent, v.Live.Received, v.Live.Queued, v.Live.Dropped)
	return nil
}

func getJSON(ctx context.Context, url, token string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}

func list(items []string) string {
	if len(items) == 0 {
		return "(none)"
	}
	return strings.Join(items, ", ")
}
