package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// Bounds on what a segment file may make a scan hold, whatever is in it.
const (
	maxInitBytes      = 1 << 20
	maxMoofBytes      = 4 << 20
	maxRunSamples     = 100_000
	maxSegmentSamples = 2_000_000
)

// errTruncated: the file ends inside a box (a fragment being written, or
// torn by a crash); everything before it is valid.
var errTruncated = errors.New("truncated")

// scanned is what a segment file holds: its codec and, per fragment run,
// where the samples are and how long each lasts. The bytes of a sample are
// exactly what the MP4 sample is (length-prefixed NAL units), so a
// progressive MP4 can point at them unchanged.
type scanned struct {
	codec     codecs.Codec
	timescale uint32
	track     int   // track ID of the video
	initSize  int64 // ftyp + moov
	runs      []run
	samples   int
	// valid is the end of the last complete fragment: a file longer than
	// this ends in a torn fragment.
	valid int64
	// duration is the total of the sample durations (track timescale).
	duration uint64
}

// run is the samples of one trun: contiguous in the file from data.
type run struct {
	base    uint64 // decode time of the first sample (track timescale)
	data    int64  // file offset of the first sample
	samples []sampleInfo
}

type sampleInfo struct {
	size uint32
	dur  uint32
	cto  int32 // presentation - decode time
	sync bool
}

// bytes is the run's payload size.
func (r *run) bytes() int64 {
	var n int64
	for _, s := range r.samples {
		n += int64(s.size)
	}
	return n
}

// scanSegment reads a fragmented MP4 segment of size bytes: the init
// (ftyp, moov) and every complete fragment. A torn tail is not an error:
// valid says where it starts. prev, when not nil, is an earlier scan of
// the same, then shorter, file: only what was appended since is read.
func scanSegment(r io.ReaderAt, size int64, prev *scanned) (*scanned, error) {
	var sc *scanned
	if prev != nil && prev.valid <= size {
		cp := *prev
		cp.runs = append([]run(nil), prev.runs...)
		sc = &cp
	} else {
		var err error
		if sc, err = scanInit(r, size); err != nil {
			return nil, err
		}
	}
	off := sc.valid
	hdr := make([]byte, 16)
	for off < size {
		h, err := readHeader(r, off, size, hdr)
		if errors.Is(err, errTruncated) {
			break
		} else if err != nil {
			return sc, fmt.Errorf("at byte %d: %w", off, err)
		}
		switch h.typ {
		case "moof":
			next, err := sc.fragment(r, off, h, size)
			if errors.Is(err, errTruncated) {
				return sc, nil
			} else if err != nil {
				return sc, fmt.Errorf("fragment at byte %d: %w", off, err)
			}
			off = next
		case "mdat":
			return sc, fmt.Errorf("at byte %d: mdat without moof", off)
		default: // free, skip, sidx, mfra…: not ours to read
			if off+h.size > size {
				return sc, nil
			}
			off += h.size
		}
		sc.valid = off
	}
	return sc, nil
}

// scanInit reads ftyp and moov.
func scanInit(r io.ReaderAt, size int64) (*scanned, error) {
	hdr := make([]byte, 16)
	ftyp, err := readHeader(r, 0, size, hdr)
	if err != nil {
		return nil, fmt.Errorf("file type box: %w", err)
	}
	if ftyp.typ != "ftyp" {
		return nil, fmt.Errorf("not an MP4 segment: starts with %q, want ftyp", ftyp.typ)
	}
	moov, err := readHeader(r, ftyp.size, size, hdr)
	if err != nil {
		return nil, fmt.Errorf("movie box: %w", err)
	}
	if moov.typ != "moov" {
		return nil, fmt.Errorf("box %q after ftyp, want moov", moov.typ)
	}
	end := ftyp.size + moov.size
	if end > maxInitBytes {
		return nil, fmt.Errorf("init is %d bytes, limit %d", end, maxInitBytes)
	}
	if end > size {
		return nil, fmt.Errorf("movie box: %w", errTruncated)
	}
	buf := make([]byte, end)
	if _, err := r.ReadAt(buf, 0); err != nil {
		return nil, err
	}
	var init fmp4.Init
	if err := init.Unmarshal(bytes.NewReader(buf)); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	for _, tr := range init.Tracks {
		switch tr.Codec.(type) {
		case *codecs.H264, *codecs.H265:
			if tr.TimeScale == 0 {
				return nil, errors.New("video track with time scale 0")
			}
			return &scanned{codec: tr.Codec, timescale: tr.TimeScale, track: tr.ID, initSize: end, valid: end}, nil
		}
	}
	return nil, errors.New("no H.264 or H.265 track")
}

// boxHeader is a box's type and extent.
type boxHeader struct {
	typ  string
	size int64 // whole box, header included
	hdr  int64 // header length: 8, or 16 with a 64-bit size
}

// readHeader reads the header of the box at off in a file of size bytes.
func readHeader(r io.ReaderAt, off, size int64, buf []byte) (boxHeader, error) {
	if size-off < 8 {
		return boxHeader{}, errTruncated
	}
	n := min(int64(16), size-off)
	if _, err := r.ReadAt(buf[:n], off); err != nil {
		return boxHeader{}, err
	}
	h, err := parseHeader(buf[:n])
	if err != nil {
		return h, err
	}
	if h.size == 0 { // "to the end of the file"
		h.size = size - off
	}
	return h, nil
}

