package record

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// timescale of recorded video tracks: RTP's 90 kHz video clock.
const timescale = 90000

// videoTrack is the track ID of the video in every segment.
const videoTrack = 1

// segmentFile is one fragmented MP4 file being written: the init first,
// then one fragment (moof + mdat) per flush. Each fragment goes to the
// file in one write, so a crash leaves complete fragments and at most one
// torn one at the end (which recovery cuts off).
type segmentFile struct {
	f     *os.File
	path  string // absolute
	size  int64  // bytes written and kept
	seq   uint32 // fragment sequence number
	start time.Time
	dur   uint64 // decode time written so far (timescale)
	buf   seekablebuffer.Buffer
}

// createSegment makes the file at path (and its directory) and writes
// the init for codec.
func createSegment(path string, codec codecs.Codec, start time.Time) (*segmentFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	s := &segmentFile{f: f, path: path, start: start}
	init := fmp4.Init{Tracks: []*fmp4.InitTrack{{ID: videoTrack, TimeScale: timescale, Codec: codec}}}
	if err := init.Marshal(&s.buf); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("init: %w", err)
	}
	if err := s.write(); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return s, nil
}

// writeFragment appends the samples as one fragment. On failure the file
// is cut back to its last complete fragment.
func (s *segmentFile) writeFragment(samples []*fmp4.Sample) error {
	if len(samples) == 0 {
		return nil
	}
	s.seq++
	part := fmp4.Part{SequenceNumber: s.seq, Tracks: []*fmp4.PartTrack{{ID: videoTrack, BaseTime: s.dur, Samples: samples}}}
	if err := part.Marshal(&s.buf); err != nil {
		return fmt.Errorf("fragment: %w", err)
	}
	if err := s.write(); err != nil {
		return err
	}
	for _, sm := range samples {
		s.dur += uint64(sm.Duration)
	}
	return nil
}

// write appends buf to the file in one call and empties buf.
func (s *segmentFile) write() error {
	defer s.buf.Reset()
	n, err := s.f.Write(s.buf.Bytes())
	if err == nil {
		s.size += int64(n)
		return nil
	}
	if n > 0 {
		// A partial write (disk full): cut it off so the file stays whole.
		err = errors.Join(err, s.f.Truncate(s.size))
		if _, serr := s.f.Seek(s.size, 0); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	return err
}

// end is the wall time after the last sample written.
func (s *segmentFile) end() time.Time {
	return s.start.Add(ticksToDuration(s.dur))
}

func (s *segmentFile) close() error { return s.f.Close() }

func ticksToDuration(t uint64) time.Duration {
	return time.Duration(t/timescale)*time.Second + time.Duration(t%timescale)*time.Second/timescale
}

func durationToTicks(d time.Duration) int64 {
	return int64(d/time.Second)*timescale + int64(d%time.Second)*timescale/int64(time.Second)
}
