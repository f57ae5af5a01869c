package record

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
)

// Parameter sets of a 320x240 Constrained Baseline stream (libx264).
var (
	testSPS = mustHex("6742c00dd90141fb011000000300100000030320f142a480")
	testPPS = mustHex("68cb83cb20")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// segmentBytes writes a segment of frames pseudo-pictures (the scanner
// never decodes them) in fragments of gop samples, the first of each a
// key frame.
func segmentBytes(tb testing.TB, frames, gop int) []byte {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "s.mp4")
	seg, err := createSegment(p, &codecs.H264{SPS: testSPS, PPS: testPPS}, time.Unix(0, 0))
	if err != nil {
		tb.Fatal(err)
	}
	var frag []*fmp4.Sample
	for i := range frames {
		key := i%gop == 0
		if key && len(frag) > 0 {
			if err := seg.writeFragment(frag); err != nil {
				tb.Fatal(err)
			}
			frag = nil
		}
		nalu := []byte{0x41, byte(i), 0x9a, 0x55, 0x00, 0x11}
		if key {
			nalu[0] = 0x65
		}
		s := &fmp4.Sample{Duration: 3600}
		if err := s.FillH264(0, [][]byte{nalu}); err != nil {
			tb.Fatal(err)
		}
		frag = append(frag, s)
	}
	if err := seg.writeFragment(frag); err != nil {
		tb.Fatal(err)
	}
	seg.close()
	data, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func TestScanIncrementalAndTorn(t *testing.T) {
	data := segmentBytes(t, 30, 10)
	whole, err := scanSegment(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil || whole.samples != 30 || len(whole.runs) != 3 || whole.valid != int64(len(data)) || whole.duration != 30*3600 {
		t.Fatalf("scan: %d samples in %d runs, valid %d of %d, duration %d: %v", whole.samples, len(whole.runs), whole.valid, len(data), whole.duration, err)
	}
	for cut := 0; cut < len(data); cut += 97 {
		part, err := scanSegment(bytes.NewReader(data[:cut]), int64(cut), nil)
		if part == nil {
			if cut >= int(whole.initSize) {
				t.Fatalf("cut at %d (after the init): no scan: %v", cut, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("cut at %d: %v (a torn tail is not an error)", cut, err)
		}
		if part.valid > int64(cut) {
			t.Fatalf("cut at %d: valid %d beyond the data", cut, part.valid)
		}
		more, err := scanSegment(bytes.NewReader(data), int64(len(data)), part)
		if err != nil || !reflect.DeepEqual(more, whole) {
			t.Fatalf("continuing from a scan of %d bytes differs from one scan: %v", cut, err)
		}
	}
}

// FuzzScanSegment: any file either scans (every sample inside the file,
// valid within it) or fails with an error, never a panic; a continued
// scan of a grown file equals a fresh one.
func FuzzScanSegment(f *testing.F) {
	data := segmentBytes(f, 12, 4)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add(data[:800])
	f.Add([]byte("\x00\x00\x00\x08ftyp"))
	f.Add(append(append([]byte(nil), data...), "\x00\x00\x00\x01moof\xff\xff\xff\xff\xff\xff\xff\xff"...))
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := scanSegment(bytes.NewReader(b), int64(len(b)), nil)
		if sc == nil {
			if err == nil {
				t.Fatal("no scan and no error")
			}
			return
		}
		if sc.valid > int64(len(b)) || sc.valid < sc.initSize {
			t.Fatalf("valid %d outside %d..%d", sc.valid, sc.initSize, len(b))
		}
		n := 0
		for _, rn := range sc.runs {
			if rn.data < 0 || rn.data+rn.bytes() > sc.valid {
				t.Fatalf("run at %d+%d outside the valid %d bytes", rn.data, rn.bytes(), sc.valid)
			}
			n += len(rn.samples)
		}
		if n != sc.samples {
			t.Fatalf("%d samples counted, %d in runs", sc.samples, n)
		}
		if err == nil && len(b) > 0 {
			half, herr := scanSegment(bytes.NewReader(b[:len(b)/2]), int64(len(b)/2), nil)
			if half != nil && herr == nil {
				again, aerr := scanSegment(bytes.NewReader(b), int64(len(b)), half)
				if aerr == nil && !reflect.DeepEqual(again.runs, sc.runs) && len(sc.runs) > 0 {
					t.Fatalf("continued scan differs from a fresh one")
				}
			}
		}
	})
}
