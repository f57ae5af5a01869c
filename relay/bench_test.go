package relay

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/ingest"
)

// countingWriter stands in for pion's SRTP write stream: it takes the
// packet and counts it, so the benchmark sees the relay's own cost
// (packetizing, fan-out, per-viewer header rewrite, locks, allocations).
type countingWriter struct{ packets, bytes atomic.Int64 }

func (w *countingWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.packets.Add(1)
	w.bytes.Add(int64(h.MarshalSize() + len(payload)))
	return h.MarshalSize() + len(payload), nil
}

func (w *countingWriter) Write(b []byte) (int, error) { return len(b), nil }

// fakeContext is what pion hands a TrackLocal when a viewer's sender binds.
type fakeContext struct {
	id   string
	ssrc webrtc.SSRC
	ws   webrtc.TrackLocalWriter
}

func (c *fakeContext) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{{
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"},
		PayloadType: 102,
	}}
}
func (c *fakeContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (c *fakeContext) SSRC() webrtc.SSRC                                      { return c.ssrc }
func (c *fakeContext) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (c *fakeContext) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (c *fakeContext) WriteStream() webrtc.TrackLocalWriter                   { return c.ws }
func (c *fakeContext) ID() string                                             { return c.id }
func (c *fakeContext) RTCPReader() interceptor.RTCPReader                     { return nil }

// benchGOP is one GOP of the reference camera: 25 fps, 2 s, about
// 2 Mbit/s, with a 130 KB IDR and 7.5 KB P frames.
func benchGOP() []*ingest.AccessUnit {
	rng := rand.New(rand.NewPCG(1, 2))
	nalu := func(typ byte, size int) []byte {
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] = 0x60 | typ
		return b
	}
	sps := []byte{0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8, 0x40}
	pps := []byte{0x68, 0xce, 0x3c, 0x80}
	units := []*ingest.AccessUnit{{Key: true, NALUs: [][]byte{sps, pps, nalu(5, 130<<10)}}}
	for range 49 {
		units = append(units, &ingest.AccessUnit{NALUs: [][]byte{nalu(1, 7500)}})
	}
	return units
}

// BenchmarkRelayPush is the relay's hot path: one access unit packetized
// and written to every live viewer. ns/op is per access unit (the GOP's
// mix of one IDR and 49 P frames); ns/packet-viewer is per packet written.
func BenchmarkRelayPush(b *testing.B) {
	gop := benchGOP()
	for _, viewers := range []int{1, 10, 50, 200} {
		b.Run(fmt.Sprintf("viewers=%d", viewers), func(b *testing.B) {
			r, err := New("bench", Options{})
			if err != nil {
				b.Fatal(err)
			}
			w := &countingWriter{}
			for i := range viewers {
				ctx := &fakeContext{id: fmt.Sprint(i), ssrc: webrtc.SSRC(1000 + i), ws: w}
				if _, err := r.bind(ctx); err != nil {
					b.Fatal(err)
				}
				if err := r.Activate(ctx.ssrc); err != nil {
					b.Fatal(err)
				}
			}
			pts := time.Duration(0)
			push := func(au *ingest.AccessUnit) {
				pts += 40 * time.Millisecond
				u := *au
				u.PTS = pts
				if err := r.Push(&u); err != nil {
					b.Fatal(err)
				}
			}
			for _, au := range gop { // the first key frame makes every viewer live
				push(au)
			}
			if got := w.packets.Load(); got == 0 {
				b.Fatal("no viewer went live")
			}
			w.packets.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				push(gop[i%len(gop)])
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(w.packets.Load()), "ns/packet-viewer")
		})
	}
}
