package config

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"rtsp://user:pass@host/x":                           "rtsp://***@host/x",
		"rtsp://admin:Pa55w0rd@10.0.0.1:554/Streaming/101":  "rtsp://***@10.0.0.1:554/Streaming/101",
		"rtsp://host:554/x":                                 "rtsp://host:554/x",
		"rtsp://user@host/x":                                "rtsp://***@host/x",
		"rtsp://u:p/a#ss@host/x":                            "rtsp://***@host/x", // unencoded / and # in the password
		"rtsp://u:p@ss@host/x":                              "rtsp://***@host/x",
		"u:p@host/x":                                        "***@host/x", // no scheme
		"rtsp://host/cam/realmonitor?channel=1&subtype=0":   "rtsp://host/cam/realmonitor?channel=1&subtype=0",
		"rtsp://host/live?user=admin&password=secret&ch=1":  "rtsp://host/live?user=admin&password=***&ch=1",
		"rtsp://host:554/user=admin_password=Pw1_channel=1": "rtsp://host:554/user=admin_password=***",
		"rtsp://host/x?token=abc":                           "rtsp://host/x?token=***",
		"":                                                  "",
		"%zz://\x00@":                                       "%zz://***@",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
	for dsn, want := range map[string]string{
		"postgres://hw:Pa55w0rd@db.example.cn:5432/hallwatch?sslmode=verify-full": "postgres://***@db.example.cn:5432/hallwatch?sslmode=verify-full",
		"host=db.example.cn user=hw password=Pa55w0rd dbname=hallwatch":           "host=db.example.cn user=hw password=***",
	} {
		if got := (Storage{DSN: dsn}).SafeDSN(); got != want {
			t.Errorf("SafeDSN(%q) = %q, want %q", dsn, got, want)
		}
	}
	cam := Camera{URL: "rtsps://op:Js8%23hall@192.168.20.31:322/stream1"}
	if got := cam.SafeURL(); got != "rtsps://***@192.168.20.31:322/stream1" {
		t.Errorf("SafeURL() = %q", got)
	}
}

func TestRedactWebhook(t *testing.T) {
	for in, want := range map[string]string{
		"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx":     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***",
		"https://oapi.dingtalk.com/robot/send?access_token=0f3c9a7e&timestamp=1": "https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=***",
		"https://open.feishu.cn/open-apis/bot/v2/hook/9a8b7c6d-5e4f-3a2b-1c0d":   "https://open.feishu.cn/open-apis/bot/v2/hook/***",
		"https://user:pw@hooks.example.cn/alert#frag":                            "https://***@hooks.example.cn/alert#***",
		"https://hooks.example.cn/alert?SECRETWITHOUTNAME":                       "https://hooks.example.cn/alert?***",
		"not a url": "not a url",
	} {
		if got := RedactWebhook(in); got != want {
			t.Errorf("RedactWebhook(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNoSecretsInErrors feeds URLs with credentials, broken in every way,
// through Parse and checks that no error shows any part of the password.
func TestNoSecretsInErrors(t *testing.T) {
	urls := []string{
		"http://admin:Pa55w0rd@10.0.0.1/x",
		"rtsp://admin:Pa55w0rd@/x",
		"rtsp://admin:Pa55w0rd@10.0.0.1:99999/x",
		"rtsp://admin:Pa55w0rd@10.0.0.1:port/x",
		"admin:Pa55w0rd@10.0.0.1/x",
		"rtsp://admin:Pa55/w0rd@10.0.0.1/x",
		"rtsp://admin:Pa55#w0rd@10.0.0.1/x",
		"rtsp://admin:Pa55?w0rd@10.0.0.1/x",
		"rtsp://admin:Pa55:w0rd@10.0.0.1/x",
		"rtsp://admin:Pa55%zzw0rd@10.0.0.1/x",
		"rtsp://admin:Pa55 w0rd@10.0.0.1/x",
		"rtsp://admin:Pa55\tw0rd@10.0.0.1/x",
		"rtsp://admin:Pa55w0rd@10.0.0.1:554/x?password=Pa55w0rd",
		"rtsp://[admin:Pa55w0rd@10.0.0.1/x",
	}
	var docs []string
	for _, u := range urls {
		q := `"` + strings.ReplaceAll(u, "\t", `\t`) + `"`
		docs = append(docs,
			edit(t, "rtsp://admin:Pa55w0rd@10.0.0.1:554/x", q),
			edit(t, "url: rtsp://admin:Pa55w0rd@10.0.0.1:554/x", "url: ["+q+"]"),
			edit(t, "url: rtsp://admin:Pa55w0rd@10.0.0.1:554/x", "url: {u: "+q+"}"),
			edit(t, "          - id: cam1\n", "          - "+q+"\n          - id: cam1\n"),
			notifierBase+"  - {id: n2, kind: webhook, url: "+strings.Replace(q, "rtsp", "ftp", 1)+"}\n",
			base+"webrtc:\n  ice_servers:\n    - url: "+strings.Replace(q, "rtsp://", "turn:", 1)+"\n",
		)
	}
	for _, dsn := range []string{"mysql://hw:Pa55w0rd@db/hw", "Pa55w0rd", `["postgres://hw:Pa55w0rd@db/hw"]`, "{password: Pa55w0rd}"} {
		docs = append(docs, base+"storage:\n  driver: postgres\n  dsn: "+dsn+"\n",
			base+"storage:\n  driver: postgres\n  dsn: "+dsn+"\n  colour: red\n")
	}
	for _, key := range []string{"https://qyapi.weixin.qq.com/send?key=Pa55w0rd", "https:///send?key=Pa55w0rd", "https://q:99999/send?key=Pa55w0rd", "ftp://Pa55w0rd"} {
		docs = append(docs, strings.Replace(notifierBase, "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K3y-S3cret", key, 1)+"    timeout: 0s\n")
	}
	for _, doc := range docs {
		_, err := Parse("t.yaml", []byte(doc), nil)
		if err == nil {
			continue
		}
		for _, part := range []string{"Pa55", "w0rd"} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("error shows %q:\n%v", part, err)
			}
		}
	}
}

func TestSafeNATSURL(t *testing.T) {
	c := Cluster{NATSURL: "nats://hw:S3cret@nats-1:4222, tls://nats-2:4222"}
	if got, want := c.SafeNATSURL(), "nats://***@nats-1:4222,tls://nats-2:4222"; got != want {
		t.Errorf("SafeNATSURL() = %q, want %q", got, want)
	}
	if got := (Cluster{PublicURL: "http://n1"}).PeerAddress(); got != "http://n1" {
		t.Errorf("PeerAddress() without peer_url = %q, want the public URL", got)
	}
}
