package web

import (
	"errors"
	"strconv"
	"strings"
)

// errUnsatisfiable: the Range lies outside the resource (416).
var errUnsatisfiable = errors.New("range not satisfiable")

// parseRange reads a Range header for a resource of size bytes. It
// returns the one byte range to send, or ok false when the whole resource
// is to be sent (no header, a unit other than bytes, several ranges: the
// server may ignore those). A single range that cannot be met is
// errUnsatisfiable; a malformed one is ignored, as RFC 9110 asks.
func parseRange(h string, size int64) (start, length int64, ok bool, err error) {
	unit, spec, found := strings.Cut(strings.TrimSpace(h), "=")
	if !found || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	num := func(s string) (int64, bool) {
		if s == "" || len(s) > 18 || strings.TrimLeft(s, "0123456789") != "" {
			return 0, false
		}
		v, err := strconv.ParseInt(s, 10, 64)
		return v, err == nil
	}
	if first == "" { // suffix: the last n bytes
		n, valid := num(last)
		if !valid {
			return 0, 0, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, errUnsatisfiable
		}
		n = min(n, size)
		return size - n, n, true, nil
	}
	a, valid := num(first)
	if !valid {
		return 0, 0, false, nil
	}
	if a >= size {
		return 0, 0, false, errUnsatisfiable
	}
	b := size - 1
	if last != "" {
		v, valid := num(last)
		if !valid || v < a {
			return 0, 0, false, nil
		}
		b = min(v, size-1)
	}
	return a, b - a + 1, true, nil
}
