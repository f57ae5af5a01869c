package record

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"
)

// Limits of one progressive MP4: its 32-bit chunk offsets and mdat size
// cap the bytes; the sample count bounds the header built in memory.
const (
	maxVideoBytes   = 3 << 30
	maxVideoSamples = 400_000
)

// ErrNoVideo: nothing was recorded in the requested span.
var ErrNoVideo = errors.New("no recorded video in this span")

// Video is a progressive MP4 of recorded samples: a header (ftyp, moov
// with every sample's size and time, mdat's header) built in memory, and
// the sample bytes read where they lie in the segment files. Safe for
// concurrent reads.
type Video struct {
	Camera string
	// Start is the wall time of the first sample (a key frame), End the
	// time after the last one.
	Start, End time.Time
	// Truncated: the span was cut short (size limits, a change of the
	// camera's stream parameters).
	Truncated bool
	header    []byte
	parts     []part
	size      int64
}

// part is a run of bytes of the video that lies in one file.
type part struct {
	at   int64 // offset in the video
	path string
	off  int64 // offset in the file
	n    int64
}

// Size is the length of the MP4 in bytes.
func (v *Video) Size() int64 { return v.size }

// Duration is the video's length.
func (v *Video) Duration() time.Duration { return v.End.Sub(v.Start) }

