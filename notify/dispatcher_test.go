package notify_test

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/internal/leakcheck"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/notify"
)

// TestFailingTargetsDoNotDelayOthers runs a target that hangs, one that
// answers 500 forever and two healthy ones side by side.
func TestFailingTargetsDoNotDelayOthers(t *testing.T) {
	const (
		n         = 30
		queueSize = 4
		brokenKey = "br0ken-K3Y-0123456789"
	)
	outbox, _ := openOutbox(t)
	base := leakcheck.Count()
	hangEntered := make(chan struct{}, n)
	hang := newEndpoint(t, func(r *http.Request, _ []byte) (int, string) {
		hangEntered <- struct{}{}
		<-r.Context().Done() // until the dispatcher gives up on the request
		return http.StatusOK, ""
	})
	// The broken endpoint quotes the request URL, key included, as some do.
	broken := newEndpoint(t, func(r *http.Request, _ []byte) (int, string) {
		return http.StatusInternalServerError, "cannot handle " + r.URL.String()
	})
	hook := newEndpoint(t, answer(http.StatusOK, "ok"))
	contents := make(chan string, n)
	robot := newEndpoint(t, wecomRobot(t, "good-key-0123", contents))
	logs := &syncbuf.Buffer{}
	d := newDispatcher(t, []config.Notifier{
		{ID: "hang", Kind: "webhook", URL: hang.URL + "/hook?token=hang-T0KEN-0123", Timeout: config.Duration(time.Minute)},
		{ID: "broken", Kind: "wecom", URL: broken.URL + "/cgi-bin/webhook/send?key=" + brokenKey},
		{ID: "hook", Kind: "webhook", URL: hook.URL + "/hook"},
		{ID: "wecom", Kind: "wecom", URL: robot.URL + "/cgi-bin/webhook/send?key=good-key-0123"},
	}, outbox, notify.Options{Clock: newFakeClock(), Log: logTo(logs), QueueSize: queueSize})
	for i := range n {
		notifyAll(t, d, unstaffed(int64(i+1)))
	}
	stop := start(t, d)

	// Both healthy targets get everything while the hanging request is
	// still open and the broken target waits for its retry.
	hook.wait(t, n)
	robot.wait(t, n)
	waitStatus(t, d, "hook", "all delivered", func(st notify.TargetStatus) bool { return st.Delivered == n && st.Pending == 0 })
	waitStatus(t, d, "wecom", "all delivered", func(st notify.TargetStatus) bool { return st.Delivered == n && st.Pending == 0 })
	recv(t, hangEntered)
	if got := hang.count(); got != 1 {
		t.Errorf("hanging target got %d requests, want the 1 still open", got)
	}
	for _, id := range []string{"hang", "broken"} {
		st := status(t, d, id)
		if st.Pending != n || st.Queued != queueSize || st.QueueCapacity != queueSize || st.Delivered != 0 {
			t.Errorf("%s: %d pending, %d in memory (cap %d), %d delivered; want %d, %d, 0",
				id, st.Pending, st.Queued, queueSize, st.Delivered, n, queueSize)
		}
	}
	st := waitStatus(t, d, "broken", "a failure", func(st notify.TargetStatus) bool { return st.Failed == 1 })
	wantErr := "HTTP 500 Internal Server Error: cannot handle /cgi-bin/webhook/send?key=***"
	if st.LastError != wantErr || st.RetryAt.IsZero() {
		t.Errorf("broken: last error %q, retry at %v; want %q and a retry time", st.LastError, st.RetryAt, wantErr)
	}
	if broken.count() != 1 {
		t.Errorf("broken target got %d requests before its backoff ended, want 1", broken.count())
	}

	stop()
	if stacks := workerStacks(); stacks != "" {
		t.Errorf("workers still running after Run returned:\n%s", stacks)
	}
	for _, secret := range []string{brokenKey, "hang-T0KEN-0123", "good-key-0123"} {
		if all := logs.String() + statusJSON(t, d); strings.Contains(all, secret) {
			t.Errorf("secret %q shown in logs or status:\n%s", secret, all)
		}
	}
	// Stopping cancelled the hanging request without counting it.
	if st := status(t, d, "hang"); st.Failed != 0 || st.Pending != n {
		t.Errorf("hang after stop: %+v", st)
	}
	if left := pending(t, outbox, "hang"); len(left) != n || left[0].Attempts != 0 {
		t.Errorf("hang outbox after stop: %d messages, first %+v", len(left), left[0])
	}
	for _, e := range []*endpoint{hang, broken, hook, robot} {
		e.Close()
	}
	leakcheck.Wait(t, base)
}

