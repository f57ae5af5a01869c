// Package testzone picks time zones for tests of what a center saw on its
// own calendar day, so that a test never runs across the center's midnight
// (the centers' default, Asia/Shanghai, turns its day at 16:00 UTC).
package testzone

import (
	"fmt"
	"math"
	"time"
)

// Midday returns a zone (IANA name) in which it is now between 11:30 and
// 12:30, on UTC's calendar day: "today" and "yesterday" there stay the same
// for hours.
func Midday() string { return midday(time.Now()) }

// NotOnUTCDay returns a zone whose calendar day differs from UTC's now (a
// day taken from the wrong clock shows) and whose midnight is at least an
// hour away: UTC−12 before 11:00 UTC (22:59 yesterday at the latest), UTC+14
// from then on (01:00 tomorrow at the earliest).
func NotOnUTCDay() string { return notOnUTCDay(time.Now()) }

func midday(now time.Time) string {
	now = now.UTC()
	hours := float64(now.Hour()) + float64(now.Minute())/60
	return etc(12 - int(math.Round(hours))) // −12..+12 hours east of UTC
}

func notOnUTCDay(now time.Time) string {
	if now.UTC().Hour() < 11 {
		return etc(-12)
	}
	return etc(14)
}

// etc names the fixed zone east hours east of UTC (the Etc/GMT names count
// the other way: Etc/GMT-8 is UTC+8).
func etc(east int) string {
	switch {
	case east == 0:
		return "Etc/UTC"
	case east > 0:
		return fmt.Sprintf("Etc/GMT-%d", east)
	default:
		return fmt.Sprintf("Etc/GMT+%d", -east)
	}
}
