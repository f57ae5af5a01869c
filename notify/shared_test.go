package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/notify"
)

// deliver runs Deliver for target until the returned stop is called.
func deliver(t *testing.T, d *notify.Dispatcher, target string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Deliver(ctx, target, 20*time.Millisecond) }()
	return func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Deliver: %v", err)
			}
		case <-time.After(bound):
			t.Error("Deliver did not return after cancel")
		}
	}
}

// Two nodes share one outbox: messages queued on either are sent once,
// in order, by the node delivering the target; when delivery moves to the
// other node, nothing is sent twice and nothing is left.
func TestSharedOutboxDeliversOnce(t *testing.T) {
	outbox, _ := openOutbox(t)
	hook := newEndpoint(t, answer(http.StatusOK, ""))
	targets := []config.Notifier{{ID: "hook", Kind: "webhook", URL: hook.URL}}
	a := newDispatcher(t, targets, outbox, notify.Options{Shared: true})
	b := newDispatcher(t, targets, outbox, notify.Options{Shared: true})
	if err := a.Deliver(context.Background(), "nope", time.Second); err == nil {
		t.Error("Deliver of an unknown notifier: no error")
	}
	single := newDispatcher(t, targets, outbox, notify.Options{})
	if err := single.Deliver(context.Background(), "hook", time.Second); err == nil {
		t.Error("Deliver without Shared: no error")
	}

	stopA := deliver(t, a, "hook")
	for i := int64(1); i <= 3; i++ {
		notifyAll(t, b, unstaffed(i)) // queued on b, which does not deliver
	}
	hook.wait(t, 3)
	if st := status(t, b, "hook"); st.Pending != 0 || st.Delivered != 0 {
		t.Errorf("b, not delivering, counts %+v", st)
	}
	waitStatus(t, a, "hook", "3 delivered", func(st notify.TargetStatus) bool { return st.Delivered == 3 && st.Pending == 0 })
	stopA()

	notifyAll(t, a, unstaffed(4), unstaffed(5))
	stopB := deliver(t, b, "hook")
	defer stopB()
	got := hook.wait(t, 5)
	time.Sleep(100 * time.Millisecond) // a few polls: nothing more may come
	if n := hook.count(); n != 5 {
		t.Errorf("%d deliveries, want 5", n)
	}
	for i, r := range got {
		if want := fmt.Sprintf(`"alert_id":%d,`, i+1); !strings.Contains(string(r.Body), want) {
			t.Errorf("delivery %d: %s, want alert %d", i, r.Body, i+1)
		}
	}
	if left := pending(t, outbox, "hook"); len(left) != 0 {
		t.Errorf("%d messages left in the outbox", len(left))
	}
}
