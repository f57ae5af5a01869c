package notify

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// minSecret is the shortest text scrub removes: shorter query values are
// flags like v=2, and removing them would garble every message.
const minSecret = 4

// secretsOf lists the parts of a webhook URL that may be access keys (user
// info, query values, long path segments, in raw and decoded forms) and the
// signing secret, longest first so a longer secret is removed whole.
func secretsOf(u *url.URL, raw, signingSecret string) []string {
	list := []string{raw, u.String(), signingSecret}
	if u.User != nil {
		pass, _ := u.User.Password()
		list = append(list, u.User.Username(), pass, u.User.String())
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

func (t *target) scrub(s string) string {
	for _, secret := range t.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

// snippet is the start of an answer body for an error text: at most 200
// bytes, on one line.
func snippet(b []byte) string {
	s := strings.ToValidUTF8(string(b), "?")
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
