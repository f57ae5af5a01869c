package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem in the configuration, located by file and line
// (or by the environment variable that set the value) and by key path such as
// districts[0].centers[1].cameras[2].url.
type FieldError struct {
	File string // config file name as given to Load or Parse
	Line int    // 1-based line in File; 0 when not known
	Env  string // HALLWATCH_* variable that set the value, if any
	Key  string // empty for YAML syntax errors
	Msg  string
}

// Error formats the problem as FILE:LINE: KEY: MESSAGE, or
// env VARIABLE: KEY: MESSAGE for a value set from the environment.
func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.Env != "":
		b.WriteString("env " + e.Env)
	case e.Line > 0:
		fmt.Fprintf(&b, "%s:%d", e.File, e.Line)
	default:
		b.WriteString(e.File)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Errors is every problem found while loading, file problems sorted by line
// followed by environment problems.
type Errors []*FieldError

// maxProblems bounds the problems collected: past a hundred, the file is
// more likely the wrong file (or a hostile one) than a hundred mistakes,
// and loading stops.
const maxProblems = 100

// add appends e unless maxProblems are already listed; the one that
// reaches the limit is followed by a note (in file) saying the rest was
// not checked. It reports whether there is room for more.
func (es *Errors) add(file string, e *FieldError) bool {
	if len(*es) >= maxProblems {
		return false
	}
	*es = append(*es, e)
	if len(*es) < maxProblems {
		return true
	}
	*es = append(*es, &FieldError{File: file, Msg: fmt.Sprintf("stopped after %d problems; is this the right file?", maxProblems)})
	return false
}

// Error joins the problems, one a line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// sort orders the problems by line, those without a line (such as the
// note that loading stopped) after them, environment problems last.
func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if (a.Env == "") != (b.Env == "") {
			return a.Env == ""
		}
		if (a.Line == 0) != (b.Line == 0) {
			return a.Line != 0
		}
		return a.Line < b.Line
	})
}

// origins remembers where each key path got its value: a line of the file
// or an environment variable. Validation speaks in key paths; origins turns
// them into located errors.
type origins struct {
	file  string
	lines map[string]int    // key path → line of the key (or list item); "" is the document
	nulls map[string]bool   // key paths written with an empty (null) value
	env   map[string]string // key path → variable that overrode it
}

func newOrigins(file string) *origins {
	return &origins{file: file, lines: map[string]int{}, nulls: map[string]bool{}, env: map[string]string{}}
}

// present reports whether key was given a value in the file or environment.
func (o *origins) present(key string) bool {
	if _, ok := o.env[key]; ok {
		return true
	}
	_, ok := o.lines[key]
	return ok && !o.nulls[key]
}

// line returns the line of key or of its nearest ancestor written in the file.
func (o *origins) line(key string) int {
	for k := key; ; k = parentKey(k) {
		if l, ok := o.lines[k]; ok {
			return l
		}
		if k == "" {
			return 0
		}
	}
}

// locate builds the error for a problem with key: attributed to the
// environment variable that set it, else to the line where it was written.
func (o *origins) locate(key, msg string) *FieldError {
	if name, ok := o.env[key]; ok {
		return &FieldError{Env: name, Key: key, Msg: msg}
	}
	return &FieldError{File: o.file, Line: o.line(key), Key: key, Msg: msg}
}

// parentKey strips the last element from a key path: a.b[2].c → a.b[2] → a.b.
func parentKey(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

func joinKey(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func indexKey(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}
