package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/ingest"
)

type districtView struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Centers []centerView `json:"centers"`
}

type centerView struct {
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Cameras []cameraView `json:"cameras"`
}

type cameraView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Analytics bool       `json:"analytics"`
	Status    statusView `json:"status"`
}

// statusView is a camera's state as the API shows it: never its URL.
type statusView struct {
	State       ingest.State `json:"state"`
	Since       *time.Time   `json:"since,omitempty"`
	LastError   string       `json:"last_error,omitempty"`
	Transport   string       `json:"transport,omitempty"`
	Codec       ingest.Codec `json:"codec,omitempty"`
	Playable    bool         `json:"playable"`
	Width       int          `json:"width,omitempty"`
	Height      int          `json:"height,omitempty"`
	BitrateKbps float64      `json:"bitrate_kbps"`
	FPS         float64      `json:"fps"`
	Reconnects  uint64       `json:"reconnects"`
	LastFrame   *time.Time   `json:"last_frame,omitempty"`
}

func newStatusView(st ingest.Status) statusView {
	v := statusView{
		State: st.State, LastError: st.LastError, Transport: st.Transport, Codec: st.Codec,
		// H.265 plays too: natively where the browser decodes it, else
		// from the camera's sub-stream or a transcode (relay.Camera.Pick).
		Playable: st.Codec == "" || st.Codec == ingest.CodecH264 || st.Codec == ingest.CodecH265,
		Width:    st.Width, Height: st.Height, BitrateKbps: st.BitrateKbps, FPS: st.FPS, Reconnects: st.Reconnects,
	}
	if !st.Since.IsZero() {
		v.Since = &st.Since
	}
	if !st.LastFrame.IsZero() {
		v.LastFrame = &st.LastFrame
	}
	return v
}

// cameras lists the district → center → camera tree with live states,
// limited to the cameras the caller may watch (none for planners).
func (s *Server) cameras(c *fiber.Ctx) error {
	out := []districtView{}
	for _, d := range s.deps.Config.Districts {
		dv := districtView{ID: d.ID, Name: d.Name, Centers: []centerView{}}
		for _, ctr := range d.Centers {
			cv := centerView{ID: ctr.ID, Name: ctr.Name, Cameras: []cameraView{}}
			for _, cam := range ctr.Cameras {
				if !s.allowed(c, AccessLive, Scope{District: d.ID, Center: ctr.ID}) {
					continue
				}
				st, _ := s.deps.Status(cam.ID)
				cv.Cameras = append(cv.Cameras, cameraView{ID: cam.ID, Name: cam.Name, Analytics: cam.Analytics != nil, Status: newStatusView(st)})
			}
			if len(cv.Cameras) > 0 {
				dv.Centers = append(dv.Centers, cv)
			}
		}
		if len(dv.Centers) > 0 {
			out = append(out, dv)
		}
	}
	return c.JSON(fiber.Map{"districts": out})
}
