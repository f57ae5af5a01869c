package config

import (
	"regexp"
	"strings"
)

const masked = "***"

// secretParam matches name=value pairs whose name suggests a secret, in the
// query or in the path (some DVRs take rtsp://host/user=admin&password=x).
var secretParam = regexp.MustCompile(`(?i)([a-z_]*(?:pass|pwd|token|key|secret|sign|auth)[a-z_]*=)[^&?/;#]*`)

// RedactURL masks the credentials of a camera URL for logs and pages:
// rtsp://user:pass@host/x becomes rtsp://***@host/x, and values of
// parameters named like a secret (password=, token=, key=…) become ***. It
// works on the text without parsing, so malformed URLs are masked too:
// everything between "://" and the last "@" is hidden, even if that hides
// a little too much.
func RedactURL(raw string) string {
	head, rest := splitScheme(raw)
	return head + secretParam.ReplaceAllString(redactUserinfo(rest), "${1}"+masked)
}

// RedactWebhook masks a notifier URL. Chat webhooks carry their access key
// in the query (WeCom ?key=, DingTalk ?access_token=) or in a long path
// segment (Slack, Feishu), so every query value, every path segment of 16
// or more characters, user info and fragment are masked; scheme, host and
// short path segments stay for recognition.
func RedactWebhook(raw string) string {
	head, rest := splitScheme(raw)
	rest, _, hasFragment := strings.Cut(redactUserinfo(rest), "#")
	base, query, hasQuery := strings.Cut(rest, "?")
	segments := strings.Split(base, "/")
	for i := 1; i < len(segments); i++ { // segments[0] is the host
		if len(segments[i]) >= 16 {
			segments[i] = masked
		}
	}
	out := head + strings.Join(segments, "/")
	if hasQuery {
		params := strings.Split(query, "&")
		for i, p := range params {
			params[i] = masked
			if name, _, ok := strings.Cut(p, "="); ok {
				params[i] = name + "=" + masked
			}
		}
		out += "?" + strings.Join(params, "&")
	}
	if hasFragment {
		out += "#" + masked
	}
	return out
}

// splitScheme cuts "scheme://" off raw; without "://" the head is empty.
func splitScheme(raw string) (head, rest string) {
	if i := strings.Index(raw, "://"); i >= 0 {
		return raw[:i+3], raw[i+3:]
	}
	return "", raw
}

// redactUserinfo hides everything before the last "@": a password may itself
// hold "/", "?" or "#" when it is not percent-encoded.
func redactUserinfo(rest string) string {
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		return masked + rest[at:]
	}
	return rest
}
