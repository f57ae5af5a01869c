package notify

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// minSecret is the shortest text scrub removes: shorter query values are
// flags like v=2, and removing them would garble every message.
const minSecret = 4

// secretsOf lists the parts of a webhook URL that may be access keys (user
// info, also as the base64 of the Authorization: Basic header Go sends for
// it, query values, long path segments, in raw and decoded forms) and the
// signing secret, longest first so a longer secret is removed whole.
func secretsOf(u *url.URL, raw, signingSecret string) []string {
	list := []string{raw, u.String(), signingSecret}
	if u.User != nil {
		pass, _ := u.User.Password()
		basic := []byte(u.User.Username() + ":" + pass)
		list = append(list, u.User.Username(), pass, u.User.String(),
			base64.StdEncoding.EncodeToString(basic), base64.RawStdEncoding.EncodeToString(basic),
			base64.URLEncoding.EncodeToString(basic), base64.RawURLEncoding.EncodeToString(basic))
	}
	for _, pair := range strings.Split(u.RawQuery, "&") {
		_, v, _ := strings.Cut(pair, "=")
		dec, _ := url.QueryUnescape(v)
		list = append(list, v, dec, url.QueryEscape(dec))
	}
	for _, seg := range strings.Split(u.EscapedPath(), "/") {
		if len(seg) >= 16 {
			dec, _ := url.PathUnescape(seg)
			list = append(list, seg, dec)
		}
	}
	list = slices.DeleteFunc(list, func(s string) bool { return len(s) < minSecret })
	slices.SortFunc(list, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return slices.Compact(list)
}

// scrubbed formats an error and removes the target's secrets from it.
func (t *target) scrubbed(format string, args ...any) error {
	return errors.New(t.scrub(fmt.Sprintf(format, args...)))
}

// credentials matches HTTP credentials a receiver may echo back
// (Authorization: Basic …, Bearer …), JSON-escaped slashes included.
var credentials = regexp.MustCompile(`(?i)\b(basic|bearer)(\s|\\[nrt]|%20)+[a-z0-9+/=_.~\\-]{4,}`)

func (t *target) scrub(s string) string {
	for _, secret := range t.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return credentials.ReplaceAllString(s, "$1 ***")
}

// snippet is the start of an answer body for an error text: at most 200
// bytes, on one line, scrubbed before it is cut so that no part of a
// secret the answer echoes is left.
func (t *target) snippet(b []byte) string {
	s := t.scrub(strings.ToValidUTF8(string(b), "?"))
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = truncate(strings.TrimSpace(s), 200)
	if s == "" {
		return "(empty answer)"
	}
	return s
}
