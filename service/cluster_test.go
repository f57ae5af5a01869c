package service

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/tcpproxy"
	"github.com/hallwatch/hallwatch/store"
)

// failoverHall is a small simulated hall: clerks walk in once the cluster
// watches (a motion detector joining late cannot see them seated), leave
// for long enough that an alert is raised and still open when a node is
// killed, and visitors keep crossing the door.
func failoverHall(i int) demo.SceneOptions {
	return demo.SceneOptions{Seed: int64(40 + i), Width: 640, Height: 360, FPS: 10, Windows: 2,
		ClerksArrive:      demo.Range{Min: 20 * time.Second, Max: 25 * time.Second},
		ClerkAwayInterval: demo.Range{Min: 15 * time.Second, Max: 30 * time.Second},
		ClerkAway:         demo.Range{Min: 50 * time.Second, Max: 60 * time.Second},
		VisitorInterval:   demo.Range{Min: 3 * time.Second, Max: 6 * time.Second},
		ServiceTime:       demo.Range{Min: 5 * time.Second, Max: 10 * time.Second}}
}

// failoverTarget is the bound on a failover.
const failoverTarget = 30 * time.Second

// analysisWarmUp: a motion detector starting on a hall learns its
// background for a few seconds, and misses some of who walks meanwhile.
const analysisWarmUp = 8 * time.Second

