package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// nodeBudget bounds the values and keys visited while decoding, alias
// expansions included, so that a "billion laughs" file fails instead of
// eating memory.
const nodeBudget = 1 << 18

func decodeYAML(data []byte, cfg *Config, o *origins) Errors {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		return Errors{syntaxError(o.file, data, err)}
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return Errors{{File: o.file, Line: next.Line, Msg: "a second YAML document; put the whole configuration in one"}}
	} else if !errors.Is(err, io.EOF) {
		return Errors{syntaxError(o.file, data, err)}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil
	}
	root := doc.Content[0]
	o.lines[""] = root.Line
	d := &decoder{o: o, budget: nodeBudget, fields: map[reflect.Type]map[string]int{}}
	d.value(root, reflect.ValueOf(cfg).Elem(), "")
	return d.errs
}

type decoder struct {
	o      *origins
	errs   Errors
	budget int
	// stopped: the budget or the problem limit was reached; nothing more
	// is decoded or reported.
	stopped bool
	fields  map[reflect.Type]map[string]int // YAML key → field index, per struct type
}

func (d *decoder) fail(key, format string, args ...any) {
	d.report(d.o.locate(key, fmt.Sprintf(format, args...)))
}

func (d *decoder) report(e *FieldError) {
	if !d.stopped && !d.errs.add(d.o.file, e) {
		d.stopped = true
	}
}

// spend charges one value or key to the budget and reports whether
// decoding goes on.
func (d *decoder) spend(key string) bool {
	if d.stopped {
		return false
	}
	if d.budget--; d.budget < 0 {
		d.fail(key, "document too large (more than %d values and keys after expanding aliases)", nodeBudget)
		d.stopped = true
		return false
	}
	return true
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, key string) {
	if !d.spend(key) {
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if isNull(n) {
		// An empty value keeps the default; an empty list or section is absent.
		d.o.nulls[key] = true
		if k := v.Kind(); k == reflect.Pointer || k == reflect.Slice {
			v.SetZero()
		}
		return
	}
	if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
		if err := u.UnmarshalYAML(n); err != nil {
			d.fail(key, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), key)
	case reflect.Struct:
		d.mapping(n, v, key)
	case reflect.Slice:
		d.sequence(n, v, key)
	case reflect.Array:
		d.point(n, v, key)
	default:
		d.scalar(n, v, key)
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(key, "want a mapping of keys, got %s", describe(n))
		return
	}
	fields, ok := d.fields[v.Type()]
	if !ok {
		fields = yamlFields(v.Type())
		d.fields[v.Type()] = fields
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content) && d.spend(key); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.report(&FieldError{File: d.o.file, Line: k.Line, Key: key, Msg: "keys must be plain names"})
			continue
		}
		sub := joinKey(key, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.report(&FieldError{File: d.o.file, Line: k.Line, Key: sub, Msg: fmt.Sprintf("duplicate key, first at line %d", first)})
			continue
		}
		seen[k.Value] = k.Line
		d.o.lines[sub] = k.Line
		if k.Tag == "!!merge" {
			d.fail(sub, "merge keys (<<) are not supported; anchors and aliases (&name, *name) are")
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			d.fail(sub, "unknown key%s", suggest(k.Value, fields))
			continue
		}
		d.value(val, v.Field(idx), sub)
	}
}

func (d *decoder) sequence(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(key, "want a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		sub := indexKey(key, i)
		d.o.lines[sub] = item.Line
		d.value(item, s.Index(i), sub)
	}
	v.Set(s)
}

// point reads a Point, the only array type in the schema.
func (d *decoder) point(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.SequenceNode || len(n.Content) != v.Len() {
		d.fail(key, "want a point [x, y], got %s", describe(n))
		return
	}
	for i, item := range n.Content {
		if isNull(item) {
			d.fail(key, "want a point [x, y], got an empty coordinate")
			return
		}
		d.value(item, v.Index(i), indexKey(key, i))
	}
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(key, "want %s, got %s", wantKind(v.Kind()), describe(n))
		return
	}
	if v.Kind() == reflect.String {
		v.SetString(n.Value)
		return
	}
	// Plain decimal numbers, by far the most common, skip yaml.v3's resolver.
	if i, err := strconv.Atoi(n.Value); err == nil && n.Tag == "!!int" {
		switch v.Kind() {
		case reflect.Int:
			v.SetInt(int64(i))
			return
		case reflect.Float64:
			v.SetFloat(float64(i))
			return
		}
	}
	if f, err := strconv.ParseFloat(n.Value, 64); err == nil && n.Tag == "!!float" && v.Kind() == reflect.Float64 {
		v.SetFloat(f)
		return
	}
	var resolved any
	if err := n.Decode(&resolved); err == nil {
		switch x := resolved.(type) {
		case bool:
			if v.Kind() == reflect.Bool {
				v.SetBool(x)
				return
			}
		case int:
			if v.Kind() == reflect.Int {
				v.SetInt(int64(x))
				return
			}
			if v.Kind() == reflect.Float64 {
				v.SetFloat(float64(x))
				return
			}
		case float64:
			if v.Kind() == reflect.Float64 {
				v.SetFloat(x)
				return
			}
		}
	}
	d.fail(key, "want %s, got %s", wantKind(v.Kind()), describe(n))
}

func wantKind(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "true or false"
	case reflect.Int:
		return "an integer"
	case reflect.Float64:
		return "a number"
	}
	return "a string"
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// describe names a node's kind, or quotes a scalar (masked, shortened) for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return fmt.Sprintf("a list of %d", len(n.Content))
	}
	s := n.Value
	if strings.ContainsAny(s, "@:/?") {
		s = RedactWebhook(s)
	}
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:37]) + "..."
	}
	return strconv.Quote(s)
}

// yamlFields maps a struct type's YAML keys to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields[name] = i
		}
	}
	return fields
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if !f.IsExported() || name == "-" {
		return ""
	}
	return name
}

// suggest proposes the known key closest to a misspelt one.
func suggest(name string, fields map[string]int) string {
	best, bestDist := "", 3
	for known := range fields {
		if dist := editDistance(name, known); dist < bestDist || (dist == bestDist && known < best) {
			best, bestDist = known, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
