package service

import (
	"log/slog"
	"net/url"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/notify"
	"github.com/hallwatch/hallwatch/store"
)

// announcer renders alert changes for the notifiers; the store queues the
// messages in the transaction of the change (alerts.Announcer).
type announcer struct {
	cfg      *config.Config
	notifier *notify.Dispatcher
	log      *slog.Logger
}

func (an announcer) Messages(n alerts.Notice) []store.Notification {
	a := n.Alert
	m := notify.Message{
		AlertID: a.ID, Kind: a.Kind, State: n.State, At: a.RaisedAt,
		DistrictID: n.District.ID, District: n.District.Name, CenterID: n.Center.ID, Center: n.Center.Name,
		CameraID: n.Camera.ID, Camera: n.Camera.Name, Location: n.Center.Location(),
		Grace: an.cfg.Alerts.CameraOfflineAfter.D(),
	}
	if a.Kind == events.KindCameraBlocked {
		m.Grace = analytics.BlockedAfter
	}
	if an := n.Camera.Effective(); a.Kind == events.KindQueueLong && an != nil && an.QueueAlert != nil {
		m.Grace = an.QueueAlert.For.D()
	}
	if n.State == events.AlertResolved {
		m.At, m.Duration = a.ResolvedAt, a.Duration()
	}
	if a.Kind == events.KindStorageFull {
		m.Grace = 0 // raised the moment recording stops
	}
	if n.Window != nil {
		m.WindowID, m.Window, m.Grace = n.Window.ID, n.Window.Name, n.Window.AbsentAfter.D()
	}
	if base := an.cfg.HTTP.PublicURL; base != "" {
		m.BoardURL = base + "/board.html?center=" + url.QueryEscape(n.Center.ID)
	}
	msgs, err := an.notifier.Messages(m)
	if err != nil {
		// Templates are tried at start, so this is rare; the targets that
		// rendered are still notified.
		an.log.Error("notification not rendered", "alert", a.ID, "err", err)
	}
	return msgs
}

func (an announcer) Queued(ns []store.Notification) { an.notifier.Queued(ns) }
