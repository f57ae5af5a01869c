package config

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as "90s", "1m30s", "12h" or, for
// whole days, "400d".
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String writes whole days as "400d" and anything else the way time.Duration does.
func (d Duration) String() string {
	const day = 24 * time.Hour
	if t := time.Duration(d); t >= day && t%day == 0 {
		return strconv.FormatInt(int64(t/day), 10) + "d"
	}
	return time.Duration(d).String()
}

// UnmarshalYAML reads a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a duration such as \"90s\", \"15m\", \"12h\" or \"400d\"")
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

var bareNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// parseDuration accepts Go durations, optionally after a whole number of
// days ("400d", "1d12h"), and rejects negative values and bare numbers,
// whose unit would be a guess.
func parseDuration(s string) (Duration, error) {
	const day = 24 * time.Hour
	invalid := fmt.Errorf("invalid duration %q: want a number with a unit such as \"90s\", \"15m\", \"12h\" or \"400d\"", s)
	var days time.Duration
	rest := s
	if before, after, ok := strings.Cut(s, "d"); ok {
		n, err := strconv.ParseUint(before, 10, 64)
		if err != nil || n > uint64(math.MaxInt64/int64(day)) || strings.HasPrefix(after, "-") {
			return 0, invalid
		}
		if days, rest = time.Duration(n)*day, after; rest == "" {
			return Duration(days), nil
		}
	}
	v, err := time.ParseDuration(rest)
	switch {
	case err != nil && bareNumber.MatchString(s):
		return 0, fmt.Errorf("invalid duration %q: add a unit, e.g. \"%ss\"", s, s)
	case err != nil:
		return 0, invalid
	case v < 0:
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	case v > math.MaxInt64-days:
		return 0, fmt.Errorf("invalid duration %q: too long", s)
	}
	return Duration(days + v), nil
}

// MarshalYAML writes the duration the way it is read, so a configuration
// built in Go (the demo's) can be saved as a file.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }
