package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// errNoMetrics: this hallwatch serves neither /metrics nor /debug/pprof.
var errNoMetrics = errors.New("no /metrics or /debug/pprof")

// goroutines reads go_goroutines from /metrics, or the total of the
// goroutine profile.
func (c *child) goroutines(ctx context.Context) (int, error) {
	for _, src := range []struct{ path, prefix string }{
		{"/metrics", "go_goroutines "},
		{"/debug/pprof/goroutine?debug=1", "goroutine profile: total "},
	} {
		body, code, err := c.get(ctx, src.path)
		if err != nil {
			return 0, err
		}
		if code != http.StatusOK {
			continue
		}
		for line := range strings.Lines(string(body)) {
			if v, ok := strings.CutPrefix(line, src.prefix); ok {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return int(f), err
			}
		}
	}
	return 0, errNoMetrics
}

// metric sums the samples of a /metrics counter or gauge over its labels.
func (c *child) metric(ctx context.Context, name string) (float64, error) {
	body, code, err := c.get(ctx, "/metrics")
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, errNoMetrics
	}
	sum, found := 0.0, false
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		f := strings.Fields(rest[strings.LastIndexByte(rest, '}')+1:])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(f[0], 64)
		if err != nil {
			return 0, err
		}
		sum, found = sum+v, true
	}
	if !found {
		return 0, fmt.Errorf("%s: %w", name, errNoMetrics)
	}
	return sum, nil
}

// histogram reads a /metrics histogram's cumulative bucket counts.
func (c *child) histogram(ctx context.Context, name string) (map[float64]float64, error) {
	body, code, err := c.get(ctx, "/metrics")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, errNoMetrics
	}
	buckets := map[float64]float64{}
	for line := range strings.Lines(string(body)) {
		rest, ok := strings.CutPrefix(line, name+`_bucket{le="`)
		if !ok {
			continue
		}
		le, count, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		bound, err1 := strconv.ParseFloat(le, 64)
		n, err2 := strconv.ParseFloat(strings.TrimSpace(count), 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: bad bucket line %q", name, line)
		}
		buckets[bound] = n
	}
	if len(buckets) == 0 {
		return nil, fmt.Errorf("%s: %w", name, errNoMetrics)
	}
	return buckets, nil
}

// quantile estimates a quantile of the observations between two readings
// of a histogram: the upper bound of the bucket it falls in.
func quantile(before, after map[float64]float64, q float64) (bound, total float64) {
	bounds := slices.Sorted(maps.Keys(after))
	total = after[math.Inf(1)] - before[math.Inf(1)]
	for _, le := range bounds {
		if after[le]-before[le] >= q*total {
			return le, total
		}
	}
	return math.Inf(1), total
}
