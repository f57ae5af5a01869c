package config

import (
	"net/url"
	"strings"
	"time"
)

// Bounds of cluster.lease_ttl: shorter leases fail over sooner but take a
// camera from a node that only paused (a long GC, a slow disk); longer ones
// leave cameras dark longer when a node dies.
const (
	minLeaseTTL = Duration(2 * time.Second)
	maxLeaseTTL = Duration(time.Minute)
)

func (c *checker) cluster(cl *Cluster, st *Storage) {
	if d := cl.LeaseTTL; d < minLeaseTTL || d > maxLeaseTTL {
		c.fail("cluster.lease_ttl", "must be from %s to %s, got %s", minLeaseTTL, maxLeaseTTL, d)
	}
	if cl.Replicas < 1 || cl.Replicas > 5 {
		c.fail("cluster.replicas", "must be from 1 to 5, got %d", cl.Replicas)
	}
	if !cl.Enabled() {
		for key, v := range map[string]string{"cluster.node_id": cl.NodeID, "cluster.public_url": cl.PublicURL, "cluster.peer_url": cl.PeerURL} {
			if v != "" {
				c.fail(key, "set without cluster.nats_url: a node joins a cluster through NATS; leave the cluster section out for one node")
			}
		}
		return
	}
	c.natsURLs("cluster.nats_url", cl.NATSURL)
	if st.Driver != "postgres" {
		c.fail("cluster.nats_url", "a cluster needs storage.driver postgres: its nodes share users, alerts and counts in one database")
	}
	switch {
	case cl.NodeID == "":
		c.fail("cluster.node_id", "required in a cluster: a name unique among the nodes, such as hallwatch-1")
	case !slug.MatchString(cl.NodeID):
		c.fail("cluster.node_id", "invalid id %q: use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit", cl.NodeID)
	}
	if c.required("cluster.public_url", cl.PublicURL) {
		c.nodeURL("cluster.public_url", cl.PublicURL)
	}
	if cl.PeerURL != "" {
		c.nodeURL("cluster.peer_url", cl.PeerURL)
	}
}

// natsURLs checks a comma-separated list of NATS server URLs. A URL is
// never quoted: it may hold a password.
func (c *checker) natsURLs(key, list string) {
	for raw := range strings.SplitSeq(list, ",") {
		raw = strings.TrimSpace(raw)
		u, ok := c.parseURL(key, raw, "nats://nats.example.gov.cn:4222")
		if !ok {
			return
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			c.fail(key, "scheme %q not allowed, want nats, tls, ws or wss", u.Scheme)
			return
		}
		c.urlHost(key, u)
	}
}

// nodeURL checks the address of a node: http(s), a host, an optional path
// (a reverse proxy's prefix for the node), no credentials, query or fragment.
func (c *checker) nodeURL(key, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		c.fail(key, "want an http:// or https:// address, optionally with a path, without credentials or query, such as https://hallwatch.example.gov.cn/node/hallwatch-1")
		return
	}
	c.urlHost(key, u)
}
