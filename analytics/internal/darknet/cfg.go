// Package darknet checks a Darknet model (cfg + weights) before OpenCV loads
// it: OpenCV aborts the process on a malformed cfg and silently accepts a
// truncated weights file, so both are validated here first.
package darknet

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Section is one [name] block of a cfg file with its key=value options.
type Section struct {
	Name    string
	Line    int // 1-based line of the header
	Options map[string]string
}

// ParseCfg splits a Darknet cfg into sections. name is used in errors.
func ParseCfg(name string, data []byte) ([]Section, error) {
	var secs []Section
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("%s:%d: malformed section header %q", name, n, line)
			}
			secs = append(secs, Section{Name: line[1 : len(line)-1], Line: n, Options: map[string]string{}})
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected key=value, got %q", name, n, line)
		}
		if len(secs) == 0 {
			return nil, fmt.Errorf("%s:%d: option %q before the first [section]", name, n, line)
		}
		secs[len(secs)-1].Options[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(secs) == 0 || (secs[0].Name != "net" && secs[0].Name != "network") {
		return nil, fmt.Errorf("%s: not a Darknet cfg: it must start with a [net] section", name)
	}
	return secs, nil
}

func (s Section) int(key string, def int) (int, error) {
	v, ok := s.Options[key]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("line %d [%s]: %s=%q is not an integer", s.Line, s.Name, key, v)
	}
	return n, nil
}

// WeightCount returns the number of float32 parameters the layers of a
// parsed cfg read from the weights file, and the number of [yolo]/[region]
// output layers. known is false when a layer type is not understood, in
// which case the count cannot be trusted.
func WeightCount(secs []Section) (count int64, outputs int, known bool, err error) {
	channels, err := secs[0].int("channels", 3)
	if err != nil {
		return 0, 0, false, err
	}
	var out []int // output channels per layer (after [net])
	for i, s := range secs[1:] {
		c := channels
		if len(out) > 0 {
			c = out[len(out)-1]
		}
		switch s.Name {
		case "convolutional", "conv":
			filters, err := s.int("filters", 1)
			if err != nil {
				return 0, 0, false, err
			}
			size, err := s.int("size", 1)
			if err != nil {
				return 0, 0, false, err
			}
			groups, err := s.int("groups", 1)
			if err != nil {
				return 0, 0, false, err
			}
			bn, err := s.int("batch_normalize", 0)
			if err != nil {
				return 0, 0, false, err
			}
			if filters <= 0 || size <= 0 || groups <= 0 || c%groups != 0 {
				return 0, 0, false, fmt.Errorf("line %d [%s]: invalid filters=%d size=%d groups=%d for %d input channels", s.Line, s.Name, filters, size, groups, c)
			}
			n := int64(filters) + int64(filters)*int64(c/groups)*int64(size)*int64(size)
			if bn != 0 {
				n += 3 * int64(filters)
			}
			count += n
			c = filters
		case "route":
			c = 0
			for _, f := range strings.Split(s.Options["layers"], ",") {
				idx, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil {
					return 0, 0, false, fmt.Errorf("line %d [route]: layers=%q is not a list of integers", s.Line, s.Options["layers"])
				}
				if idx < 0 {
					idx += i
				}
				if idx < 0 || idx >= i {
					return 0, 0, false, fmt.Errorf("line %d [route]: layer %d out of range", s.Line, idx)
				}
				c += out[idx]
			}
			groups, err := s.int("groups", 1)
			if err != nil {
				return 0, 0, false, err
			}
			if groups > 1 {
				c /= groups
			}
		case "yolo", "region":
			outputs++
		case "shortcut", "dropout", "upsample", "maxpool", "avgpool", "softmax":
		default:
			return count, outputs, false, nil
		}
		if c <= 0 {
			return 0, 0, false, fmt.Errorf("line %d [%s]: layer has no input channels", s.Line, s.Name)
		}
		out = append(out, c)
	}
	return count, outputs, true, nil
}

// headerBytes returns the size of a weights file header: major, minor,
// revision as int32, then the images-seen counter as int64 from version 0.2 on.
func headerBytes(head []byte) (int64, error) {
	if len(head) < 12 {
		return 0, fmt.Errorf("too short for a Darknet weights header (%d bytes)", len(head))
	}
	le := func(b []byte) int32 { return int32(b[0]) | int32(b[1])<<8 | int32(b[2])<<16 | int32(b[3])<<24 }
	major, minor := le(head[0:4]), le(head[4:8])
	if major < 0 || minor < 0 || major > 1000 || minor > 1000 {
		return 0, fmt.Errorf("bad Darknet weights header (version %d.%d)", major, minor)
	}
	if major*10+minor >= 2 {
		return 20, nil
	}
	return 16, nil
}
