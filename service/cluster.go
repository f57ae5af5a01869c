package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/cluster"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/metrics"
	"github.com/hallwatch/hallwatch/natsbus"
	"github.com/hallwatch/hallwatch/web"
)

// In a cluster, the resources shared by lease are the cameras (with their
// recorders), the notifiers, the daily retention purge and the alert clip
// cutter (see cluster.Place for how they spread).
const (
	cameraKey    = "camera/"
	notifierKey  = "notifier/"
	retentionKey = "job/retention"
	clipsKey     = "job/clips"
)

const (
	// notifyPoll: the node delivering a notifier reads the shared outbox
	// this often, for the messages other nodes queue.
	notifyPoll = 2 * time.Second
	// settleTimeout bounds waiting, when a camera leaves this node, for
	// its last events to be stored and its alerts handled, so that the
	// next node finds them in the database.
	settleTimeout = 3 * time.Second
	// snapshotEvery is how often a node tells the others about the
	// cameras it runs; a snapshot older than snapshotStale is not trusted.
	snapshotEvery = 2 * time.Second
	snapshotStale = 3 * snapshotEvery
)

// joinCluster connects to NATS and prepares the lease node and the live
// bridge; Run starts them.
func (s *Service) joinCluster(ctx context.Context) error {
	c := s.cfg.Cluster
	var keys []string
	for _, ref := range s.cfg.Cameras() {
		keys = append(keys, cameraKey+ref.Camera.ID)
	}
	for _, n := range s.cfg.Notifiers {
		keys = append(keys, notifierKey+n.ID)
	}
	keys = append(keys, retentionKey, clipsKey)
	node, err := cluster.New(ctx, cluster.Options{
		NATSURL: c.NATSURL, SafeURL: c.SafeNATSURL(), NodeID: c.NodeID,
		PublicURL: strings.TrimSuffix(c.PublicURL, "/"), PeerURL: strings.TrimSuffix(c.PeerAddress(), "/"),
		LeaseTTL: c.LeaseTTL.D(), Replicas: c.Replicas, Keys: keys, Serve: s.serveKey, Log: s.log,
		Observe: func(op string, d time.Duration) { s.metrics.NATSSeconds.WithLabelValues(op).Observe(d.Seconds()) },
	})
	if err != nil {
		return err
	}
	s.node = node
	s.mirror = &mirror{cameras: map[string]mirrored{}}
	s.bridge = natsbus.New(natsbus.Options{Conn: node.Conn(), Node: c.NodeID, Bus: s.bus, Log: s.log,
		Snapshot: s.snapshot, OnSnapshot: s.applySnapshot, Every: snapshotEvery})
	s.log.Info("cluster", "node", c.NodeID, "nats", c.SafeNATSURL(), "public_url", c.PublicURL, "lease_ttl", c.LeaseTTL)
	return nil
}

// serveKey runs a resource while this node holds its lease.
func (s *Service) serveKey(ctx context.Context, key string) error {
	switch {
	case strings.HasPrefix(key, cameraKey):
		return s.serveCamera(ctx, strings.TrimPrefix(key, cameraKey))
	case strings.HasPrefix(key, notifierKey):
		return s.notifier.Deliver(ctx, strings.TrimPrefix(key, notifierKey), notifyPoll)
	case key == retentionKey:
		return s.retention.Run(ctx)
	case key == clipsKey:
		return s.rec.clips(ctx)
	}
	return fmt.Errorf("unknown resource %q", key)
}

// serveCamera runs a camera's unit while this node holds it: its open
// alerts are restored from the database first (the previous node raised
// them), and once it stops, its last events are stored before the lease
// is handed on.
func (s *Service) serveCamera(ctx context.Context, id string) error {
	ref, ok := s.cfg.Camera(id)
	if !ok {
		return fmt.Errorf("camera %q is not configured on this node", id)
	}
	if err := s.alerts.RestoreCamera(ctx, id); err != nil {
		return err
	}
	if err := s.rec.recoverCamera(ctx, id); err != nil {
		return err
	}
	cam, err := s.newCamera(ref)
	if err != nil {
		return err
	}
	if cam.analysis != nil {
		cam.analysis.analyzer.CoveredElsewhere(s.coveredWhenLeft(id))
	}
	s.mu.Lock()
	s.cameras[id] = cam
	s.mu.Unlock()
	s.log.Info("camera runs here now", "camera", id)
	defer func() {
		s.mu.Lock()
		delete(s.cameras, id)
		s.mu.Unlock()
		s.viewers.CloseCamera(id)
		settle, cancel := context.WithTimeout(context.Background(), settleTimeout)
		defer cancel()
		if !s.writer.settled(settle, id) {
			s.log.Warn("camera leaves this node with events not yet stored", "camera", id)
		}
		s.alerts.Release(id)
		s.log.Info("camera no longer runs here", "camera", id)
	}()
	return s.runCamera(ctx, cam)
}

