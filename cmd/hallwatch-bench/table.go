package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// verdict of a row against its target.
type verdict string

const (
	met     verdict = "met"
	missed  verdict = "MISSED"
	info    verdict = ""
	skipped verdict = "skipped"
)

// row is one line of the results table.
type row struct {
	scenario string
	measure  string
	value    string
	target   string
	verdict  verdict
	note     string // baseline ratio, how it was measured
}

func check(ok bool) verdict {
	if ok {
		return met
	}
	return missed
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tMEASURE\tVALUE\tTARGET\tVERDICT\tNOTE")
	last := ""
	for _, r := range rows {
		sc := r.scenario
		if sc == last {
			sc = ""
		}
		last = r.scenario
		target := r.target
		if target == "" {
			target = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", sc, r.measure, r.value, target, r.verdict, r.note)
	}
	tw.Flush()
}

// percentile of sorted-or-not durations (nearest rank); 0 for none.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func joinNotes(notes ...string) string {
	var out []string
	for _, n := range notes {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}
