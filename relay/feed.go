package relay

import (
	"context"
	"fmt"

	"github.com/hallwatch/hallwatch/ingest"
)

// Feed is the ingest side of a camera as the relay sees it.
type Feed interface {
	Subscribe(name string, opts ingest.SubscribeOptions) *ingest.Subscription
	Stream() ingest.StreamInfo
}

// Run forwards the camera's access units to the viewers until ctx ends. It
// starts from the hub's cached GOP so the relay can serve viewers at once.
func (r *Relay) Run(ctx context.Context, feed Feed) error {
	sub := feed.Subscribe("relay", ingest.SubscribeOptions{StartWithGOP: true})
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case au := <-sub.C():
			if feed.Stream().Codec != ingest.CodecH264 {
				continue // not relayable; Playable reports why
			}
			if err := r.Push(au); err != nil {
				r.packetizeErrors.Add(1) // a malformed unit is skipped, not fatal
			}
		}
	}
}

// Playable says whether browsers can play what the feed carries.
func Playable(feed Feed) error {
	if c := feed.Stream().Codec; c != "" && c != ingest.CodecH264 {
		return fmt.Errorf("%w: the camera sends %s; browsers get H.264 only, set the camera's encoder to H.264", ErrNotPlayable, c)
	}
	return nil
}
