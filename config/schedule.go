package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Schedule is a window's opening hours, read from a YAML list of entries
// such as "mon-fri 09:00-12:00". A break is the gap between two entries.
type Schedule []ScheduleEntry

// ScheduleEntry is one opening interval on some weekdays, in the center's
// local wall-clock time.
type ScheduleEntry struct {
	Days  Weekdays
	Start int // minutes after local midnight
	End   int // minutes after local midnight, up to 1440 (24:00); > Start
}

// Weekdays is a set of days of the week.
type Weekdays uint8

// AllDays is every day of the week ("daily").
const AllDays Weekdays = 1<<7 - 1

// Has reports whether d is in the set.
func (w Weekdays) Has(d time.Weekday) bool { return w&(1<<d) != 0 }

// dayNames are the accepted day names in week order, Monday first.
var dayNames = [7]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

func weekdayOf(i int) time.Weekday { return time.Weekday((i + 1) % 7) }

// String writes the set as it is read: "daily", or day names and ranges of
// consecutive days, Monday first ("mon-fri", "mon,wed,fri", "sat-sun").
func (w Weekdays) String() string {
	if w == AllDays {
		return "daily"
	}
	var parts []string
	for i := 0; i < len(dayNames); i++ {
		if !w.Has(weekdayOf(i)) {
			continue
		}
		j := i
		for j+1 < len(dayNames) && w.Has(weekdayOf(j+1)) {
			j++
		}
		if j > i {
			parts = append(parts, dayNames[i]+"-"+dayNames[j])
		} else {
			parts = append(parts, dayNames[i])
		}
		i = j
	}
	return strings.Join(parts, ",")
}

// String writes the entry in the form it is read, e.g. "mon,tue 09:00-12:00".
func (e ScheduleEntry) String() string {
	return fmt.Sprintf("%s %s-%s", e.Days, clock(e.Start), clock(e.End))
}

func clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// UnmarshalYAML reads one entry from a string.
func (e *ScheduleEntry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want an entry such as \"mon-fri 09:00-12:00\"")
	}
	v, err := parseScheduleEntry(n.Value)
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// parseScheduleEntry reads "DAYS HH:MM-HH:MM", DAYS being daily or a comma
// list of days and day ranges: mon-fri, sat, mon,wed,fri, mon-wed,sat.
func parseScheduleEntry(s string) (ScheduleEntry, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("invalid schedule entry %q: %s", s, fmt.Sprintf(format, args...))
	}
	fields := strings.Fields(s)
	if _, err := parseDays(strings.ToLower(s)); len(fields) == 1 && err == nil {
		// YAML split "[mon,wed 09:00-12:00]" at the comma.
		return ScheduleEntry{}, bad(`want "DAYS HH:MM-HH:MM"; in a [...] list quote entries that hold commas: ["mon,wed 09:00-12:00"]`)
	}
	if len(fields) != 2 {
		return ScheduleEntry{}, bad(`want "DAYS HH:MM-HH:MM" such as "mon-fri 09:00-12:00"`)
	}
	days, err := parseDays(strings.ToLower(fields[0]))
	if err != nil {
		return ScheduleEntry{}, bad("%v", err)
	}
	from, to, ok := strings.Cut(fields[1], "-")
	if !ok {
		return ScheduleEntry{}, bad("want hours as HH:MM-HH:MM, got %q", fields[1])
	}
	start, ok := parseClock(from)
	if !ok || start == 24*60 {
		return ScheduleEntry{}, bad("invalid start time %q, want HH:MM from 00:00 to 23:59", from)
	}
	end, ok := parseClock(to)
	if !ok {
		return ScheduleEntry{}, bad("invalid end time %q, want HH:MM from 00:01 to 24:00", to)
	}
	if start >= end {
		return ScheduleEntry{}, bad("start %s is not before end %s", from, to)
	}
	return ScheduleEntry{Days: days, Start: start, End: end}, nil
}

