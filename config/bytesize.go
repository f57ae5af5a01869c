package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ByteSize is an amount of storage written with a unit: "200GiB", "500MB",
// "1.5TiB". Binary units (KiB, MiB, GiB, TiB) count in 1024s, decimal ones
// (KB, MB, GB, TB) in 1000s, as disks are sold.
type ByteSize int64

// byteUnits, longest suffix first so "GiB" is not read as "B".
var byteUnits = []struct {
	suffix string
	size   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// parseByteSize reads a size with a unit; bare numbers are refused, whose
// unit would be a guess.
func parseByteSize(s string) (ByteSize, error) {
	invalid := fmt.Errorf("invalid size %q: want a number with a unit such as \"500MiB\", \"200GiB\" or \"2TB\"", s)
	t := strings.TrimSpace(s)
	for _, u := range byteUnits {
		num, ok := strings.CutSuffix(t, u.suffix)
		if !ok {
			continue
		}
		num = strings.TrimSpace(num)
		v, err := strconv.ParseFloat(num, 64)
		if err != nil || num == "" || strings.ContainsAny(num, "eExXpPnN_") {
			return 0, invalid
		}
		switch b := v * u.size; {
		case b < 0:
			return 0, fmt.Errorf("invalid size %q: must not be negative", s)
		case b >= math.MaxInt64:
			return 0, fmt.Errorf("invalid size %q: too large", s)
		default:
			return ByteSize(b), nil
		}
	}
	if _, err := strconv.ParseFloat(t, 64); err == nil {
		return 0, fmt.Errorf("invalid size %q: add a unit, e.g. \"%sGiB\"", s, t)
	}
	return 0, invalid
}

// String writes the size in the largest binary unit that divides it.
func (b ByteSize) String() string {
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if b != 0 && int64(b)%u.size == 0 {
			return strconv.FormatInt(int64(b)/u.size, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10) + "B"
}

// UnmarshalYAML reads a size scalar.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("want a size such as \"500MiB\", \"200GiB\" or \"2TB\"")
	}
	v, err := parseByteSize(n.Value)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalYAML writes the size the way it is read.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }
