package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// viewerReadBuffer is each viewer's UDP read buffer: on loopback a key
// frame or GOP replay arrives at once, where a network would pace it.
const viewerReadBuffer = 4 << 20

// viewer is one pion WHEP client watching a camera of the child.
type viewer struct {
	camera   string
	client   *whepclient.Client
	location string
	posted   time.Time // the WHEP POST was sent

	mu        sync.Mutex
	recording bool
	got       []received // while recording
	units     int
	lost      int // RTP sequence gaps, in packets
	lastSeq   uint16
	seqSeen   bool
}

type received struct {
	key frameKey
	at  time.Time
}

// connectViewer opens a WHEP session on camera, as a browser that
// decodes what pion does (H.264 and H.265, among others), or only codecs.
func (c *child) connectViewer(ctx context.Context, camera string, codecs ...string) (*viewer, error) {
	v := &viewer{camera: camera}
	endpoint := c.base + c.whep(camera)
	// A loaded machine answers a WHEP POST slowly while it relays to
	// hundreds of viewers; the bench measures that elsewhere.
	post := whepclient.HTTP(&http.Client{Timeout: 30 * time.Second}, endpoint, c.auth, &v.location)
	exchange := func(ctx context.Context, offer string) (string, error) {
		v.posted = time.Now()
		return post(ctx, offer)
	}
	ctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	client, err := whepclient.Connect(ctx, exchange, whepclient.Options{OnUnit: v.onUnit, OnPacket: v.onPacket, ReadBuffer: viewerReadBuffer, Codecs: codecs})
	if err != nil {
		return nil, fmt.Errorf("viewer of %s on %s: %w", camera, c.name, err)
	}
	v.client = client
	return v, nil
}

func (v *viewer) onPacket(p *rtp.Packet, _ time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.seqSeen {
		if gap := p.SequenceNumber - v.lastSeq - 1; gap != 0 && gap < 0x8000 {
			v.lost += int(gap)
		}
	}
	v.lastSeq, v.seqSeen = p.SequenceNumber, true
}

func (v *viewer) onUnit(u whepclient.Unit) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.units++
	if v.recording {
		v.got = append(v.got, received{key: keyOf(u.NALUs), at: u.Received})
	}
}

// record starts (or stops) keeping received frames, and returns those
// kept so far when stopping.
func (v *viewer) record(on bool) []received {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.recording = on
	got := v.got
	v.got = nil
	return got
}

func (v *viewer) unitCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.units
}

func (v *viewer) lostPackets() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.lost
}

// close hangs up (WHEP DELETE) and closes the peer.
func (c *child) closeViewer(v *viewer) {
	if v.location != "" {
		req, err := http.NewRequest(http.MethodDelete, c.base+v.location, nil)
		if err == nil {
			req.Header = c.auth.Clone()
			if resp, err := c.http.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	}
	v.client.Close()
}

// connectViewers opens n sessions on camera, a few at a time.
func (c *child) connectViewers(ctx context.Context, camera string, n int) ([]*viewer, error) {
	const parallel = 8
	out := make([]*viewer, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v, err := c.connectViewer(ctx, camera)
			if err != nil {
				errs <- err
				return
			}
			out[i] = v
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		for _, v := range out {
			if v != nil {
				c.closeViewer(v)
			}
		}
		return nil, err
	}
	return out, nil
}

// waitFirstKey waits until every viewer has shown a key frame.
func waitFirstKey(ctx context.Context, vs []*viewer, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, v := range vs {
		for v.client.FirstKeyFrame().IsZero() {
			if time.Now().After(deadline) {
				return fmt.Errorf("a viewer of %s got no key frame in %v (state %s)", v.camera, limit, v.client.State())
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}