func parseDays(s string) (Weekdays, error) {
	if s == "daily" {
		return AllDays, nil
	}
	var w Weekdays
	for part := range strings.SplitSeq(s, ",") {
		first, last, isRange := strings.Cut(part, "-")
		i, ok := dayIndex(first)
		if !ok {
			return 0, fmt.Errorf("unknown day %q, want mon, tue, wed, thu, fri, sat, sun or daily", first)
		}
		j := i
		if isRange {
			if j, ok = dayIndex(last); !ok {
				return 0, fmt.Errorf("unknown day %q, want mon, tue, wed, thu, fri, sat, sun or daily", last)
			}
			if j < i {
				return 0, fmt.Errorf("day range %q runs backwards; the week runs mon to sun", part)
			}
		}
		for k := i; k <= j; k++ {
			w |= 1 << weekdayOf(k)
		}
	}
	return w, nil
}

func dayIndex(name string) (int, bool) {
	for i, n := range dayNames {
		if n == name {
			return i, true
		}
	}
	return 0, false
}

// parseClock reads HH:MM (24:00 allowed) as minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

// overlaps returns the first weekday on which a and b are both open at the
// same moment; touching intervals (12:00 end, 12:00 start) do not overlap.
func overlaps(a, b ScheduleEntry) (time.Weekday, bool) {
	if a.Start >= b.End || b.Start >= a.End {
		return 0, false
	}
	for i := range dayNames {
		if d := weekdayOf(i); a.Days.Has(d) && b.Days.Has(d) {
			return d, true
		}
	}
	return 0, false
}

func dayName(d time.Weekday) string { return dayNames[(int(d)+6)%7] }

// OpenAt reports whether the window is open at t: on a day that is no
// holiday of the window or its center, inside a schedule entry read in the
// center's time zone. An empty schedule means always open (except holidays).
func (w *Window) OpenAt(t time.Time, c *Center) bool {
	local := t.In(c.Location())
	if w.holiday(local, c) {
		return false
	}
	if len(w.Schedule) == 0 {
		return true
	}
	sec := local.Hour()*3600 + local.Minute()*60 + local.Second()
	for _, e := range w.Schedule {
		if e.Days.Has(local.Weekday()) && e.Start*60 <= sec && sec < e.End*60 {
			return true
		}
	}
	return false
}

// OpenIntervals returns the window's opening intervals, in time order, on
// the center's local calendar day that contains day; touching entries are
// merged. Holidays give none; an empty schedule gives the whole day.
func (w *Window) OpenIntervals(day time.Time, c *Center) [][2]time.Time {
	loc := c.Location()
	local := day.In(loc)
	if w.holiday(local, c) {
		return nil
	}
	y, m, d := local.Date()
	at := func(min int) time.Time { return time.Date(y, m, d, 0, min, 0, 0, loc) }
	if len(w.Schedule) == 0 {
		return [][2]time.Time{{at(0), at(24 * 60)}}
	}
	var spans [][2]int
	for _, e := range w.Schedule {
		if e.Days.Has(local.Weekday()) {
			spans = append(spans, [2]int{e.Start, e.End})
		}
	}
	slices.SortFunc(spans, func(a, b [2]int) int { return a[0] - b[0] })
	var out [][2]time.Time
	for i := 0; i < len(spans); {
		start, end := spans[i][0], spans[i][1]
		for i++; i < len(spans) && spans[i][0] <= end; i++ {
			end = max(end, spans[i][1])
		}
		out = append(out, [2]time.Time{at(start), at(end)})
	}
	return out
}

// holiday reports whether local's calendar date is a holiday of the window or center.
func (w *Window) holiday(local time.Time, c *Center) bool {
	date := local.Format(time.DateOnly)
	var centerDays []string
	if c != nil {
		centerDays = c.Holidays
	}
	for _, list := range [][]string{w.Holidays, centerDays} {
		for _, h := range list {
			if h == date {
				return true
			}
		}
	}
	return false
}

// MarshalYAML writes the entry the way it is read.
func (e ScheduleEntry) MarshalYAML() (any, error) { return e.String(), nil }
