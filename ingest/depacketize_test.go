package ingest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/rtp"
)

// Parameter sets written by x264 (ffmpeg -c:v libx264 -profile:v baseline)
// for the picture sizes in their names.
var (
	sps640x360 = []byte{0x67, 0x42, 0xc0, 0x16, 0xdc, 0x0a, 0x02, 0xff, 0x97, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03, 0x01, 0x40, 0xf1, 0x62, 0xf8}
	sps320x240 = []byte{0x67, 0x42, 0xc0, 0x0b, 0xdc, 0x14, 0x1f, 0xb0, 0x11, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x03, 0x00, 0x14, 0x0f, 0x14, 0x2b, 0x80}
	ppsX264    = []byte{0x68, 0xce, 0x0f, 0x2c, 0x80}
)

// Synthetic slices: only the NAL header matters to the depacketizer.
func idr(size int) []byte   { return fill(0x65, size) }
func delta(size int) []byte { return fill(0x41, size) }

func fill(header byte, size int) []byte {
	b := bytes.Repeat([]byte{0xab}, size)
	b[0] = header
	return b
}

// packetizer is a camera's RTP side: it encodes units with gortsplib's own
// H.264 encoder (single NALU, STAP-A and FU-A packets).
type packetizer struct {
	t   *testing.T
	enc *rtph264.Encoder
	ts  uint32
}

func newPacketizer(t *testing.T) *packetizer {
	enc := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1}
	if err := enc.Init(); err != nil {
		t.Fatal(err)
	}
	return &packetizer{t: t, enc: enc}
}

func (p *packetizer) packets(nalus ...[]byte) []*rtp.Packet {
	pkts, err := p.enc.Encode(nalus)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, pkt := range pkts {
		pkt.Timestamp = p.ts
	}
	p.ts += 9000 // 10 fps at 90 kHz
	return pkts
}

// feed pushes packets and returns the units that came out.
func feed(t *testing.T, d *depacketizer, pkts []*rtp.Packet) []*AccessUnit {
	t.Helper()
	var out []*AccessUnit
	for _, pkt := range pkts {
		au, err := d.push(pkt, time.Duration(pkt.Timestamp)*time.Second/90000, time.Now())
		switch {
		case errors.Is(err, errNeedMore):
		case err != nil:
			t.Fatalf("push: %v", err)
		default:
			out = append(out, au)
		}
	}
	return out
}

