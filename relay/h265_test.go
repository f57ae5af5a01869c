package relay

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// TestRelaySendsH265 plays an H.265 stream (libx265) through an H.265
// relay to a pion viewer that offers only H.265, at payload type 96 where
// the relay registered 116: the answer must take the offer's number, and
// the viewer must get whole, decodable H.265 access units from a key frame.
func TestRelaySendsH265(t *testing.T) {
	const w, h = 320, 180
	enc, err := avcodec.NewEncoder(avcodec.EncoderOptions{Codec: avcodec.CodecH265, Width: w, Height: h, FPS: 25, GOP: 25, BitrateKbps: 500, Preset: "ultrafast"})
	if err != nil {
		t.Skipf("no H.265 encoder: %v", err)
	}
	defer enc.Close()
	rig := newRelayRig(t, loopbackICE(t))
	h265, err := New("hall1", Options{Codec: ingest.CodecH265, Batch: rig.engine.Batcher()})
	if err != nil {
		t.Fatal(err)
	}
	sessions := NewSessions(rig.engine, func(string, []ingest.Codec) (*Relay, error) { return h265, nil }, Limits{Max: 10, PerUser: 10, ConnectTimeout: 30 * time.Second}, nil)
	defer sessions.Close()

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	wg.Go(func() {
		img := avcodec.NewImage(w, h)
		for i := 0; ctx.Err() == nil && i < 500; i++ {
			for k := range img.Data {
				img.Data[k] = byte(k/3 + 5*i)
			}
			nalus, key, err := enc.Encode(img, int64(i))
			if err != nil {
				t.Error(err)
				return
			}
			h265.Push(&ingest.AccessUnit{PTS: time.Duration(i) * 40 * time.Millisecond, Received: time.Now(), Key: key, NALUs: nalus})
			time.Sleep(40 * time.Millisecond)
		}
	})
	c, err := whepclient.Connect(ctx, func(ctx context.Context, offer string) (string, error) {
		_, answer, err := sessions.Offer(ctx, "hall1", Viewer{User: "test"}, offer)
		return answer, err
	}, whepclient.Options{Codecs: []string{webrtc.MimeTypeH265}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	units := c.Wait(t, 30, 20*time.Second)
	if !strings.EqualFold(c.Codec(), webrtc.MimeTypeH265) || !units[0].Key {
		t.Fatalf("viewer got %s, first unit key=%v; want H.265 from a key frame", c.Codec(), units[0].Key)
	}
	dec, err := avcodec.NewDecoder(avcodec.CodecH265)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for i, u := range units {
		if ok, err := dec.Decode(u.NALUs); err != nil || !ok {
			t.Fatalf("unit %d does not decode: %v, %v", i, ok, err)
		}
	}
}
