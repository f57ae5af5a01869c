package notify_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/notify"
)

// decodeStrict decodes a vendor body, refusing fields the vendor does not
// document.
func decodeStrict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
}

func TestGenericWebhookBody(t *testing.T) {
	shanghai(t)
	outbox, _ := openOutbox(t)
	hook := newEndpoint(t, answer(http.StatusNoContent, ""))
	d := newDispatcher(t, []config.Notifier{{ID: "hook", Kind: "webhook", URL: hook.URL + "/hooks/T0KEN-abcdefghijklmnop"}},
		outbox, notify.Options{Clock: newFakeClock()})
	start(t, d)
	notifyAll(t, d, unstaffed(42), resolved(42))

	got := hook.wait(t, 2)
	want := []map[string]any{{
		"version": 1.0, "alert_id": 42.0, "kind": "unstaffed", "state": "raised",
		"district_id": "dongcheng", "district": "东城区", "center_id": "jingshan", "center": "景山街道市民服务中心",
		"camera_id": "cam1", "camera": "一楼大厅", "window_id": "w3", "window": "3号窗口",
		"at": "2026-03-02T09:42:00+08:00", "since": "2026-03-02T09:41:00+08:00",
		"grace_seconds": 60.0, "duration_seconds": 0.0,
		"board_url": "https://hallwatch.example/centers/jingshan",
		"text":      "【窗口无人值守】景山街道市民服务中心 · 3号窗口：09:41 起无人，已超过 1 分钟",
	}, {
		"version": 1.0, "alert_id": 42.0, "kind": "unstaffed", "state": "resolved",
		"district_id": "dongcheng", "district": "东城区", "center_id": "jingshan", "center": "景山街道市民服务中心",
		"camera_id": "cam1", "camera": "一楼大厅", "window_id": "w3", "window": "3号窗口",
		"at": "2026-03-02T09:45:12+08:00", "since": "2026-03-02T09:41:00+08:00",
		"grace_seconds": 60.0, "duration_seconds": 192.0,
		"board_url": "https://hallwatch.example/centers/jingshan",
		"text":      "【已恢复】景山街道市民服务中心 · 3号窗口：09:41–09:45 无人 4 分 12 秒",
	}}
	for i, r := range got {
		if r.URL != "/hooks/T0KEN-abcdefghijklmnop" || r.ContentType != "application/json" {
			t.Errorf("request %d: POST %s with %q", i, r.URL, r.ContentType)
		}
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(body, want[i]) {
			t.Errorf("body %d:\n got %v\nwant %v", i, body, want[i])
		}
	}
	st := waitStatus(t, d, "hook", "two deliveries", func(st notify.TargetStatus) bool { return st.Delivered == 2 })
	if st.Pending != 0 || st.Failed != 0 || st.LastError != "" || st.LastSuccess.IsZero() {
		t.Errorf("status %+v", st)
	}
	if left := pending(t, outbox, "hook"); len(left) != 0 {
		t.Errorf("%d delivered messages left in the outbox", len(left))
	}
}

// wecomReply plays a WeCom group robot: POST /cgi-bin/webhook/send?key=…
// with {"msgtype":"markdown","markdown":{"content":…}}, content at most
// 4096 bytes.
func wecomRobot(t *testing.T, key string, contents chan<- string, errcodes ...int) func(*http.Request, []byte) (int, string) {
	return func(r *http.Request, body []byte) (int, string) {
		if r.Method != http.MethodPost || r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != key {
			return http.StatusOK, `{"errcode":93000,"errmsg":"invalid webhook url"}`
		}
		var msg struct {
			MsgType  string `json:"msgtype"`
			Markdown struct {
				Content string `json:"content"`
			} `json:"markdown"`
		}
		decodeStrict(t, body, &msg)
		if msg.MsgType != "markdown" || msg.Markdown.Content == "" || len(msg.Markdown.Content) > 4096 {
			return http.StatusOK, `{"errcode":40008,"errmsg":"invalid message type"}`
		}
		contents <- msg.Markdown.Content
		code := 0
		if len(errcodes) > 0 {
			code, errcodes = errcodes[0], errcodes[1:]
		}
		if code != 0 {
			return http.StatusOK, `{"errcode":` + strconv.Itoa(code) + `,"errmsg":"api freq out of limit"}`
		}
		return http.StatusOK, `{"errcode":0,"errmsg":"ok"}`
	}
}