// WriteRange writes bytes [off, off+n) of the MP4 to w.
func (v *Video) WriteRange(w io.Writer, off, n int64) error {
	r, err := v.Reader(off, n)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

// fileVideo is a video that is one MP4 file (a clip).
func fileVideo(camera, path string, start, end time.Time) (*Video, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return &Video{Camera: camera, Start: start, End: end, size: fi.Size(),
		parts: []part{{at: 0, path: path, off: 0, n: fi.Size()}}}, nil
}

// builder gathers samples from segments into a Video.
type builder struct {
	camera    string
	codec     codecs.Codec
	scale     uint32
	samples   []*pmp4.Sample
	parts     []part
	bytes     int64
	start     time.Time
	end       time.Time
	truncated bool
	full      bool // a limit was reached: add nothing more
}

// piece is one scanned segment file and where it starts in wall time.
type piece struct {
	path  string
	start time.Time
	scan  *scanned
}

// add takes the samples of p presented in [from, to), starting at the key
// frame at or before from (or the first one after it, if the segment
// begins later). It reports whether the builder can take more.
func (b *builder) add(p piece, from, to time.Time) bool {
	if b.full {
		return false
	}
	if b.codec == nil {
		b.codec, b.scale = p.scan.codec, p.scan.timescale
	} else if !sameCodec(b.codec, p.scan.codec) || b.scale != p.scan.timescale {
		b.truncated, b.full = true, true
		return false
	}
	type ref struct {
		r, i int
		at   time.Time
	}
	// The first sample to take: the last key frame at or before from.
	first := ref{r: -1}
	for ri := range p.scan.runs {
		rn := &p.scan.runs[ri]
		t := rn.base
		for si, s := range rn.samples {
			at := p.start.Add(ticksToDuration(t * timescale / uint64(p.scan.timescale)))
			if at.After(from) && first.r >= 0 {
				break
			}
			if s.sync && (!at.After(from) || first.r < 0) {
				first = ref{ri, si, at}
			}
			t += uint64(s.dur)
		}
	}
	if first.r < 0 || !first.at.Before(to) {
		return true
	}
	for ri := first.r; ri < len(p.scan.runs); ri++ {
		rn := &p.scan.runs[ri]
		si0 := 0
		if ri == first.r {
			si0 = first.i
		}
		t := rn.base
		data := rn.data
		for si, s := range rn.samples {
			if si < si0 {
				t += uint64(s.dur)
				data += int64(s.size)
				continue
			}
			at := p.start.Add(ticksToDuration(t * timescale / uint64(p.scan.timescale)))
			if !at.Before(to) {
				return true
			}
			if b.bytes+int64(s.size) > maxVideoBytes || len(b.samples) >= maxVideoSamples {
				b.truncated, b.full = true, true
				return false
			}
			if len(b.samples) == 0 {
				b.start = at
			}
			b.samples = append(b.samples, &pmp4.Sample{Duration: s.dur, PTSOffset: s.cto, IsNonSyncSample: !s.sync,
				PayloadSize: s.size, GetPayload: noPayload})
			b.addBytes(p.path, data, int64(s.size))
			b.end = at.Add(ticksToDuration(uint64(s.dur) * timescale / uint64(p.scan.timescale)))
			t += uint64(s.dur)
			data += int64(s.size)
		}
	}
	return true
}

func noPayload() ([]byte, error) { return nil, nil }

// addBytes appends a sample's bytes, merging it with the previous part
// when it follows it in the same file.
func (b *builder) addBytes(path string, off, n int64) {
	if k := len(b.parts); k > 0 {
		last := &b.parts[k-1]
		if last.path == path && last.off+last.n == off {
			last.n += n
			b.bytes += n
			return
		}
	}
	b.parts = append(b.parts, part{at: b.bytes, path: path, off: off, n: n})
	b.bytes += n
}

// video builds the MP4 header and places the parts after it.
func (b *builder) video() (*Video, error) {
	if len(b.samples) == 0 {
		return nil, ErrNoVideo
	}
	track := &pmp4.Track{ID: videoTrack, TimeScale: b.scale, Codec: b.codec, Samples: b.samples}
	// Start the presentation at the first picture, not at its decode time
	// (B-frames delay presentation).
	track.TimeOffset = -b.samples[0].PTSOffset
	var buf bytes.Buffer
	if err := (pmp4.Presentation{Tracks: []*pmp4.Track{track}}).Marshal(&buf); err != nil {
		return nil, fmt.Errorf("mp4 header: %w", err)
	}
	v := &Video{Camera: b.camera, Start: b.start, End: b.end, Truncated: b.truncated, header: buf.Bytes(), parts: b.parts}
	hl := int64(len(v.header))
	for i := range v.parts {
		v.parts[i].at += hl
	}
	v.size = hl + b.bytes
	return v, nil
}

// sameCodec compares two codecs' parameter sets.
func sameCodec(a, b codecs.Codec) bool {
	switch x := a.(type) {
	case *codecs.H264:
		y, ok := b.(*codecs.H264)
		return ok && bytes.Equal(x.SPS, y.SPS) && bytes.Equal(x.PPS, y.PPS)
	case *codecs.H265:
		y, ok := b.(*codecs.H265)
		return ok && bytes.Equal(x.VPS, y.VPS) && bytes.Equal(x.SPS, y.SPS) && bytes.Equal(x.PPS, y.PPS)
	}
	return false
}

// Reader reads bytes [off, off+n) of the MP4 in order, keeping the file it
// is in open; Close releases it.
func (v *Video) Reader(off, n int64) (io.ReadCloser, error) {
	if off < 0 || n < 0 || off+n > v.size {
		return nil, fmt.Errorf("range %d+%d outside the video's %d bytes", off, n, v.size)
	}
	return &videoReader{v: v, off: off, end: off + n}, nil
}

type videoReader struct {
	v        *Video
	off, end int64
	f        *os.File
}

func (r *videoReader) Read(p []byte) (int, error) {
	if r.off >= r.end {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.end-r.off)]
	if hl := int64(len(r.v.header)); r.off < hl {
		n := copy(p, r.v.header[r.off:])
		r.off += int64(n)
		return n, nil
	}
	i := sort.Search(len(r.v.parts), func(i int) bool { return r.v.parts[i].at+r.v.parts[i].n > r.off })
	if i == len(r.v.parts) {
		return 0, io.ErrUnexpectedEOF
	}
	pt := r.v.parts[i]
	if r.f == nil || r.f.Name() != pt.path {
		if r.f != nil {
			r.f.Close()
		}
		var err error
		if r.f, err = os.Open(pt.path); err != nil {
			r.f = nil
			return 0, fmt.Errorf("recording gone while playing: %w", err)
		}
	}
	skip := r.off - pt.at
	p = p[:min(int64(len(p)), pt.n-skip)]
	n, err := r.f.ReadAt(p, pt.off+skip)
	r.off += int64(n)
	if errors.Is(err, io.EOF) && n == len(p) {
		err = nil
	}
	if err == nil && n < len(p) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (r *videoReader) Close() error {
	if r.f != nil {
		return r.f.Close()
	}
	return nil
}
