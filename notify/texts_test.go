package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/notify"
	"github.com/hallwatch/hallwatch/store"
)

// queuedTexts notifies a generic webhook (not running) and returns the
// "text" of every message it queued, read back from the outbox.
func queuedTexts(t *testing.T, n config.Notifier, msgs ...notify.Message) []string {
	t.Helper()
	outbox, _ := openOutbox(t)
	d := newDispatcher(t, []config.Notifier{n}, outbox, notify.Options{})
	notifyAll(t, d, msgs...)
	var texts []string
	for _, q := range pending(t, outbox, n.ID) {
		var body struct{ Text string }
		if err := json.Unmarshal(q.Payload, &body); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, body.Text)
	}
	return texts
}

func TestDefaultTexts(t *testing.T) {
	shanghai(t)
	offline := cameraOffline(1, "d")
	offlineBack := offline
	offlineBack.State, offlineBack.Duration = "resolved", time.Hour+3*time.Minute
	offlineBack.At = offline.At.Add(offlineBack.Duration)
	noGrace := unstaffed(1)
	noGrace.Grace = 0
	long := resolved(1)
	long.Duration = 26*time.Hour + 40*time.Second
	long.At = unstaffed(1).At.Add(long.Duration)
	lateNight := unstaffed(1)
	lateNight.At = time.Date(2026, 3, 2, 16, 0, 30, 0, time.UTC) // 00:00:30 on 3 March in Beijing
	seconds := unstaffed(1)
	seconds.Grace = 45 * time.Second
	unknown := unstaffed(1)
	unknown.Kind = "smoke"
	blocked := cameraOffline(1, "d")
	blocked.Kind, blocked.Grace = "camera_blocked", 3*time.Second

	for _, c := range []struct {
		name string
		m    notify.Message
		want string
	}{
		{"unstaffed", unstaffed(1), "【窗口无人值守】景山街道市民服务中心 · 3号窗口：09:41 起无人，已超过 1 分钟"},
		{"unstaffed resolved", resolved(1), "【已恢复】景山街道市民服务中心 · 3号窗口：09:41–09:45 无人 4 分 12 秒"},
		{"camera offline", offline, "【摄像机离线】景山街道市民服务中心 · 二楼大厅：14:28 起离线，已超过 2 分钟"},
		{"camera back", offlineBack, "【已恢复】景山街道市民服务中心 · 二楼大厅：14:28–15:33 离线 1 小时 5 分"},
		{"grace unknown", noGrace, "【窗口无人值守】景山街道市民服务中心 · 3号窗口：09:42 起无人"},
		{"over a day", long, "【已恢复】景山街道市民服务中心 · 3号窗口：3月2日 09:41–3月3日 11:42 无人 1 天 2 小时"},
		{"since yesterday", lateNight, "【窗口无人值守】景山街道市民服务中心 · 3号窗口：3月2日 23:59 起无人，已超过 1 分钟"},
		{"seconds", seconds, "【窗口无人值守】景山街道市民服务中心 · 3号窗口：09:41 起无人，已超过 45 秒"},
		{"camera blocked", blocked, "【摄像机画面异常】景山街道市民服务中心 · 二楼大厅：14:29 起画面被遮挡或异常，已超过 3 秒"},
		{"unknown kind", unknown, "【告警 smoke】景山街道市民服务中心 · 3号窗口：09:41 起离线，已超过 1 分钟"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := queuedTexts(t, config.Notifier{ID: "hook", Kind: "webhook", URL: "http://127.0.0.1:9/x"}, c.m)
			if len(got) != 1 || got[0] != c.want {
				t.Errorf("text %q\nwant %q", got, c.want)
			}
		})
	}
}

func TestTemplate(t *testing.T) {
	const tmpl = "{{.District}}/{{.Center}}/{{.Window}} {{kindname .Kind}} {{.State}} {{hm .Since}} {{datetime .At}} {{dur .Lasted}} {{.Title}}"
	m := resolved(5)
	m.Location = time.FixedZone("UTC+6", 6*60*60) // the message's zone wins over the default
	got := queuedTexts(t, config.Notifier{ID: "hook", Kind: "webhook", URL: "http://127.0.0.1:9/x", Template: tmpl}, m)
	want := "东城区/景山街道市民服务中心/3号窗口 窗口无人值守 resolved 07:41 2026-03-02 07:45 4 分 12 秒 已恢复 · 景山街道市民服务中心"
	if len(got) != 1 || got[0] != want {
		t.Errorf("text %q\nwant %q", got, want)
	}

	// A huge rendering is cut to what chat robots accept.
	got = queuedTexts(t, config.Notifier{ID: "hook", Kind: "webhook", URL: "http://127.0.0.1:9/x",
		Template: `{{range 3000}}窗{{end}}`}, m)
	if len(got) != 1 || len(got[0]) > 4000 || !strings.HasSuffix(got[0], "…") {
		t.Errorf("long text: %d bytes, ends %q", len(got[0]), got[0][len(got[0])-6:])
	}
}

