package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/metrics"
	"github.com/hallwatch/hallwatch/store"
)

// eventStore is where events become durable.
type eventStore interface {
	AppendEvents(ctx context.Context, evs []store.EventRecord) error
}

// recorder makes a camera's events durable first, then hands them to the
// alert lifecycle (which also publishes them to live pages).
type recorder struct {
	store   eventStore
	alerts  *alerts.Manager
	metrics *metrics.Metrics
	log     *slog.Logger
}

func (r *recorder) record(ctx context.Context, ref config.CameraRef, evs []events.Event, snapshot func(window string) []byte) {
	recs := make([]store.EventRecord, len(evs))
	for i, ev := range evs {
		recs[i] = store.EventRecord{Event: ev, District: ref.District.ID, Center: ref.Center.ID, Loc: ref.Center.Location()}
	}
	for _, ev := range evs {
		r.metrics.Events.WithLabelValues(ref.Camera.ID, ev.Type).Inc()
	}
	began := time.Now()
	err := r.store.AppendEvents(ctx, recs)
	r.metrics.StoreWrite.Observe(time.Since(began).Seconds())
	if err != nil {
		r.log.Error("storing events failed", "camera", ref.Camera.ID, "events", len(evs), "err", err)
	}
	if err := r.alerts.Record(ctx, ref, evs, snapshot); err != nil {
		r.log.Error("alert handling failed", "camera", ref.Camera.ID, "err", err)
	}
}
