package ingest

import (
	"cmp"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/hallwatch/hallwatch/config"
)

// secretValue finds values of URL parameters named like a secret, the way
// config.RedactURL masks them.
var secretValue = regexp.MustCompile(`(?i)[a-z_]*(?:pass|pwd|token|key|secret|sign|auth)[a-z_]*=([^&?/;#]*)`)

// redactor removes a camera URL's secrets from any text (errors from the
// RTSP library, our own messages), not only from the URL itself.
type redactor struct {
	raw, safe string
	secrets   []string // longest first
}

func newRedactor(raw string) redactor {
	r := redactor{raw: raw, safe: config.RedactURL(raw)}
	add := func(s string) {
		if s != "" && !slices.Contains(r.secrets, s) {
			r.secrets = append(r.secrets, s)
		}
	}
	rest := raw
	if _, after, ok := strings.Cut(raw, "://"); ok {
		rest = after
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		userinfo := rest[:at]
		add(userinfo)
		if _, pass, ok := strings.Cut(userinfo, ":"); ok {
			add(pass)
			if dec, err := url.PathUnescape(pass); err == nil {
				add(dec)
			}
		}
	}
	for _, m := range secretValue.FindAllStringSubmatch(raw, -1) {
		add(m[1])
		if dec, err := url.QueryUnescape(m[1]); err == nil {
			add(dec)
		}
	}
	slices.SortFunc(r.secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return r
}

// redact returns s with the URL shown masked and every secret replaced.
func (r redactor) redact(s string) string {
	if r.raw != "" {
		s = strings.ReplaceAll(s, r.raw, r.safe)
	}
	for _, sec := range r.secrets {
		s = strings.ReplaceAll(s, sec, "***")
	}
	return s
}