// coveredWhenLeft returns the windows of camera that the node which ran it
// last showed staffed by their backup's clerk (AB post), and when this
// node last heard from it; nothing when no other node spoke of it.
func (s *Service) coveredWhenLeft(camera string) ([]string, time.Time) {
	at, ok := s.mirror.heard(camera)
	if !ok {
		return nil, time.Time{}
	}
	return events.CoveredWindows(s.alerts.State(camera).Windows), at
}

// cameraState is what the node running a camera tells the others of it.
type cameraState struct {
	Camera string             `json:"camera"`
	Status ingest.Status      `json:"status"`
	Alerts alerts.CameraState `json:"alerts"`
}

// snapshot is this node's cameras, for the other nodes.
func (s *Service) snapshot() []byte {
	cams := s.running()
	out := make([]cameraState, 0, len(cams))
	for _, cam := range cams {
		id := cam.ref.Camera.ID
		out = append(out, cameraState{Camera: id, Status: cam.source.Status(), Alerts: s.alerts.State(id)})
	}
	data, _ := json.Marshal(out)
	return data
}

// applySnapshot takes in another node's cameras.
func (s *Service) applySnapshot(node string, data []byte) {
	var states []cameraState
	if err := json.Unmarshal(data, &states); err != nil {
		s.log.Warn("cluster: unreadable snapshot", "from", node, "err", err)
		return
	}
	now := time.Now()
	for _, st := range states {
		if _, here := s.camera(st.Camera); here {
			continue // a camera in handover: this node's word counts
		}
		if _, configured := s.cfg.Camera(st.Camera); !configured {
			continue
		}
		s.mirror.set(st.Camera, mirrored{node: node, status: st.Status, at: now})
		s.alerts.Mirror(st.Camera, st.Alerts)
	}
}

// mirror keeps what the other nodes say of the cameras they run.
type mirror struct {
	mu      sync.Mutex
	cameras map[string]mirrored
}

type mirrored struct {
	node   string
	status ingest.Status
	at     time.Time
}

func (m *mirror) set(camera string, v mirrored) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cameras[camera] = v
}

// heard returns when the camera's node last spoke of it.
func (m *mirror) heard(camera string) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.cameras[camera]
	return v.at, ok
}

// status is the camera's ingest state as its node last said; a camera no
// node has spoken of lately is connecting (moving between nodes).
func (m *mirror) status(camera string) ingest.Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.cameras[camera]
	if !ok || time.Since(v.at) > snapshotStale {
		return ingest.Status{Camera: camera, State: ingest.StateConnecting, Since: v.at}
	}
	return v.status
}

// clusterView is the web's view of the cluster; nil on a single node.
func (s *Service) clusterView() web.Cluster {
	if s.node == nil {
		return nil
	}
	return clusterView{s}
}

type clusterView struct{ s *Service }

func (v clusterView) Owner(camera string) (string, bool) {
	if _, here := v.s.camera(camera); here {
		return "", false
	}
	url, self, ok := v.s.node.Owner(cameraKey + camera)
	return url, ok && !self
}

func (v clusterView) Base() string { return strings.TrimSuffix(v.s.cfg.Cluster.PublicURL, "/") }

func (v clusterView) Health() any { return v.s.node.Health() }

func (v clusterView) View() any {
	return struct {
		cluster.View
		Bridge natsbus.Stats `json:"live_messages"`
	}{v.s.node.View(), v.s.bridge.Stats()}
}

// clusterMetrics is this node's part in the cluster for a metrics scrape.
func (s *Service) clusterMetrics() *metrics.Cluster {
	if s.node == nil {
		return nil
	}
	st, br := s.node.Stats(), s.bridge.Stats()
	return &metrics.Cluster{Leases: st.Leases, Nodes: st.Nodes, NATSUp: st.NATSOK, Gained: st.Gained,
		HandedOver: st.HandedOver, Lost: st.Lost, Sent: br.Sent, Received: br.Received, Queued: br.Queued, Dropped: br.Dropped}
}
