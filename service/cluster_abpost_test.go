package service

import (
	"context"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/store"
)

// TestClusterFailoverKeepsTheABPost kills the node running the AB-post
// hall while w2's clerk covers w1. The node taking the camera over has no
// saved state of it (each node keeps state_dir on its own disk), and
// nothing on the picture tells the two clerks apart: it must take up the
// covering from what the killed node last showed (its board snapshots),
// so w1 stays staffed by its backup and w2 covering, and w2 raises no
// unstaffed alert while its clerk sits at w1.
func TestClusterFailoverKeepsTheABPost(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two hallwatch nodes for about a minute")
	}
	// The AB-post hall, w1's clerk leaving once the cluster watches: a
	// node starting while w2's clerk already sits at w1 cannot tell.
	hall := abPostHall
	hall.ClerkAwayInterval = demo.Range{Min: 25 * time.Second, Max: 30 * time.Second}
	r := newClusterRig(t, 1, func(int) demo.SceneOptions { return hall }, true)
	// The shipped person model: the motion detector cannot see a clerk
	// who sits still at w1 when the new node starts.
	r.cfg.Detector.Kind = "auto"
	camera := r.ids[0]
	nodes := []*clusterNode{r.start("n1", r.nats.URL()), r.start("n2", r.nats.URL())}
	covering := func(n *clusterNode) bool {
		w1, ok1 := r.window(n, camera, "w1")
		w2, ok2 := r.window(n, camera, "w2")
		return ok1 && ok2 && w1.State == events.StateStaffedByBackup && w2.State == events.StateCovering
	}
	var owner, survivor *clusterNode
	waitFor(t, "w2's clerk covering w1, on both nodes' boards", 120*time.Second, func() bool {
		if owner = r.owner(camera, nodes...); owner == nil {
			return false
		}
		survivor = nodes[0]
		if survivor == owner {
			survivor = nodes[1]
		}
		return covering(owner) && covering(survivor)
	})
	killed := time.Now()
	owner.kill()
	t.Logf("killed %s while w2 covers w1", owner.id)
	waitFor(t, "the camera live on "+survivor.id, 2*failoverTarget, func() bool {
		return r.owner(camera, survivor) == survivor && r.states(survivor)[camera] == "live"
	})
	resumed := time.Now()
	t.Logf("camera live on %s after %v", survivor.id, resumed.Sub(killed).Round(time.Millisecond))

	// Watch the new node's board for twice w2's absent_after: it must
	// settle on the covering and never show w2 absent.
	watch := 2 * time.Duration(r.cfg.Cameras()[0].Camera.Analytics.Windows[1].AbsentAfter)
	var seen []string
	for end := time.Now().Add(watch); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
		w2, ok := r.window(survivor, camera, "w2")
		if ok && (len(seen) == 0 || seen[len(seen)-1] != w2.State) {
			seen = append(seen, w2.State)
		}
	}
	t.Logf("w2 on %s after the failover: %v", survivor.id, seen)
	// The premise: w2's clerk sat at w1 all along (the truth).
	for _, run := range r.runs(camera, "w2") {
		if run.occupied && run.start.Before(time.Now()) && (run.end.IsZero() || run.end.After(killed.Add(-5*time.Second))) {
			t.Fatalf("the scene had someone at w2 from %s to %s, while the test needs w2's clerk covering w1", clock(run.start), clock(run.end))
		}
	}
	if !covering(survivor) {
		w1, _ := r.window(survivor, camera, "w1")
		t.Errorf("after the failover %s shows w1 %s, w2 %v; want w1 %s and w2 %s", survivor.id, w1.State, seen,
			events.StateStaffedByBackup, events.StateCovering)
	}
	for _, s := range seen {
		if s == events.StateAbsent {
			t.Errorf("w2 shown absent after the failover while its clerk covers w1: %v", seen)
		}
	}
	raised, err := r.db.Alerts(context.Background(), store.AlertQuery{From: killed})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range raised {
		if a.Kind == events.KindUnstaffed && (a.Window == "w1" || a.Window == "w2") {
			t.Errorf("unstaffed alert at %s raised at %s after the failover: a clerk covering by the AB post", a.Window, clock(a.RaisedAt))
		}
	}
}