func TestNewErrors(t *testing.T) {
	outbox, _ := openOutbox(t)
	n := func(template string) config.Notifier {
		return config.Notifier{ID: "n1", Kind: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K3y-S3cret", Template: template}
	}
	for _, c := range []struct {
		name    string
		targets []config.Notifier
		want    string
	}{
		{"unknown function", []config.Notifier{n("{{.Center | upper}}")}, `notify: notifier "n1": template: template:1: function "upper" not defined`},
		{"syntax", []config.Notifier{n("{{.Center")}, `notify: notifier "n1": template: template:1: unclosed action`},
		{"unknown field", []config.Notifier{n("{{.Room}}")},
			`notify: notifier "n1": template: template:1:2: executing "template" at <.Room>: can't evaluate field Room in type notify.Message (tried on a sample unstaffed raised message)`},
		{"bad argument", []config.Notifier{n("{{dur .Center}}")}, `notify: notifier "n1": template: template:1:6: executing "template" at <.Center>: wrong type for value; expected time.Duration; got string (tried on a sample unstaffed raised message)`},
		{"kind", []config.Notifier{{ID: "n1", Kind: "slack", URL: "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX"}},
			`notify: notifier "n1": kind "slack", want webhook, wecom or dingtalk`},
		{"url", []config.Notifier{{ID: "n1", Kind: "webhook", URL: "ftp://files.example.cn/drop?token=S3cret-T0ken"}},
			`notify: notifier "n1": url ftp://files.example.cn/drop?token=*** is not an http(s) URL`},
		{"duplicate", []config.Notifier{n(""), n("")}, `notify: duplicate notifier id "n1"`},
		{"no id", []config.Notifier{{Kind: "webhook", URL: "https://x.example.cn/"}}, `notify: notifier without id`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := notify.New(c.targets, outbox, notify.Options{})
			if err == nil || err.Error() != c.want {
				t.Errorf("error %v\nwant  %s", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "S3cret") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
	if _, err := notify.New(nil, nil, notify.Options{}); err == nil {
		t.Error("New without an outbox: no error")
	}
}

func TestFilters(t *testing.T) {
	outbox, _ := openOutbox(t)
	url := "http://127.0.0.1:9/"
	d := newDispatcher(t, []config.Notifier{
		{ID: "all", Kind: "webhook", URL: url},
		{ID: "dongcheng", Kind: "webhook", URL: url, Districts: []string{"dongcheng"}},
		{ID: "offline", Kind: "wecom", URL: url, Kinds: []string{"camera_offline"}},
		{ID: "xicheng-unstaffed", Kind: "dingtalk", URL: url, Districts: []string{"xicheng", "haidian"}, Kinds: []string{"unstaffed"}},
	}, outbox, notify.Options{})
	xi := unstaffed(3)
	xi.DistrictID = "xicheng"
	notifyAll(t, d, unstaffed(1), cameraOffline(2, "xicheng"), xi)

	want := map[string][]int64{"all": {1, 2, 3}, "dongcheng": {1}, "offline": {2}, "xicheng-unstaffed": {3}}
	for id, alerts := range want {
		var got []int64
		for _, q := range pending(t, outbox, id) {
			got = append(got, alertID(t, d, id, q))
		}
		if !equal(got, alerts) {
			t.Errorf("%s got alerts %v, want %v", id, got, alerts)
		}
		if st := status(t, d, id); st.Pending != len(alerts) {
			t.Errorf("%s: status pending %d, want %d", id, st.Pending, len(alerts))
		}
	}
}

// alertID finds the alert of a queued body: the generic body names it,
// robot texts do not, so those are matched by their place.
func alertID(t *testing.T, d *notify.Dispatcher, target string, q store.Notification) int64 {
	t.Helper()
	body := string(q.Payload)
	var generic struct {
		AlertID int64 `json:"alert_id"`
	}
	switch {
	case json.Unmarshal(q.Payload, &generic) == nil && generic.AlertID != 0:
		return generic.AlertID
	case strings.Contains(body, "二楼大厅"):
		return 2
	case strings.Contains(body, "3号窗口"):
		return 3 // the only unstaffed alert a robot target here accepts
	}
	t.Fatalf("%s: unexpected body %s", target, body)
	return 0
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestNotifyRejectsBadMessages(t *testing.T) {
	outbox, _ := openOutbox(t)
	d := newDispatcher(t, []config.Notifier{{ID: "all", Kind: "webhook", URL: "http://127.0.0.1:9/"}}, outbox, notify.Options{})
	noState := unstaffed(9)
	noState.State = "acknowledged"
	noKind := unstaffed(10)
	noKind.Kind = ""
	noTime := unstaffed(11)
	noTime.At = time.Time{}
	for m, want := range map[*notify.Message]string{
		&noState: `notify: alert 9: state "acknowledged", want raised or resolved`,
		&noKind:  `notify: alert 10: kind is empty`,
		&noTime:  `notify: alert 11: time is not set`,
	} {
		if err := d.Notify(context.Background(), *m); err == nil || err.Error() != want {
			t.Errorf("error %v, want %s", err, want)
		}
	}
	if left := pending(t, outbox, "all"); len(left) != 0 {
		t.Errorf("bad messages queued: %d", len(left))
	}
}

func TestMessageJSON(t *testing.T) {
	m := resolved(4)
	m.Location = shanghai(t)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version":1,"alert_id":4,"kind":"unstaffed","state":"resolved","district_id":"dongcheng","district":"东城区",` +
		`"center_id":"jingshan","center":"景山街道市民服务中心","camera_id":"cam1","camera":"一楼大厅","window_id":"w3","window":"3号窗口",` +
		`"at":"2026-03-02T09:45:12+08:00","since":"2026-03-02T09:41:00+08:00","grace_seconds":60,"duration_seconds":192,` +
		`"board_url":"https://hallwatch.example/centers/jingshan"}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}

func TestRunOnce(t *testing.T) {
	outbox, _ := openOutbox(t)
	d := newDispatcher(t, nil, outbox, notify.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := d.Run(ctx); err == nil || err.Error() != "notify: Run called twice" {
		t.Errorf("second Run: %v", err)
	}
}