// parseHeader decodes a box header from the start of b.
func parseHeader(b []byte) (boxHeader, error) {
	if len(b) < 8 {
		return boxHeader{}, errTruncated
	}
	h := boxHeader{typ: string(b[4:8]), size: int64(binary.BigEndian.Uint32(b)), hdr: 8}
	switch {
	case h.size == 1:
		if len(b) < 16 {
			return h, errTruncated
		}
		v := binary.BigEndian.Uint64(b[8:16])
		if v > 1<<62 {
			return h, fmt.Errorf("box %q: size %d out of range", h.typ, v)
		}
		h.size, h.hdr = int64(v), 16
		if h.size < 16 {
			return h, fmt.Errorf("box %q: size %d smaller than its header", h.typ, h.size)
		}
	case h.size != 0 && h.size < 8:
		return h, fmt.Errorf("box %q: size %d smaller than its header", h.typ, h.size)
	}
	return h, nil
}

// fragment reads the moof at off and checks that the mdat after it holds
// its samples; it returns the offset after that mdat.
func (sc *scanned) fragment(r io.ReaderAt, off int64, moof boxHeader, size int64) (int64, error) {
	if moof.size > maxMoofBytes {
		return 0, fmt.Errorf("moof is %d bytes, limit %d", moof.size, maxMoofBytes)
	}
	mdatOff := off + moof.size
	if mdatOff+8 > size {
		return 0, errTruncated
	}
	buf := make([]byte, moof.size+16)
	n, err := r.ReadAt(buf[:min(int64(len(buf)), size-off)], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	mdat, err := parseHeader(buf[moof.size:n])
	if err != nil {
		return 0, err
	}
	if mdat.typ != "mdat" {
		return 0, fmt.Errorf("box %q after moof, want mdat", mdat.typ)
	}
	if mdat.size == 0 {
		mdat.size = size - mdatOff
	}
	end := mdatOff + mdat.size
	if end > size {
		return 0, errTruncated
	}
	runs, err := parseMoof(buf[moof.hdr:moof.size], off, sc.track)
	if err != nil {
		return 0, err
	}
	dataStart := mdatOff + mdat.hdr
	added := 0
	for _, rn := range runs {
		if rn.data < dataStart || rn.data+rn.bytes() > end {
			return 0, fmt.Errorf("samples at bytes %d..%d lie outside the mdat (%d..%d)", rn.data, rn.data+rn.bytes(), dataStart, end)
		}
		added += len(rn.samples)
	}
	if sc.samples+added > maxSegmentSamples {
		return 0, fmt.Errorf("more than %d samples in one segment", maxSegmentSamples)
	}
	for _, rn := range runs {
		for _, s := range rn.samples {
			sc.duration += uint64(s.dur)
		}
	}
	sc.samples += added
	sc.runs = append(sc.runs, runs...)
	return end, nil
}

// Track fragment flags (ISO/IEC 14496-12 8.8.7, 8.8.8).
const (
	tfhdBaseDataOffset      = 0x000001
	tfhdSampleDescription   = 0x000002
	tfhdDefaultDuration     = 0x000008
	tfhdDefaultSize         = 0x000010
	tfhdDefaultFlags        = 0x000020
	trunDataOffset          = 0x000001
	trunFirstSampleFlags    = 0x000004
	trunSampleDuration      = 0x000100
	trunSampleSize          = 0x000200
	trunSampleFlags         = 0x000400
	trunSampleCompositionTO = 0x000800
	sampleIsNonSync         = 0x00010000
)

// parseMoof reads the runs of track from a moof's payload; moofOff is the
// moof's file offset, the base of data offsets.
func parseMoof(b []byte, moofOff int64, track int) ([]run, error) {
	var runs []run
	err := eachBox(b, func(typ string, body []byte) error {
		if typ != "traf" {
			return nil
		}
		rs, err := parseTraf(body, moofOff, track)
		runs = append(runs, rs...)
		return err
	})
	return runs, err
}

// trackDefaults are a traf's tfhd values.
type trackDefaults struct {
	id            uint32
	base          int64
	dur, sz, flag uint32
}

func parseTraf(b []byte, moofOff int64, track int) ([]run, error) {
	var (
		tf      *trackDefaults
		decode  uint64
		hasTfdt bool
		runs    []run
	)
	err := eachBox(b, func(typ string, body []byte) error {
		switch typ {
		case "tfhd":
			d, err := parseTfhd(body, moofOff)
			tf = &d
			return err
		case "tfdt":
			if len(body) < 4 {
				return errors.New("tfdt too short")
			}
			if body[0] == 1 {
				if len(body) < 12 {
					return errors.New("tfdt too short")
				}
				decode = binary.BigEndian.Uint64(body[4:12])
			} else {
				if len(body) < 8 {
					return errors.New("tfdt too short")
				}
				decode = uint64(binary.BigEndian.Uint32(body[4:8]))
			}
			hasTfdt = true
		case "trun":
			if tf == nil {
				return errors.New("trun before tfhd")
			}
			if tf.id != uint32(track) {
				return nil
			}
			if !hasTfdt {
				return errors.New("trun without tfdt")
			}
			data := tf.base
			if len(runs) > 0 { // a later run without an offset follows the previous one
				last := runs[len(runs)-1]
				data = last.data + last.bytes()
			}
			rn, err := parseTrun(body, data, *tf)
			if err != nil {
				return err
			}
			rn.base = decode
			for _, s := range rn.samples {
				decode += uint64(s.dur)
			}
			runs = append(runs, rn)
		}
		return nil
	})
	return runs, err
}

func parseTfhd(b []byte, moofOff int64) (trackDefaults, error) {
	if len(b) < 8 {
		return trackDefaults{}, errors.New("tfhd too short")
	}
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	d := trackDefaults{id: binary.BigEndian.Uint32(b[4:8]), base: moofOff}
	p := b[8:]
	take := func(n int) ([]byte, error) {
		if len(p) < n {
			return nil, errors.New("tfhd too short for its flags")
		}
		v := p[:n]
		p = p[n:]
		return v, nil
	}
	if flags&tfhdBaseDataOffset != 0 {
		v, err := take(8)
		if err != nil {
			return d, err
		}
		base := binary.BigEndian.Uint64(v)
		if base > 1<<62 {
			return d, fmt.Errorf("base data offset %d out of range", base)
		}
		d.base = int64(base)
	}
	if flags&tfhdSampleDescription != 0 {
		if _, err := take(4); err != nil {
			return d, err
		}
	}
	for _, f := range []struct {
		bit uint32
		dst *uint32
	}{{tfhdDefaultDuration, &d.dur}, {tfhdDefaultSize, &d.sz}, {tfhdDefaultFlags, &d.flag}} {
		if flags&f.bit != 0 {
			v, err := take(4)
			if err != nil {
				return d, err
			}
			*f.dst = binary.BigEndian.Uint32(v)
		}
	}
	return d, nil
}

func parseTrun(b []byte, data int64, tf trackDefaults) (run, error) {
	if len(b) < 8 {
		return run{}, errors.New("trun too short")
	}
	version := b[0]
	flags := binary.BigEndian.Uint32(b) & 0xffffff
	count := binary.BigEndian.Uint32(b[4:8])
	if count > maxRunSamples {
		return run{}, fmt.Errorf("trun of %d samples, limit %d", count, maxRunSamples)
	}
	p := b[8:]
	rn := run{data: data}
	if flags&trunDataOffset != 0 {
		if len(p) < 4 {
			return rn, errors.New("trun too short for its data offset")
		}
		rn.data = tf.base + int64(int32(binary.BigEndian.Uint32(p)))
		p = p[4:]
	}
	first := tf.flag
	firstSet := false
	if flags&trunFirstSampleFlags != 0 {
		if len(p) < 4 {
			return rn, errors.New("trun too short for its first sample flags")
		}
		first, firstSet = binary.BigEndian.Uint32(p), true
		p = p[4:]
	}
	per := 0
	for _, bit := range []uint32{trunSampleDuration, trunSampleSize, trunSampleFlags, trunSampleCompositionTO} {
		if flags&bit != 0 {
			per += 4
		}
	}
	if len(p) < int(count)*per {
		return rn, fmt.Errorf("trun of %d samples has %d bytes for them, needs %d", count, len(p), int(count)*per)
	}
	rn.samples = make([]sampleInfo, count)
	for i := range rn.samples {
		s := sampleInfo{dur: tf.dur, size: tf.sz}
		sflags := tf.flag
		if i == 0 && firstSet {
			sflags = first
		}
		if flags&trunSampleDuration != 0 {
			s.dur, p = binary.BigEndian.Uint32(p), p[4:]
		}
		if flags&trunSampleSize != 0 {
			s.size, p = binary.BigEndian.Uint32(p), p[4:]
		}
		if flags&trunSampleFlags != 0 {
			sflags, p = binary.BigEndian.Uint32(p), p[4:]
		}
		if flags&trunSampleCompositionTO != 0 {
			v := binary.BigEndian.Uint32(p)
			p = p[4:]
			if version == 0 {
				s.cto = int32(min(v, 1<<31-1))
			} else {
				s.cto = int32(v)
			}
		}
		s.sync = sflags&sampleIsNonSync == 0
		rn.samples[i] = s
	}
	return rn, nil
}

// eachBox calls fn with the type and payload of every box in b.
func eachBox(b []byte, fn func(typ string, body []byte) error) error {
	for len(b) > 0 {
		h, err := parseHeader(b)
		if err != nil {
			return err
		}
		if h.size == 0 {
			h.size = int64(len(b))
		}
		if h.size > int64(len(b)) {
			return fmt.Errorf("box %q of %d bytes overruns its parent (%d left)", h.typ, h.size, len(b))
		}
		if err := fn(h.typ, b[h.hdr:h.size]); err != nil {
			return err
		}
		b = b[h.size:]
	}
	return nil
}
