package notify_test

import (
	"context"
	"testing"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/notify"
)

// BenchmarkNotify measures what the alert manager waits for: rendering and
// one outbox insert (SQLite, synchronous=FULL) for each of three targets.
func BenchmarkNotify(b *testing.B) {
	outbox, _ := openOutbox(b)
	d, err := notify.New([]config.Notifier{
		{ID: "hook", Kind: "webhook", URL: "http://127.0.0.1:9/hook"},
		{ID: "wecom", Kind: "wecom", URL: "http://127.0.0.1:9/cgi-bin/webhook/send?key=k"},
		{ID: "ding", Kind: "dingtalk", URL: "http://127.0.0.1:9/robot/send?access_token=t", Secret: "SECx"},
	}, outbox, notify.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m := unstaffed(1)
	ctx := context.Background()
	for b.Loop() {
		if err := d.Notify(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