type alertJSON struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	State      string     `json:"state"`
	Camera     string     `json:"camera"`
	Window     string     `json:"window"`
	RaisedAt   time.Time  `json:"raised_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
}

// TestClusterFailover runs three nodes on PostgreSQL and NATS over six
// simulated halls: the cameras spread two per node; a viewer watching
// through one node is redirected to the node running the camera; that
// node is killed (SIGKILL) while one of its cameras has an open alert.
// Its cameras must be live on the other nodes within 30 s, the viewer
// must get the camera again through the node it asked, the alert must
// stay open and be resolved by the new node when the clerk returns, and
// the stored crossings must match the simulation's ground truth: none
// counted twice, none lost where a node was watching.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three hallwatch nodes for about two minutes")
	}
	r := newClusterRig(t, 6, failoverHall, true)
	hook := newHookLog(t)
	r.cfg.Notifiers = []config.Notifier{{ID: "hook", Kind: "webhook", URL: hook.srv.URL, Timeout: config.Duration(5 * time.Second)}}
	nodes := []*clusterNode{r.start("n1", r.nats.URL()), r.start("n2", r.nats.URL()), r.start("n3", r.nats.URL())}
	pulled := samplePulls(r)
	began := time.Now()
	var held map[string][]string
	waitFor(t, "six cameras spread two per node", 60*time.Second, func() bool {
		var ok bool
		held, ok = r.spread(nodes...)
		return ok
	})
	t.Logf("spread in %v: %v", time.Since(began).Round(time.Millisecond), held)
	// Every node's event stream as the admin sees it, and a center
	// manager's on n1 for a camera another node runs.
	streams := map[string]*liveLog{}
	for _, n := range nodes {
		streams[n.id] = r.listen(n, r.token)
	}
	managed := centerOf(held["n2"][0])
	managerStream := r.listen(nodes[0], r.scopedToken(managed))
	waitFor(t, "every camera live, as node n1 shows them", 30*time.Second, func() bool {
		st := r.states(nodes[0])
		for _, id := range r.ids {
			if st[id] != "live" {
				return false
			}
		}
		return true
	})
	watchFrom := time.Now().Add(analysisWarmUp)

	// The first unstaffed alert of a clerk who left, as the truth says (not
	// one who has yet to arrive, nor one seated still since before the
	// spread moved the camera), decides whose node dies: the absence lasts
	// long enough for the alert to outlive the failover.
	arrived := r.camsFrom.Add(failoverHall(0).ClerksArrive.Max + 5*time.Second)
	var alert alertJSON
	waitFor(t, "an unstaffed alert", 150*time.Second, func() bool {
		var list struct{ Alerts []alertJSON }
		if !r.get(nodes[0], "/api/alerts?open=true", &list) {
			return false
		}
		for _, a := range list.Alerts {
			if a.Kind == events.KindUnstaffed && a.RaisedAt.After(arrived) && r.clerkAway(a.Camera, a.Window, a.RaisedAt) {
				alert = a
				return true
			}
		}
		return false
	})
	victim := r.owner(alert.Camera, nodes...)
	if victim == nil {
		t.Fatalf("no node runs %s", alert.Camera)
	}
	var survivors []*clusterNode
	for _, n := range nodes {
		if n != victim {
			survivors = append(survivors, n)
		}
	}
	asked := survivors[0]
	moving := r.held(victim)[victim.id]
	t.Logf("alert %d on %s/%s raised at %s; node %s runs %v", alert.ID, alert.Camera, alert.Window, clock(alert.RaisedAt), victim.id, moving)

	// A viewer asks a surviving node for the camera: it is sent to the victim.
	ctx := context.Background()
	viewer, loc, err := r.watch(ctx, asked, alert.Camera)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, victim.base+"/whep/"+alert.Camera+"/") {
		t.Errorf("viewer asking %s: session at %q, want on %s", asked.id, loc, victim.base)
	}
	viewer.Wait(t, 10, 20*time.Second)

	killed := time.Now()
	victim.kill()
	t.Logf("killed %s", victim.id)

	// Every camera of the victim live on a survivor.
	resumed := map[string]time.Time{}
	waitFor(t, "the killed node's cameras live on the others", 2*failoverTarget, func() bool {
		for _, id := range moving {
			if _, done := resumed[id]; done {
				continue
			}
			if n := r.owner(id, survivors...); n != nil && r.states(n)[id] == "live" {
				resumed[id] = time.Now()
			}
		}
		return len(resumed) == len(moving)
	})
	for _, id := range moving {
		took := resumed[id].Sub(killed)
		t.Logf("camera %s live again after %v", id, took.Round(time.Millisecond))
		if took > failoverTarget {
			t.Errorf("camera %s took %v to fail over, want < %v", id, took, failoverTarget)
		}
	}
	if _, spread := r.spread(survivors...); !spread {
		t.Errorf("after the failover the cameras are not spread over the survivors: %v", r.held(survivors...))
	}

	// The viewer asks the same node again and watches the camera.
	viewer.Close()
	var reconnected time.Duration
	for {
		v, _, err := r.watch(ctx, asked, alert.Camera)
		if err == nil {
			v.Wait(t, 10, 20*time.Second)
			v.Close()
			reconnected = time.Since(killed)
			break
		}
		if time.Since(killed) > 2*failoverTarget {
			t.Fatalf("viewer could not watch %s again through %s: %v", alert.Camera, asked.id, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("viewer watching %s again through %s %v after the kill", alert.Camera, asked.id, reconnected.Round(time.Millisecond))

	// The alert the victim raised is still open; the new node resolves it
	// once the clerk is back (if the clerk came back while a node watched).
	var a alertJSON
	if !r.get(asked, fmt.Sprintf("/api/alerts/%d", alert.ID), &a) {
		t.Fatalf("alert %d unreadable after the failover", alert.ID)
	}
	back := r.clerkBack(alert.Camera, alert.Window, alert.RaisedAt)
	switch {
	case back.IsZero() && a.ResolvedAt != nil:
		t.Errorf("alert %d resolved at %s, the clerk has not come back", alert.ID, clock(*a.ResolvedAt))
	case !back.IsZero() && back.Before(resumed[alert.Camera].Add(2*time.Second)):
		t.Logf("the clerk came back at %s, before the camera was watched again: no claim on the resolution", clock(back))
	default:
		// The owner's board says when the new node counted the clerk.
		deadline := time.Now().Add(90 * time.Second)
		var seen []windowSample
		for !r.get(asked, fmt.Sprintf("/api/alerts/%d", alert.ID), &a) || a.ResolvedAt == nil {
			if o := r.owner(alert.Camera, survivors...); o != nil {
				if w, ok := r.window(o, alert.Camera, alert.Window); ok {
					seen = append(seen, windowSample{time.Now(), w.State, w.Count})
				}
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		back = r.clerkBack(alert.Camera, alert.Window, alert.RaisedAt)
		due := back.Add(r.cfg.Alerts.ResolveConfirm.D())
		counted := countedFor(seen, r.cfg.Alerts.ResolveConfirm.D())
		// Early (by the truth) is the new node not knowing the alert is
		// open: it took the clerk's first appearance for a staffed window.
		// Otherwise the new node resolves it once its analysis has counted
		// the clerk for resolve_confirm. When that is, against the truth,
		// is the detector's accuracy, which eval holds on the same scene
		// (TestRestartWithAlertOpenResolvesOnTime): the motion detector
		// this test runs may lose a clerk sitting down for seconds on a
		// loaded machine.
		switch {
		case a.ResolvedAt == nil && !counted.IsZero():
			t.Errorf("alert %d not resolved 90 s after the failover; the new node counted the clerk from %s", alert.ID, clock(counted))
		case a.ResolvedAt == nil:
			t.Logf("alert %d not resolved: the new node never counted the clerk (back at %s by the truth) for %v", alert.ID, clock(back), r.cfg.Alerts.ResolveConfirm)
		case a.ResolvedAt.Before(due.Add(-boardTolerance)):
			t.Errorf("alert %d resolved at %s: early, due at %s (the clerk back at %s)", alert.ID, clock(*a.ResolvedAt), clock(due), clock(back))
		case !counted.IsZero() && a.ResolvedAt.After(counted.Add(r.cfg.Alerts.ResolveConfirm.D()+boardTolerance)):
			t.Errorf("alert %d resolved at %s; the new node counted the clerk from %s", alert.ID, clock(*a.ResolvedAt), clock(counted))
		default:
			t.Logf("alert %d resolved at %s, due at %s by the truth (%+.1f s)", alert.ID, clock(*a.ResolvedAt), clock(due), a.ResolvedAt.Sub(due).Seconds())
		}
		if t.Failed() || a.ResolvedAt == nil {
			for i, sm := range seen {
				if i == 0 || sm.state != seen[i-1].state || sm.count != seen[i-1].count {
					t.Logf("board: %s %s %d", clock(sm.at), sm.state, sm.count)
				}
			}
			r.logWindow(streams[asked.id], alert.Camera, alert.Window, killed)
		}
		if t.Failed() {
			t.FailNow()
		}
		if a.ResolvedAt == nil {
			a.ResolvedAt = &deadline
		}
		var list struct{ Alerts []alertJSON }
		r.get(asked, "/api/alerts?center="+centerOf(alert.Camera), &list)
		for _, o := range list.Alerts {
			if o.ID != alert.ID && o.Window == alert.Window && o.Kind == alert.Kind && !o.RaisedAt.Before(alert.RaisedAt) && o.RaisedAt.Before(*a.ResolvedAt) {
				t.Errorf("alert %d raised at %s during the absence alert %d already covered", o.ID, clock(o.RaisedAt), alert.ID)
			}
		}
	}

	// Counts: a minute of visitors after the failover, then stop the
	// halls, let the nodes store what they have, and compare.
	time.Sleep(time.Until(killed.Add(time.Minute)))
	r.stopCameras()
	watchTo := time.Now()
	time.Sleep(time.Second) // the last live messages on their way
	for id, l := range streams {
		if err := l.close(); err != nil && id != victim.id {
			t.Errorf("node %s's event stream: %v", id, err)
		}
	}
	if err := managerStream.close(); err != nil && nodes[0] != victim {
		t.Errorf("the manager's event stream: %v", err)
	}
	r.checkNotified(hook)
	for _, n := range survivors {
		n.stop(t)
	}
	r.checkLive(streams, victim.id, killed, watchFrom, watchTo.Add(-2*time.Second))
	r.checkScoped(managerStream, managed)
	gaps := map[string][2]time.Time{}
	for _, id := range moving {
		gaps[id] = [2]time.Time{killed.Add(-time.Second), resumed[id].Add(analysisWarmUp)}
	}
	r.checkCrossings(watchFrom, watchTo, gaps)
	longest, which := pulled.end()
	t.Logf("longest time a camera was pulled by two nodes: %v (%s)", longest, which)
	if longest > 0 {
		t.Errorf("camera %s was pulled by two nodes at once for %v", which, longest)
	}
}

// crossingTimes lists a camera's crossings, truth and stored, for a
// failure's message.
func (r *clusterRig) crossingTimes(camera string, stored []store.StoredEvent) string {
	var b strings.Builder
	b.WriteString("truth:")
	for _, e := range r.truth.all() {
		if e.Camera == camera && e.Type == demo.TruthCrossing {
			fmt.Fprintf(&b, " %s %s", e.Direction, clock(e.Wall))
		}
	}
	b.WriteString("\nstored:")
	for _, e := range stored {
		if e.Camera == camera {
			fmt.Fprintf(&b, " %s %s", e.Direction, clock(e.Time))
		}
	}
	return b.String()
}

func centerOf(camera string) string { return "center-" + strings.TrimPrefix(camera, "hall-") }

// runs are the truth's stretches of a window occupied or not.
func (r *clusterRig) runs(camera, window string) []occupancy {
	var cam []demo.TruthEvent
	for _, e := range r.truth.all() {
		if e.Camera == camera {
			cam = append(cam, e)
		}
	}
	return windowRuns(cam)[window]
}

// clerkAway reports whether the truth's clerk of a window, having
// arrived, was away at when: an alert then is for a real absence, not
// for a clerk sitting still since before a new node's motion detector
// began watching (it cannot see them, as after any restart).
func (r *clusterRig) clerkAway(camera, window string, when time.Time) bool {
	runs := r.runs(camera, window)
	run, ok := at(runs, when)
	return ok && !run.occupied && slices.ContainsFunc(runs, func(o occupancy) bool { return o.occupied && o.start.Before(when) })
}

// windowSample is a window as a node's board showed it.
type windowSample struct {
	at    time.Time
	state string
	count int
}

// window reads a window from node n's board.
func (r *clusterRig) window(n *clusterNode, camera, window string) (alerts.WindowView, bool) {
	var board struct{ Windows []alerts.WindowView }
	if r.get(n, "/api/board?center="+centerOf(camera), &board) {
		for _, w := range board.Windows {
			if w.Camera == camera && w.Window == window {
				return w, true
			}
		}
	}
	return alerts.WindowView{}, false
}

// countedFor returns when the board first counted someone in the window
// for d without a gap longer than the analysis bridges (about a second,
// with the board's sampling); zero if never.
func countedFor(seen []windowSample, d time.Duration) time.Time {
	const gap = 1500 * time.Millisecond
	var from, last time.Time
	for _, sm := range seen {
		if sm.count == 0 {
			if !from.IsZero() && sm.at.Sub(last) > gap {
				from = time.Time{}
			}
			continue
		}
		if from.IsZero() {
			from = sm.at
		}
		last = sm.at
		if last.Sub(from) >= d {
			return from
		}
	}
	return time.Time{}
}

// logWindow logs what a node's event stream said of a window since from,
// and the truth's occupancy of it: why an alert did not resolve.
func (r *clusterRig) logWindow(l *liveLog, camera, window string, from time.Time) {
	for _, m := range l.all() {
		if m.Camera == camera && m.Time.After(from) && (m.Type == "window" || m.Type == "alert") && strings.Contains(string(m.Data), `"`+window+`"`) {
			r.t.Logf("%s %s %s", clock(m.Time), m.Type, m.Data)
		}
	}
	for _, run := range r.runs(camera, window) {
		r.t.Logf("truth: from %s occupied %v", clock(run.start), run.occupied)
	}
}

// clerkBack returns when the truth's clerk of a window sat down again
// after the absence that raised an alert at raised; zero if not yet.
func (r *clusterRig) clerkBack(camera, window string, raised time.Time) time.Time {
	for _, run := range r.runs(camera, window) {
		if run.occupied && run.start.After(raised) {
			return run.start
		}
	}
	return time.Time{}
}

// checkCrossings compares the stored door crossings of each camera with
// the truth's, between from and to and outside each camera's gap (from
// its node's death until the new node's analysis has warmed up): within
// the analysis's tolerance, and hourly counts equal to the stored
// crossings. (That no camera was analysed twice at once, which would
// count crossings twice, the pull sampler checks at the cameras.)
func (r *clusterRig) checkCrossings(from, to time.Time, gaps map[string][2]time.Time) {
	t := r.t
	ctx := context.Background()
	watched := func(camera string, at time.Time) bool {
		g, moved := gaps[camera]
		return at.After(from) && at.Before(to) && (!moved || at.Before(g[0]) || at.After(g[1]))
	}
	type tally struct{ in, out int }
	truth, stored := map[string]*tally{}, map[string]*tally{}
	for _, id := range r.ids {
		truth[id], stored[id] = &tally{}, &tally{}
	}
	unseen := 0
	for _, e := range r.truth.all() {
		if g, moved := gaps[e.Camera]; moved && e.Type == demo.TruthCrossing && e.Wall.After(g[0]) && e.Wall.Before(g[1]) {
			unseen++
		}
		if e.Type == demo.TruthCrossing && watched(e.Camera, e.Wall) {
			if e.Direction == "in" {
				truth[e.Camera].in++
			} else {
				truth[e.Camera].out++
			}
		}
	}
	evs, err := r.db.Events(ctx, store.EventQuery{Types: []string{events.TypeCrossing}})
	if err != nil {
		t.Fatal(err)
	}
	perCenter := map[string]int{}
	for _, e := range evs {
		perCenter[e.Center]++
		if !watched(e.Camera, e.Time) {
			continue
		}
		if e.Direction == events.DirectionIn {
			stored[e.Camera].in++
		} else {
			stored[e.Camera].out++
		}
	}
	t.Logf("%d crossings of the truth happened while their camera moved or its analysis warmed up on the new node", unseen)
	var sumTruth, sumStored int
	for _, id := range r.ids {
		w, g := truth[id], stored[id]
		t.Logf("camera %s crossings in/out: truth %d/%d, stored %d/%d", id, w.in, w.out, g.in, g.out)
		sumTruth += w.in + w.out
		sumStored += g.in + g.out
		for _, c := range []struct {
			dir       string
			got, want int
		}{{"in", g.in, w.in}, {"out", g.out, w.out}} {
			if tol := max(2, int(math.Ceil(0.15*float64(c.want)))); absInt(c.got-c.want) > tol {
				t.Errorf("camera %s: %d crossings %s stored, truth %d (tolerance %d); watched %s to %s, gap %v\n%s",
					id, c.got, c.dir, c.want, tol, clock(from), clock(to), gaps[id], r.crossingTimes(id, evs))
			}
		}
	}
	if tol := max(3, int(math.Ceil(0.1*float64(sumTruth)))); sumTruth == 0 || absInt(sumStored-sumTruth) > tol {
		t.Errorf("all cameras: %d crossings stored, truth %d (tolerance %d)", sumStored, sumTruth, tol)
	}
	rows, err := r.db.Counts(ctx, store.CountQuery{Bucket: store.BucketHour})
	if err != nil {
		t.Fatal(err)
	}
	hourly := map[string]int{}
	for _, row := range rows {
		hourly[row.Center] += row.In + row.Out
	}
	if !maps.Equal(hourly, perCenter) {
		t.Errorf("hourly counts %v differ from the stored crossings %v", hourly, perCenter)
	}
	t.Logf("hourly counts per center: %v", hourly)
}

// checkLive compares each node's admin event stream with the stored
// crossings between from and to: every crossing, whichever node analysed
// it, reached every node's stream once (the killed node's until its
// death, but for its last second, which it may not have sent).
func (r *clusterRig) checkLive(streams map[string]*liveLog, victim string, killed, from, to time.Time) {
	t := r.t
	evs, err := r.db.Events(context.Background(), store.EventQuery{Types: []string{events.TypeCrossing}})
	if err != nil {
		t.Fatal(err)
	}
	for node, l := range streams {
		end := to
		if node == victim {
			end = killed.Add(-time.Second)
		}
		var got []eventbus.Message
		for _, m := range l.all() {
			if m.Type == events.TypeCrossing {
				got = append(got, m)
			}
		}
		matched, missing := 0, 0
		for _, e := range evs {
			if e.Time.Before(from) || e.Time.After(end) {
				continue
			}
			found := 0
			for _, m := range got {
				var data events.Event
				json.Unmarshal(m.Data, &data)
				if m.Camera == e.Camera && data.Direction == e.Direction && m.Time.Sub(e.Time).Abs() < time.Millisecond {
					found++
				}
			}
			switch {
			case found == 0:
				missing++
				t.Errorf("node %s: the crossing %s of %s at %s never came on its event stream", node, e.Direction, e.Camera, clock(e.Time))
			case found > 1:
				t.Errorf("node %s: the crossing %s of %s at %s came %d times on its event stream", node, e.Direction, e.Camera, clock(e.Time), found)
			default:
				matched++
			}
		}
		cameras := map[string]bool{}
		for _, m := range got {
			cameras[m.Camera] = true
		}
		t.Logf("node %s's event stream: %d stored crossings came, %d missing; crossings of %d cameras", node, matched, missing, len(cameras))
		if matched == 0 && node != victim { // the victim may die before any crossing
			t.Errorf("node %s's event stream carried no stored crossing", node)
		}
	}
}

// checkScoped: a center manager's stream carries its center's messages
// and nothing else.
func (r *clusterRig) checkScoped(l *liveLog, center string) {
	types := map[string]int{}
	for _, m := range l.all() {
		types[m.Type]++
		if m.Center != center {
			r.t.Errorf("the manager of %s received a %s message of %s", center, m.Type, m.Center)
		}
	}
	r.t.Logf("the manager of %s received %v", center, types)
	if types[events.TypeCrossing] == 0 {
		r.t.Errorf("the manager of %s received no crossing of its center run by another node", center)
	}
}

// pulls samples how many RTSP clients play each camera, to find the
// longest time any camera was pulled by two nodes at once.
type pulls struct {
	stop    chan struct{}
	done    chan struct{}
	longest time.Duration
	camera  string
}

func samplePulls(r *clusterRig) *pulls {
	p := &pulls{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		since := map[string]time.Time{}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			now := time.Now()
			for _, id := range r.ids {
				if r.cams.Readers(id) < 2 {
					delete(since, id)
					continue
				}
				if _, ok := since[id]; !ok {
					since[id] = now
				}
				if d := now.Sub(since[id]); d > p.longest {
					p.longest, p.camera = d, id
				}
			}
		}
	}()
	return p
}

func (p *pulls) end() (time.Duration, string) {
	close(p.stop)
	<-p.done
	return p.longest, p.camera
}

// TestClusterPartitionAndNATSOutage cuts one node off from NATS (its
// peers still reach it): it stops its cameras before its leases can
// expire, and the others take them. Then NATS itself stops: nobody can
// take a lease, so every node keeps its cameras, viewers keep watching,
// analysis goes on and live messages wait; back, they are sent and no
// camera moves. Throughout, no camera is pulled by two nodes for longer
// than one lease TTL (measured at the cameras), and no node stops.
func TestClusterPartitionAndNATSOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three hallwatch nodes for about a minute")
	}
	r := newClusterRig(t, 6, failoverHall, true)
	proxy, err := tcpproxy.New(r.nats.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	n1, n2, n3 := r.start("n1", r.nats.URL()), r.start("n2", r.nats.URL()), r.start("n3", "nats://"+proxy.Addr())
	nodes := []*clusterNode{n1, n2, n3}
	pulled := samplePulls(r)
	var held map[string][]string
	waitFor(t, "six cameras spread two per node", 60*time.Second, func() bool {
		var ok bool
		held, ok = r.spread(nodes...)
		return ok
	})

	// n3 cut off from NATS.
	cut := time.Now()
	proxy.Cut()
	waitFor(t, "n3's cameras live on n1 and n2", 2*failoverTarget, func() bool {
		_, ok := r.spread(n1, n2)
		st := r.states(n1)
		for _, id := range held["n3"] {
			if st[id] != "live" {
				return false
			}
		}
		return ok
	})
	t.Logf("n3 cut off from NATS: its cameras %v live on n1 and n2 after %v", held["n3"], time.Since(cut).Round(time.Millisecond))
	var h struct{ Cluster struct{ NATS string } }
	if !r.get(n3, "/healthz", &h) || h.Cluster.NATS != "failing" {
		t.Errorf("n3's health while cut off: %+v", h)
	}
	proxy.Restore()
	waitFor(t, "n3 takes its share again", 60*time.Second, func() bool {
		var ok bool
		held, ok = r.spread(nodes...) // one look: held must be the spread that was even
		return ok
	})
	waitFor(t, "every camera live", 30*time.Second, func() bool {
		st := r.states(n1)
		for _, id := range r.ids {
			if st[id] != "live" {
				return false
			}
		}
		return true
	})

	// NATS down for everyone.
	ctx := context.Background()
	camera := held["n1"][0]
	viewer, _, err := r.watch(ctx, n2, camera)
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()
	viewer.Wait(t, 10, 20*time.Second)
	sent := r.metric(n1, "hallwatch_cluster_live_messages_total", `direction="sent"`)
	received := r.metric(n2, "hallwatch_cluster_live_messages_total", `direction="received"`)
	if err := r.nats.Stop(); err != nil {
		t.Fatal(err)
	}
	down := time.Now()
	analysed := r.metric(n1, "hallwatch_analysis_frames_total", `camera="`+camera+`",detector="motion"`)
	var queued float64
	for time.Since(down) < 5*clusterTTL {
		viewer.Wait(t, 5, 10*time.Second) // live view goes on
		for _, n := range nodes {
			queued = max(queued, r.metric(n, "hallwatch_cluster_live_queued", ""))
		}
	}
	if now := r.metric(n1, "hallwatch_analysis_frames_total", `camera="`+camera+`",detector="motion"`); now <= analysed {
		t.Errorf("analysis of %s stopped while NATS was down: %v frames, then %v", camera, analysed, now)
	}
	if queued == 0 {
		t.Error("no live message waited for NATS while it was down")
	}
	during := r.held(nodes...)
	if err := r.nats.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("NATS down for %v; up to %v live messages waited", time.Since(down).Round(time.Millisecond), queued)
	waitFor(t, "live messages sent once NATS is back", 30*time.Second, func() bool {
		return r.metric(n1, "hallwatch_cluster_live_queued", "") == 0 &&
			r.metric(n1, "hallwatch_cluster_live_messages_total", `direction="sent"`) > sent &&
			r.metric(n2, "hallwatch_cluster_live_messages_total", `direction="received"`) > received
	})
	waitFor(t, "every node ready again", 30*time.Second, func() bool {
		for _, n := range nodes {
			var h struct{ Cluster struct{ Ready bool } }
			if !r.get(n, "/healthz", &h) || !h.Cluster.Ready {
				return false
			}
		}
		return true
	})
	time.Sleep(clusterTTL) // a round of placement
	after := r.held(nodes...)
	if !maps.EqualFunc(during, after, slices.Equal) || !maps.EqualFunc(held, after, slices.Equal) {
		t.Errorf("cameras moved across the NATS outage: %v before, %v during, %v after", held, during, after)
	}
	if d := r.metric(n1, "hallwatch_cluster_live_dropped_total", ""); d != 0 {
		t.Errorf("n1 dropped %v live messages in a short outage", d)
	}
	viewer.Wait(t, 10, 10*time.Second)

	longest, which := pulled.end()
	t.Logf("longest time a camera was pulled by two nodes: %v (%s)", longest, which)
	if longest > clusterTTL {
		t.Errorf("camera %s was pulled by two nodes at once for %v, more than a lease TTL (%v)", which, longest, clusterTTL)
	}
	for _, n := range nodes {
		if !n.running() {
			t.Errorf("node %s stopped", n.id)
		}
	}
}
