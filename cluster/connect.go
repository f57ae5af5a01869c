package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// connectTimeout bounds the first connection and the buckets' set-up.
const connectTimeout = 10 * time.Second

// connect dials NATS, checks JetStream and opens (or creates) the buckets.
// Every error names the key at fault and why.
func (n *Node) connect(ctx context.Context) error {
	log := n.o.Log
	opts := []nats.Option{
		nats.Name("hallwatch " + n.o.NodeID),
		nats.Timeout(n.t.opTimeout * 5),
		// Never give up, and notice a dead link within about the margin.
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.PingInterval(max(n.t.renew, time.Second)),
		nats.MaxPingsOutstanding(2),
		// No buffering while disconnected: a renewal sent late is wrong,
		// and live events are buffered (bounded) by their bridge.
		nats.ReconnectBufSize(-1),
		nats.NoCallbacksAfterClientClose(),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn("cluster: NATS connection lost", "node", n.o.NodeID, "err", err)
			n.mu.Lock()
			n.failing(time.Now())
			n.mu.Unlock()
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			log.Info("cluster: NATS connection back", "node", n.o.NodeID)
			select {
			case n.rewatch <- struct{}{}:
			default:
			}
		}),
	}
	nc, err := nats.Connect(n.o.NATSURL, opts...)
	if err != nil {
		return fmt.Errorf("cluster.nats_url: %s: cannot connect: %w", n.o.SafeURL, why(n.o.NATSURL, err))
	}
	n.nc = nc
	if err := n.openBuckets(ctx); err != nil {
		nc.Close()
		return err
	}
	if err := n.checkUnique(ctx); err != nil {
		nc.Close()
		return err
	}
	return nil
}

// why explains nats.Connect's "no servers available": it keeps the
// reason to itself, so the servers are dialled again to learn it.
func why(urls string, err error) error {
	if !errors.Is(err, nats.ErrNoServers) {
		return err
	}
	var reasons []error
	for raw := range strings.SplitSeq(urls, ",") {
		u, perr := url.Parse(strings.TrimSpace(raw))
		if perr != nil {
			continue
		}
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "4222")
		}
		c, derr := net.DialTimeout("tcp", host, 2*time.Second)
		if derr != nil {
			reasons = append(reasons, derr)
			continue
		}
		c.Close()
		reasons = append(reasons, fmt.Errorf("%s accepts connections but did not complete the NATS handshake (not a NATS server, or TLS expected)", host))
	}
	if len(reasons) == 0 {
		return err
	}
	return errors.Join(reasons...)
}

func (n *Node) openBuckets(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	js, err := jetstream.New(n.nc, jetstream.WithPublishAsyncTimeout(n.t.ttl))
	if err != nil {
		return fmt.Errorf("cluster.nats_url: %s: %w", n.o.SafeURL, err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) ||
			errors.Is(err, nats.ErrNoResponders) {
			return fmt.Errorf("cluster.nats_url: %s: JetStream is not enabled on this NATS server (start nats-server with -js, or a jetstream block in its configuration)", n.o.SafeURL)
		}
		return fmt.Errorf("cluster.nats_url: %s: JetStream: %w", n.o.SafeURL, err)
	}
	n.js = js
	if n.leases, err = n.bucket(ctx, leaseBucket, "hallwatch camera and notifier leases: a key per resource, held by the node that wrote it last", n.t.ttl); err != nil {
		return err
	}
	n.nodes, err = n.bucket(ctx, nodeBucket, "hallwatch nodes alive: a heartbeat record per node", n.t.ttl)
	return err
}

// bucket opens a bucket, creating it if it does not exist. One made by
// nodes with another lease TTL or replica count is an error: the nodes of
// a cluster must agree.
func (n *Node) bucket(ctx context.Context, name, about string, ttl time.Duration) (jetstream.KeyValue, error) {
	kv, err := n.js.KeyValue(ctx, name)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = n.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name, Description: about, TTL: ttl,
			Storage: jetstream.FileStorage, Replicas: n.o.Replicas})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = n.js.KeyValue(ctx, name) // another node made it meanwhile
		}
	}
	if err != nil {
		if strings.Contains(err.Error(), "insufficient resources") || strings.Contains(err.Error(), "replicas") {
			return nil, fmt.Errorf("cluster.replicas: bucket %s with %d replicas: %w", name, n.o.Replicas, err)
		}
		return nil, fmt.Errorf("cluster.nats_url: %s: bucket %s: %w", n.o.SafeURL, name, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("cluster.nats_url: %s: bucket %s: %w", n.o.SafeURL, name, err)
	}
	if st.TTL() != ttl {
		return nil, fmt.Errorf("cluster.lease_ttl: is %s here, but the cluster's bucket %s was made with %s: every node must have the same lease_ttl (or delete the bucket while all nodes are stopped)",
			ttl, name, st.TTL())
	}
	return kv, nil
}

// checkUnique refuses a node id another running node uses: its record
// must not change for a lease TTL (it may be this node's previous run,
// killed, whose record has yet to expire).
func (n *Node) checkUnique(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout+n.t.ttl)
	defer cancel()
	first, err := n.nodes.Get(ctx, n.o.NodeID)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cluster.nats_url: %s: bucket %s: %w", n.o.SafeURL, nodeBucket, err)
	}
	n.o.Log.Info("cluster: a record of this node id exists; waiting to see whether another node writes it", "node", n.o.NodeID)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(n.t.ttl):
	}
	again, err := n.nodes.Get(ctx, n.o.NodeID)
	if err == nil && again.Revision() != first.Revision() {
		var r record
		decode(again.Value(), &r)
		return fmt.Errorf("cluster.node_id: %q is in use by another running node (at %s): give each node its own id", n.o.NodeID, r.PublicURL)
	}
	return nil
}