func TestWeComRobotRetriesOnErrcode(t *testing.T) {
	shanghai(t)
	const key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
	outbox, _ := openOutbox(t)
	clock := newFakeClock()
	contents := make(chan string, 10)
	robot := newEndpoint(t, wecomRobot(t, key, contents, 45009))
	d := newDispatcher(t, []config.Notifier{{ID: "wecom", Kind: "wecom", URL: robot.URL + "/cgi-bin/webhook/send?key=" + key}},
		outbox, notify.Options{Clock: clock})
	start(t, d)
	notifyAll(t, d, unstaffed(7))

	const want = "【窗口无人值守】景山街道市民服务中心 · 3号窗口：09:41 起无人，已超过 1 分钟\n\n[查看看板](https://hallwatch.example/centers/jingshan)"
	if got := recv(t, contents); got != want {
		t.Errorf("content %q, want %q", got, want)
	}
	// errcode 45009 is a failure: retried after the first backoff step.
	wait := clock.nextWait(t)
	if wait < 1600*time.Millisecond || wait > 2*time.Second {
		t.Errorf("first retry after %v, want 1.6 s to 2 s", wait)
	}
	st := status(t, d, "wecom")
	if st.Failed != 1 || st.Delivered != 0 || st.Pending != 1 || st.LastError != "errcode 45009: api freq out of limit" ||
		!st.RetryAt.Equal(clock.Now().Add(wait)) {
		t.Errorf("after errcode 45009: %+v", st)
	}
	if p := pending(t, outbox, "wecom"); len(p) != 1 || p[0].Attempts != 1 || p[0].LastError != st.LastError {
		t.Errorf("outbox after the failure: %+v", p)
	}
	clock.Advance(wait)
	if got := recv(t, contents); got != want {
		t.Errorf("retried content %q, want %q", got, want)
	}
	st = waitStatus(t, d, "wecom", "delivery", func(st notify.TargetStatus) bool { return st.Delivered == 1 })
	if st.Pending != 0 || st.LastError != "" || !st.RetryAt.IsZero() {
		t.Errorf("after delivery: %+v", st)
	}
	if strings.Contains(st.URL, key) || st.URL != robot.URL+"/cgi-bin/webhook/send?key=***" {
		t.Errorf("status URL %q", st.URL)
	}
}

// dingtalkRobot plays a DingTalk custom robot with signing (加签): it
// recomputes the signature from the timestamp and its own copy of the
// secret, and refuses timestamps more than an hour from now.
func dingtalkRobot(t *testing.T, token, secret string, bodies chan<- []byte) func(*http.Request, []byte) (int, string) {
	return func(r *http.Request, body []byte) (int, string) {
		q := r.URL.Query()
		if r.URL.Path != "/robot/send" || q.Get("access_token") != token {
			return http.StatusOK, `{"errcode":300001,"errmsg":"token is not exist"}`
		}
		ms, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil || time.Since(time.UnixMilli(ms)).Abs() > time.Hour {
			return http.StatusOK, `{"errcode":310000,"errmsg":"timestamp is invalid"}`
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
		// Query().Get has already undone the URL encoding of sign.
		if q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
			return http.StatusOK, `{"errcode":310000,"errmsg":"sign not match"}`
		}
		var msg struct {
			MsgType  string `json:"msgtype"`
			Markdown struct {
				Title string `json:"title"`
				Text  string `json:"text"`
			} `json:"markdown"`
		}
		decodeStrict(t, body, &msg)
		if msg.MsgType != "markdown" || msg.Markdown.Title == "" || msg.Markdown.Text == "" {
			return http.StatusOK, `{"errcode":40035,"errmsg":"missing markdown"}`
		}
		bodies <- body
		return http.StatusOK, `{"errcode":0,"errmsg":"ok"}`
	}
}

