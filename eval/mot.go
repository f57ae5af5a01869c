// Package eval measures hallwatch's analytics against human-annotated ground
// truth (MOTChallenge sequences): crossings of counting lines and unstaffed
// alerts of window zones are derived from the annotated feet points and
// matched one-to-one against what the analyzer reports.
package eval

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/hallwatch/hallwatch/geom"
)

// Box is one MOTChallenge ground-truth line.
type Box struct {
	Frame, ID                int
	Left, Top, Width, Height float64 // pixels
	Conf                     float64 // 0 = ignore
}

// Feet returns the bottom-centre of the box normalised by the image size.
func (b Box) Feet(w, h int) geom.Point {
	return geom.Point{(b.Left + b.Width/2) / float64(w), (b.Top + b.Height) / float64(h)}
}

// ParseMOT reads gt.txt lines "frame, id, left, top, width, height, conf, x,
// y, z". name is used in errors, which give the line number.
func ParseMOT(name string, r io.Reader) ([]Box, error) {
	var boxes []Box
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) < 7 {
			return nil, fmt.Errorf("%s:%d: %d fields, want at least 7 (frame,id,left,top,width,height,conf)", name, n, len(f))
		}
		var v [7]float64
		for i := range v {
			x, err := strconv.ParseFloat(strings.TrimSpace(f[i]), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("%s:%d: field %d %q is not a number", name, n, i+1, f[i])
			}
			v[i] = x
		}
		b := Box{Frame: int(v[0]), ID: int(v[1]), Left: v[2], Top: v[3], Width: v[4], Height: v[5], Conf: v[6]}
		if float64(b.Frame) != v[0] || b.Frame < 1 || float64(b.ID) != v[1] {
			return nil, fmt.Errorf("%s:%d: frame %v and id %v must be integers, frame ≥ 1", name, n, v[0], v[1])
		}
		if b.Width <= 0 || b.Height <= 0 {
			return nil, fmt.Errorf("%s:%d: box %vx%v has no area", name, n, b.Width, b.Height)
		}
		boxes = append(boxes, b)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return boxes, nil
}

// Sequence is one annotated clip of the test data folder.
type Sequence struct {
	Name          string
	Video         string // path of the .mp4
	Width, Height int
	Frames        int
	Boxes         []Box
}

// LoadSequence reads dir/gt.txt and dir/seqinfo.ini and finds dir/<dir name>.mp4.
func LoadSequence(dir string) (*Sequence, error) {
	s := &Sequence{Name: filepath.Base(dir), Video: filepath.Join(dir, filepath.Base(dir)+".mp4")}
	if _, err := os.Stat(s.Video); err != nil {
		return nil, fmt.Errorf("sequence %s: %w", dir, err)
	}
	info, err := os.ReadFile(filepath.Join(dir, "seqinfo.ini"))
	if err != nil {
		return nil, fmt.Errorf("sequence %s: %w", dir, err)
	}
	for _, line := range strings.Split(string(info), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		switch strings.TrimSpace(k) {
		case "imWidth":
			s.Width = n
		case "imHeight":
			s.Height = n
		case "seqLength":
			s.Frames = n
		}
	}
	if s.Width <= 0 || s.Height <= 0 || s.Frames <= 0 {
		return nil, fmt.Errorf("sequence %s: seqinfo.ini lacks imWidth, imHeight or seqLength", dir)
	}
	gtPath := filepath.Join(dir, "gt.txt")
	f, err := os.Open(gtPath)
	if err != nil {
		return nil, fmt.Errorf("sequence %s: %w", dir, err)
	}
	defer f.Close()
	if s.Boxes, err = ParseMOT(gtPath, f); err != nil {
		return nil, err
	}
	return s, nil
}

// FeetPoint is a person's normalised position in one frame.
type FeetPoint struct {
	Frame int
	P     geom.Point
}

// Trajectories returns each annotated id's feet points in frame order,
// leaving out boxes marked conf 0 (ignore).
func Trajectories(boxes []Box, w, h int) map[int][]FeetPoint {
	tr := map[int][]FeetPoint{}
	for _, b := range boxes {
		if b.Conf == 0 {
			continue
		}
		tr[b.ID] = append(tr[b.ID], FeetPoint{b.Frame, b.Feet(w, h)})
	}
	for _, pts := range tr {
		sort.Slice(pts, func(i, j int) bool { return pts[i].Frame < pts[j].Frame })
	}
	return tr
}