func TestHangingTargetTimesOut(t *testing.T) {
	outbox, _ := openOutbox(t)
	hang := newEndpoint(t, func(r *http.Request, _ []byte) (int, string) {
		<-r.Context().Done()
		return http.StatusOK, ""
	})
	clock := newFakeClock()
	d := newDispatcher(t, []config.Notifier{
		{ID: "hang", Kind: "dingtalk", URL: hang.URL + "/robot/send?access_token=hang-T0KEN-0123", Secret: "SEC-hang-0123456789",
			Timeout: config.Duration(50 * time.Millisecond)},
	}, outbox, notify.Options{Clock: clock})
	start(t, d)
	notifyAll(t, d, unstaffed(1))
	clock.nextWait(t) // backing off after the timeout
	st := status(t, d, "hang")
	if st.LastError != "no answer within 50ms" || st.Failed != 1 || st.Pending != 1 {
		t.Errorf("status %+v", st)
	}
}

// TestBackoffDoublesToCap answers 500 forever and follows the retries on
// the fake clock: 2 s doubling to 10 min, each up to 20% shorter.
func TestBackoffDoublesToCap(t *testing.T) {
	outbox, _ := openOutbox(t)
	broken := newEndpoint(t, answer(http.StatusInternalServerError, ""))
	clock := newFakeClock()
	d := newDispatcher(t, []config.Notifier{{ID: "broken", Kind: "webhook", URL: broken.URL}},
		outbox, notify.Options{Clock: clock})
	start(t, d)
	notifyAll(t, d, unstaffed(1))

	nominal := 2 * time.Second
	for attempt := 1; attempt <= 12; attempt++ {
		wait := clock.nextWait(t)
		if wait < nominal*8/10 || wait > nominal {
			t.Errorf("after failure %d: waits %v, want %v to %v", attempt, wait, nominal*8/10, nominal)
		}
		if got := broken.count(); got != attempt {
			t.Fatalf("after failure %d: %d requests", attempt, got)
		}
		st := status(t, d, "broken")
		if st.Failed != int64(attempt) || st.LastError != "HTTP 500 Internal Server Error: (empty answer)" ||
			!st.RetryAt.Equal(clock.Now().Add(wait)) {
			t.Errorf("after failure %d: %+v", attempt, st)
		}
		clock.Advance(wait)
		broken.wait(t, attempt+1)
		nominal = min(2*nominal, 10*time.Minute)
	}
	if p := pending(t, outbox, "broken"); len(p) != 1 || p[0].Attempts < 12 {
		t.Errorf("outbox: %+v", p)
	}
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	outbox, _ := openOutbox(t)
	broken := newEndpoint(t, answer(http.StatusBadGateway, "upstream down"))
	clock := newFakeClock()
	d := newDispatcher(t, []config.Notifier{{ID: "broken", Kind: "webhook", URL: broken.URL}},
		outbox, notify.Options{Clock: clock, MaxAttempts: 3})
	start(t, d)
	notifyAll(t, d, unstaffed(1), unstaffed(2))
	for range 2 {
		clock.Advance(clock.nextWait(t))
	}
	// The third failure gives message 1 up; message 2 waits for the backoff.
	wait := clock.nextWait(t)
	st := status(t, d, "broken")
	if st.GaveUp != 1 || st.Failed != 3 || st.Pending != 1 || broken.count() != 3 {
		t.Errorf("after 3 failures: %+v, %d requests", st, broken.count())
	}
	if wait < 6400*time.Millisecond || wait > 8*time.Second {
		t.Errorf("the next message waits %v, want the target's third backoff step, 6.4 s to 8 s", wait)
	}
	left := pending(t, outbox, "broken")
	if len(left) != 1 || !strings.Contains(string(left[0].Payload), `"alert_id":2`) {
		t.Errorf("outbox after giving up: %+v", left)
	}
}

func TestGiveUpWhenTooOld(t *testing.T) {
	outbox, _ := openOutbox(t)
	broken := newEndpoint(t, answer(http.StatusServiceUnavailable, ""))
	clock := newFakeClock()
	d := newDispatcher(t, []config.Notifier{{ID: "broken", Kind: "webhook", URL: broken.URL}},
		outbox, notify.Options{Clock: clock, MaxAge: time.Hour})
	start(t, d)
	notifyAll(t, d, unstaffed(1))
	clock.nextWait(t)
	clock.Advance(2 * time.Hour)
	st := waitStatus(t, d, "broken", "giving up", func(st notify.TargetStatus) bool { return st.GaveUp == 1 })
	if st.Pending != 0 || broken.count() != 1 {
		t.Errorf("status %+v after %d requests; want no attempt once too old", st, broken.count())
	}
	if left := pending(t, outbox, "broken"); len(left) != 0 {
		t.Errorf("outbox: %+v", left)
	}
}

// TestRestartDelivers stops a dispatcher before it could deliver and has a
// new one on the same database deliver in order, after the backoff the
// first one chose.
func TestRestartDelivers(t *testing.T) {
	ctx := context.Background()
	outbox, path := openOutbox(t)
	hook := newEndpoint(t, answer(http.StatusServiceUnavailable, "maintenance"))
	clock := newFakeClock()
	targets := []config.Notifier{{ID: "hook", Kind: "webhook", URL: hook.URL}}
	first := newDispatcher(t, targets, outbox, notify.Options{Clock: clock, Log: logTo(&syncbuf.Buffer{})})
	stop := start(t, first)
	notifyAll(t, first, unstaffed(1))
	wait := clock.nextWait(t) // the first attempt failed
	notifyAll(t, first, resolved(1), cameraOffline(2, "dongcheng"))
	stop()
	// A message for a notifier since removed from the configuration.
	if _, err := outbox.EnqueueNotification(ctx, "removed", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := outbox.Close(); err != nil {
		t.Fatal(err)
	}

	outbox = reopenOutbox(t, path)
	hook.setReply(answer(http.StatusOK, ""))
	clock.Advance(wait / 2)
	second := newDispatcher(t, targets, outbox, notify.Options{Clock: clock, Log: logTo(&syncbuf.Buffer{})})
	start(t, second)
	waitStatus(t, second, "hook", "3 pending", func(st notify.TargetStatus) bool { return st.Pending == 3 })
	// The failed message keeps its place and its retry time.
	if rest := clock.nextWait(t); (rest - (wait - wait/2)).Abs() > time.Microsecond {
		t.Errorf("after restart waits %v, want the rest of the backoff, %v", rest, wait-wait/2)
	}
	clock.Advance(wait)
	got := hook.wait(t, 4)
	for i, want := range []string{`"alert_id":1,"kind":"unstaffed","state":"raised"`,
		`"alert_id":1,"kind":"unstaffed","state":"resolved"`, `"alert_id":2,"kind":"camera_offline","state":"raised"`} {
		if !strings.Contains(string(got[i+1].Body), want) {
			t.Errorf("delivery %d: %s, want %s", i+1, got[i+1].Body, want)
		}
	}
	waitStatus(t, second, "hook", "delivered", func(st notify.TargetStatus) bool { return st.Delivered == 3 && st.Pending == 0 })
	// Nobody would deliver the removed notifier's message: it was given up.
	if left, err := outbox.PendingNotifications(ctx, "removed", farFuture, 0); err != nil || len(left) != 0 {
		t.Errorf("removed notifier still has %d pending messages, %v", len(left), err)
	}
}

// workerStacks returns the stacks of running target workers.
func workerStacks() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "hallwatch/notify.(*worker).run") {
			found = append(found, g)
		}
	}
	return strings.Join(found, "\n\n")
}
