package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/hallwatch/hallwatch/config"
)

// Notifier kinds.
const (
	kindWebhook  = "webhook"
	kindWeCom    = "wecom"
	kindDingTalk = "dingtalk"
)

const (
	defaultTimeout = 5 * time.Second
	// maxAnswer bounds how much of an answer is read: robots reply with a
	// few dozen bytes.
	maxAnswer = 64 << 10
)

// target is one configured notifier, ready to render and send.
type target struct {
	id, kind  string
	url       *url.URL // holds the access key: never print it
	secret    string   // DingTalk signing secret
	timeout   time.Duration
	districts []string
	kinds     []string
	text      textFunc
	redacted  string   // URL for people
	secrets   []string // what scrub removes from error texts
}

func newTarget(n config.Notifier) (*target, error) {
	if n.ID == "" {
		return nil, errors.New("notifier without id")
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("notifier %q: %s", n.ID, fmt.Sprintf(format, args...))
	}
	t := &target{id: n.ID, kind: n.Kind, secret: n.Secret, timeout: n.Timeout.D(),
		districts: n.Districts, kinds: n.Kinds, redacted: config.RedactWebhook(n.URL)}
	if t.timeout <= 0 {
		t.timeout = defaultTimeout
	}
	u, err := url.Parse(n.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fail("url %s is not an http(s) URL", t.redacted)
	}
	t.url = u
	t.secrets = secretsOf(u, n.URL, n.Secret)
	switch {
	case n.Kind != kindWebhook && n.Kind != kindWeCom && n.Kind != kindDingTalk:
		return nil, fail("kind %q, want %s, %s or %s", n.Kind, kindWebhook, kindWeCom, kindDingTalk)
	case n.Template != "":
		if t.text, err = parseTemplate(n.Template); err != nil {
			return nil, fail("%v", err)
		}
	case n.Kind == kindWebhook:
		t.text = plainText
	default:
		t.text = markdownText
	}
	return t, nil
}

// matches applies the notifier's district and kind filters.
func (t *target) matches(m Message) bool {
	return (len(t.districts) == 0 || slices.Contains(t.districts, m.DistrictID)) &&
		(len(t.kinds) == 0 || slices.Contains(t.kinds, m.Kind))
}

type markdown struct {
	Title   string `json:"title,omitempty"`   // DingTalk
	Text    string `json:"text,omitempty"`    // DingTalk
	Content string `json:"content,omitempty"` // WeCom
}

type robotMessage struct {
	MsgType  string   `json:"msgtype"`
	Markdown markdown `json:"markdown"`
}

// body renders the request body for m, whose times are in the center's zone.
func (t *target) body(m Message) ([]byte, error) {
	text, err := t.text(m)
	if err != nil {
		return nil, fmt.Errorf("render text: %w", err)
	}
	switch t.kind {
	case kindWeCom:
		return json.Marshal(robotMessage{MsgType: "markdown", Markdown: markdown{Content: text}})
	case kindDingTalk:
		return json.Marshal(robotMessage{MsgType: "markdown", Markdown: markdown{Title: m.Title(), Text: text}})
	}
	return json.Marshal(m.wire(text))
}

// send posts one body. Its error texts hold no secret.
func (t *target) send(ctx context.Context, client *http.Client, now time.Time, body []byte) error {
	u := *t.url
	if t.kind == kindDingTalk && t.secret != "" {
		u.RawQuery = signQuery(u.RawQuery, t.secret, now)
	}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return t.scrubbed("build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "hallwatch")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return t.scrubbed("no answer within %v", t.timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // ue.URL holds the access key
		}
		return t.scrubbed("request failed: %v", err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return t.scrubbed("HTTP %s, reading the answer: %v", resp.Status, err)
	}
	if t.kind == kindWebhook {
		if resp.StatusCode/100 != 2 {
			return t.scrubbed("HTTP %s: %s", resp.Status, t.snippet(answer))
		}
		return nil
	}
	return t.robotAnswer(resp, answer)
}

// robotAnswer checks a WeCom or DingTalk reply: HTTP 200 with errcode 0.
func (t *target) robotAnswer(resp *http.Response, answer []byte) error {
	if resp.StatusCode != http.StatusOK {
		return t.scrubbed("HTTP %s: %s", resp.Status, t.snippet(answer))
	}
	var reply struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(answer, &reply); err != nil || reply.ErrCode == nil {
		return t.scrubbed("answer is not a robot reply: %s", t.snippet(answer))
	}
	if *reply.ErrCode != 0 {
		return t.scrubbed("errcode %d: %s", *reply.ErrCode, t.snippet([]byte(reply.ErrMsg)))
	}
	return nil
}

// signQuery adds DingTalk's signature (加签) to a query: timestamp in
// milliseconds and sign = urlencode(base64(HMAC-SHA256(secret,
// timestamp+"\n"+secret))). DingTalk refuses timestamps more than an hour
// off, so it is computed for every attempt.
func signQuery(rawQuery, secret string, now time.Time) string {
	ts := strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	sign := url.QueryEscape(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	if rawQuery != "" {
		rawQuery += "&"
	}
	return rawQuery + "timestamp=" + ts + "&sign=" + sign
}