func TestDingTalkRobotSigned(t *testing.T) {
	shanghai(t)
	const (
		token  = "0f3c9a7e5b2d4c1a8e6f0b9d7c5a3e1f"
		secret = "SEC8f2e4c6a0b1d3f5e7a9c1b3d5f7e9a1c3b5d7f9e1a3c5b7d9f1e3a5c7b9d1f3"
	)
	outbox, _ := openOutbox(t)
	bodies := make(chan []byte, 10)
	robot := newEndpoint(t, dingtalkRobot(t, token, secret, bodies))
	logs := &syncbuf.Buffer{}
	d := newDispatcher(t, []config.Notifier{
		{ID: "ding", Kind: "dingtalk", URL: robot.URL + "/robot/send?access_token=" + token, Secret: secret},
		{ID: "wrong-secret", Kind: "dingtalk", URL: robot.URL + "/robot/send?access_token=" + token, Secret: "SEC-not-the-secret-0123456789"},
	}, outbox, notify.Options{Clock: newFakeClock(), Log: logTo(logs)})
	start(t, d)
	notifyAll(t, d, cameraOffline(3, "dongcheng"))

	body := recv(t, bodies)
	want := `{"msgtype":"markdown","markdown":{"title":"摄像机离线 · 景山街道市民服务中心",` +
		`"text":"【摄像机离线】景山街道市民服务中心 · 二楼大厅：14:28 起离线，已超过 2 分钟"}}`
	if string(body) != want {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
	waitStatus(t, d, "ding", "delivery", func(st notify.TargetStatus) bool { return st.Delivered == 1 })
	st := waitStatus(t, d, "wrong-secret", "a failure", func(st notify.TargetStatus) bool { return st.Failed == 1 })
	if st.LastError != "errcode 310000: sign not match" || st.Delivered != 0 || st.Pending != 1 {
		t.Errorf("wrong secret: %+v", st)
	}
	for _, secret := range []string{token, secret, "SEC-not-the-secret-0123456789"} {
		if all := logs.String() + statusJSON(t, d); strings.Contains(all, secret) {
			t.Errorf("secret %q shown in logs or status:\n%s", secret, all)
		}
	}
}

func statusJSON(t *testing.T, d *notify.Dispatcher) string {
	t.Helper()
	b, err := json.Marshal(d.Status())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEchoedCredentialsRedacted: a receiver that echoes the request's
// headers in its error answer shows the Authorization: Basic header Go
// builds from the URL's user:password; neither the password nor that
// header's base64 may reach the status (/api/notifiers) or the log.
func TestEchoedCredentialsRedacted(t *testing.T) {
	shanghai(t)
	const user, pass = "alerts", "hook-pass-7f3e9a1c"
	outbox, _ := openOutbox(t)
	echo := newEndpoint(t, func(r *http.Request, _ []byte) (int, string) {
		headers, _ := json.Marshal(r.Header)
		escaped := strings.ReplaceAll(string(headers), "/", `\/`) // as PHP's json_encode writes it
		return http.StatusBadGateway, "Authorization: " + r.Header.Get("Authorization") + " " + escaped + " " + escaped
	})
	logs := &syncbuf.Buffer{}
	hookURL := strings.Replace(echo.URL, "http://", "http://"+user+":"+pass+"@", 1) + "/hook"
	d := newDispatcher(t, []config.Notifier{{ID: "echo", Kind: "webhook", URL: hookURL}},
		outbox, notify.Options{Clock: newFakeClock(), Log: logTo(logs)})
	start(t, d)
	notifyAll(t, d, unstaffed(7))
	st := waitStatus(t, d, "echo", "a failure", func(st notify.TargetStatus) bool { return st.Failed == 1 })
	if !strings.Contains(st.LastError, "HTTP 502") || !strings.Contains(st.LastError, "Basic ***") {
		t.Errorf("last error %q", st.LastError)
	}
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	all := logs.String() + statusJSON(t, d)
	for _, secret := range []string{pass, basic, basic[:12], strings.TrimRight(basic, "=")} {
		if strings.Contains(all, secret) {
			t.Errorf("secret %q shown in logs or status:\n%s", secret, all)
		}
	}
}