func newH264Depacketizer(t *testing.T, sps, pps []byte) *depacketizer {
	t.Helper()
	d, err := newDepacketizer(&format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDepacketizeUsesSDPParameterSets(t *testing.T) {
	d := newH264Depacketizer(t, sps640x360, ppsX264)
	p := newPacketizer(t)

	// Mid-GOP join: deltas before the first key frame are useless.
	if units := feed(t, d, p.packets(delta(300))); len(units) != 0 {
		t.Fatalf("delta before the first key frame came out: %d units", len(units))
	}
	key := idr(5000) // FU-A fragmented
	units := feed(t, d, p.packets(key))
	if len(units) != 1 || !units[0].Key {
		t.Fatalf("key frame: got %d units", len(units))
	}
	want := [][]byte{sps640x360, ppsX264, key}
	if !slices.EqualFunc(units[0].NALUs, want, bytes.Equal) {
		t.Errorf("key unit NALUs do not start with the SDP's SPS, PPS")
	}
	info, ok := d.takeStream()
	if !ok || info.Width != 640 || info.Height != 360 || info.Codec != CodecH264 {
		t.Errorf("stream = %+v (announced %v), want H264 640x360", info, ok)
	}
	if _, again := d.takeStream(); again {
		t.Error("stream announced twice without a change")
	}

	units = feed(t, d, p.packets(delta(200)))
	if len(units) != 1 || units[0].Key || len(units[0].NALUs) != 1 {
		t.Errorf("delta unit: %d units", len(units))
	}
	if units[0].PTS != 200*time.Millisecond {
		t.Errorf("third unit PTS %v, want 200ms", units[0].PTS)
	}
}

func TestDepacketizeInBandParameterSets(t *testing.T) {
	d := newH264Depacketizer(t, nil, nil)
	p := newPacketizer(t)

	// A key frame with no parameter sets known cannot start a decoder.
	if _, err := d.push(p.packets(idr(100))[0], 0, time.Now()); err == nil || errors.Is(err, errNeedMore) {
		t.Fatalf("key frame without SPS/PPS: err %v, want a drop error", err)
	}
	aud := []byte{0x09, 0xf0}
	units := feed(t, d, p.packets(aud, sps640x360, ppsX264, idr(100)))
	if len(units) != 1 || !slices.EqualFunc(units[0].NALUs, [][]byte{sps640x360, ppsX264, idr(100)}, bytes.Equal) {
		t.Fatalf("in-band SPS/PPS: got %d units", len(units))
	}
	if info, _ := d.takeStream(); info.Width != 640 {
		t.Errorf("width %d, want 640", info.Width)
	}

	// The camera changes resolution: a new SPS comes before the next IDR.
	feed(t, d, p.packets(sps320x240, ppsX264))
	units = feed(t, d, p.packets(idr(100)))
	if len(units) != 1 || !bytes.Equal(units[0].NALUs[0], sps320x240) {
		t.Fatalf("after SPS change: key unit does not carry the new SPS")
	}
	info, ok := d.takeStream()
	if !ok || info.Width != 320 || info.Height != 240 {
		t.Errorf("after SPS change: stream %+v (announced %v), want 320x240", info, ok)
	}
}

func TestDepacketizeWithoutMarkers(t *testing.T) {
	// Some cameras never set the marker bit: a unit ends when the next
	// timestamp starts, and it keeps its own PTS.
	d := newH264Depacketizer(t, sps640x360, ppsX264)
	p := newPacketizer(t)
	var pkts []*rtp.Packet
	for i := range 3 {
		nalu := delta(100)
		if i == 0 {
			nalu = idr(100)
		}
		for _, pkt := range p.packets(nalu) {
			pkt.Marker = false
			pkts = append(pkts, pkt)
		}
	}
	units := feed(t, d, pkts)
	if len(units) != 2 {
		t.Fatalf("got %d units, want 2 (the third waits for a later timestamp)", len(units))
	}
	if units[0].PTS != 0 || units[1].PTS != 100*time.Millisecond {
		t.Errorf("PTS %v, %v; want 0s, 100ms", units[0].PTS, units[1].PTS)
	}
}

func TestDepacketizeLimits(t *testing.T) {
	d := newH264Depacketizer(t, sps640x360, ppsX264)
	p := newPacketizer(t)
	feed(t, d, p.packets(idr(100)))

	// Many tiny NALUs in one unit (STAP-A): over our limit, dropped.
	var many [][]byte
	for range MaxAccessUnitNALUs + 1 {
		many = append(many, []byte{0x06, 0x01})
	}
	many = append(many, delta(10))
	var lastErr error
	for _, pkt := range p.packets(many...) {
		_, lastErr = d.push(pkt, 0, time.Now())
	}
	if lastErr == nil || !strings.Contains(lastErr.Error(), "NAL") {
		t.Errorf("unit with %d NALUs: err %v, want a NALU count error", len(many), lastErr)
	}

	// The decoder stays usable after a dropped unit.
	if units := feed(t, d, p.packets(delta(100))); len(units) != 1 {
		t.Errorf("after a dropped unit: %d units, want 1", len(units))
	}
}

// FuzzH264Depacketize feeds arbitrary RTP payloads, as a hostile camera
// could send them, through the RTP→access unit path. It must never panic
// and every unit it lets out must respect the limits and start a key frame
// with its parameter sets.
func FuzzH264Depacketize(f *testing.F) {
	p := newPacketizer(&testing.T{})
	for _, au := range [][][]byte{
		{sps640x360, ppsX264, idr(3000)},
		{{0x09, 0xf0}, delta(40), delta(40)},
		{idr(100)},
	} {
		f.Add(fuzzSeed(p.packets(au...)))
	}
	f.Add([]byte{0x80, 0x00, 0x01, 0x7c})                   // lone FU-A header
	f.Add([]byte{0x80, 0x00, 0x05, 0x18, 0x00, 0x09, 0x67}) // STAP-A with a bad length

	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDepacketize(t, &format.H264{PayloadTyp: 96, PacketizationMode: 1}, data)
	})
}

// Parameter sets written by x265 (ffmpeg -c:v libx265) for 320×240.
var (
	vps265 = []byte{0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x04, 0x08, 0x00, 0x00, 0x03, 0x00, 0x9e, 0x08, 0x00, 0x00, 0x03, 0x00, 0x00, 0x3c, 0x95, 0x98, 0x09}
	sps265 = []byte{0x42, 0x01, 0x01, 0x04, 0x08, 0x00, 0x00, 0x03, 0x00, 0x9e, 0x08, 0x00, 0x00, 0x03, 0x00, 0x00, 0x3c, 0x90, 0x01, 0x41, 0x01,
		0xe2, 0xcb, 0x2b, 0x34, 0x92, 0x65, 0x78, 0x0b, 0x70, 0x20, 0x20, 0x00, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x03, 0x02, 0x82}
	pps265 = []byte{0x44, 0x01, 0xc1, 0x72, 0x86, 0x0c, 0x46, 0x24}
)

