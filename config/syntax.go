package config

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are yaml.v3's parser (not scanner) errors: their line
// number is printed counting from 0.
var parserProblems = []string{
	"did not find expected <stream-start>", "did not find expected <document start>",
	"found undefined tag handle", "did not find expected node content",
	"did not find expected '-' indicator", "did not find expected key",
	"did not find expected ',' or ']'", "did not find expected ',' or '}'",
}

// syntaxError locates a yaml.v3 parse error. yaml.v3 counts parser error
// lines from 0 and leaves out the line for problems on line 1, for bad
// characters and for unknown anchors; those are corrected or found here.
func syntaxError(file string, data []byte, err error) *FieldError {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		if slices.Contains(parserProblems, m[2]) {
			line++
		}
		return &FieldError{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 1
	if l := badCharLine(data); l > 0 {
		line = l
	} else if anchor, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		anchor = strings.TrimSuffix(anchor, "' referenced")
		if i := bytes.Index(data, []byte("*"+anchor)); i >= 0 {
			line = 1 + bytes.Count(data[:i], []byte("\n"))
		}
	}
	return &FieldError{File: file, Line: line, Msg: "invalid YAML: " + msg}
}

// badCharLine returns the line of the first byte YAML does not accept
// (invalid UTF-8 or a control character), or 0.
func badCharLine(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		switch {
		case r == '\n':
			line++
		case r == utf8.RuneError && size == 1,
			r < 0x20 && r != '\t' && r != '\r',
			r >= 0x7f && r < 0xa0 && r != 0x85,
			r >= 0xd800 && r < 0xe000, r == 0xfffe, r == 0xffff:
			return line
		}
		data = data[size:]
	}
	return 0
}
