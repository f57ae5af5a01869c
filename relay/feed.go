package relay

import (
	"context"
	"slices"

	"github.com/hallwatch/hallwatch/ingest"
)

// Feed is the ingest side of a camera stream as the relay sees it.
type Feed interface {
	Subscribe(name string, opts ingest.SubscribeOptions) *ingest.Subscription
	Stream() ingest.StreamInfo
}

// Run forwards the feed's access units to the viewers until ctx ends. It
// starts from the hub's cached GOP so the relay can serve viewers at once.
// Units of another codec than the relay's are not relayable by it and
// skipped (Camera.Pick sends viewers to the relay that fits).
func (r *Relay) Run(ctx context.Context, feed Feed) error {
	return runFeed(ctx, feed, r)
}

// runFeed hands each unit to the relay of its stream's codec, if any,
// and tells the relays when a new stream (a reconnect) begins.
func runFeed(ctx context.Context, feed Feed, relays ...*Relay) error {
	sub := feed.Subscribe("relay", ingest.SubscribeOptions{StartWithGOP: true})
	defer sub.Close()
	var generation uint64
	for {
		select {
		case <-ctx.Done():
			return nil
		case au, ok := <-sub.C():
			if !ok {
				return nil
			}
			info := feed.Stream()
			if info.Generation != generation {
				if generation != 0 {
					for _, r := range relays {
						r.NewStream()
					}
				}
				generation = info.Generation
			}
			i := slices.IndexFunc(relays, func(r *Relay) bool { return r.codec == info.Codec })
			if i < 0 {
				continue
			}
			if r := relays[i]; r.Push(au) != nil {
				r.packetizeErrors.Add(1) // a malformed unit is skipped, not fatal
			}
		}
	}
}