// FuzzH265Depacketize is FuzzH264Depacketize for H.265 cameras: aggregation
// and fragmentation units, and the VPS/SPS/PPS parsed for the picture size.
func FuzzH265Depacketize(f *testing.F) {
	enc := &rtph265.Encoder{PayloadType: 96}
	if err := enc.Init(); err != nil {
		f.Fatal(err)
	}
	idr265 := func(size int) []byte { return append([]byte{0x26, 0x01}, fill(0xab, size-2)...) }   // IDR_W_RADL
	trail265 := func(size int) []byte { return append([]byte{0x02, 0x01}, fill(0xab, size-2)...) } // TRAIL_R
	for _, au := range [][][]byte{
		{vps265, sps265, pps265, idr265(3000)},
		{{0x46, 0x01, 0x50}, trail265(40), trail265(40)}, // AUD first
		{idr265(100)},
	} {
		pkts, err := enc.Encode(au)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fuzzSeed(pkts))
	}
	f.Add([]byte{0x02, 0x00, 0x03, 0x62, 0x01, 0x93})                         // lone FU start
	f.Add([]byte{0x02, 0x00, 0x07, 0x60, 0x01, 0x00, 0x09, 0x40, 0x01, 0x0c}) // AP with a bad length

	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDepacketize(t, &format.H265{PayloadTyp: 96}, data)
	})
}

// fuzzDepacketize feeds the packets data encodes (see encodeFuzzPacket)
// through a depacketizer of forma and checks every unit that comes out.
func fuzzDepacketize(t *testing.T, forma format.Format, data []byte) {
	d, err := newDepacketizer(forma)
	if err != nil {
		t.Fatal(err)
	}
	var seq uint16
	var ts uint32
	for len(data) >= 3 && seq < 10000 {
		flags, n := data[0], int(data[1])<<8|int(data[2])
		data = data[3:]
		n = min(n, len(data))
		pkt := &rtp.Packet{
			Header:  rtp.Header{Version: 2, PayloadType: 96, Marker: flags&1 != 0, SequenceNumber: seq, Timestamp: ts},
			Payload: data[:n],
		}
		data = data[n:]
		seq++
		if flags&2 != 0 {
			ts += 3000
		}
		au, err := d.push(pkt, time.Duration(ts), time.Time{})
		if err != nil {
			continue
		}
		d.takeStream()
		checkFuzzUnit(t, d.codec, au)
	}
}

// fuzzSeed encodes packets as a fuzz input.
func fuzzSeed(pkts []*rtp.Packet) []byte {
	var seed []byte
	for _, pkt := range pkts {
		seed = append(seed, encodeFuzzPacket(pkt)...)
	}
	return seed
}

// encodeFuzzPacket writes a packet in the fuzz input format: flags
// (1 = marker, 2 = next timestamp), big-endian length, payload.
func encodeFuzzPacket(pkt *rtp.Packet) []byte {
	n := len(pkt.Payload)
	b := []byte{2, byte(n >> 8), byte(n)}
	if pkt.Marker {
		b[0] |= 1
	}
	return append(b, pkt.Payload...)
}

func checkFuzzUnit(t *testing.T, codec Codec, au *AccessUnit) {
	if len(au.NALUs) == 0 || len(au.NALUs) > MaxAccessUnitNALUs {
		t.Fatalf("unit with %d NALUs", len(au.NALUs))
	}
	for _, n := range au.NALUs {
		if len(n) == 0 {
			t.Fatal("empty NALU in a unit")
		}
	}
	if au.Size() > MaxAccessUnitBytes+64<<10 { // plus the parameter sets
		t.Fatalf("unit of %d bytes", au.Size())
	}
	if !au.Key {
		return
	}
	if codec == CodecH265 {
		if len(au.NALUs) < 4 || au.NALUs[0][0]>>1&0x3f != 32 || au.NALUs[1][0]>>1&0x3f != 33 || au.NALUs[2][0]>>1&0x3f != 34 {
			t.Fatal("key unit does not start with VPS, SPS, PPS")
		}
	} else if len(au.NALUs) < 3 || au.NALUs[0][0]&0x1f != 7 || au.NALUs[1][0]&0x1f != 8 {
		t.Fatal("key unit does not start with SPS, PPS")
	}
}
