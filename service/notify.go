package service

import (
	"context"
	"net/url"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/notify"
)

// notifyAlert hands an alert change to the notifiers as a message.
func (s *Service) notifyAlert(ctx context.Context, n alerts.Notice) error {
	a := n.Alert
	m := notify.Message{
		AlertID: a.ID, Kind: a.Kind, State: n.State, At: a.RaisedAt,
		DistrictID: n.District.ID, District: n.District.Name, CenterID: n.Center.ID, Center: n.Center.Name,
		CameraID: n.Camera.ID, Camera: n.Camera.Name, Location: n.Center.Location(),
		Grace: s.cfg.Alerts.CameraOfflineAfter.D(),
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
	if base := s.cfg.HTTP.PublicURL; base != "" {
		m.BoardURL = base + "/board.html?center=" + url.QueryEscape(n.Center.ID)
	}
	return s.notifier.Notify(ctx, m)
}
