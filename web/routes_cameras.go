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
	// Recording is the camera's recorder; absent when it is not recorded.
	Recording *recordingStatus `json:"recording,omitempty"`
	// Analysis is what the camera's analysis runs and how it goes.
	Analysis *AnalysisStatus `json:"analysis,omitempty"`
}

// AnalysisStatus is a camera's analysis as the camera status shows it:
// which detector runs and why, and its counters.
type AnalysisStatus struct {
	Detector string `json:"detector"` // yolo or motion
	Reason   string `json:"reason"`
	// Fallback: auto could not load the person model (Reason names the
	// file and the fault) and runs the motion detector.
	Fallback bool    `json:"fallback,omitempty"`
	FPS      float64 `json:"fps"`
	Units    uint64  `json:"units"`
	Decoded  uint64  `json:"decoded"`
	Analysed uint64  `json:"analysed"`
	// Looks: analysed frames the detector looked at; the person model
	// skips a picture unchanged since its last look (fewer looks, less
	// cost), the motion detector looks at every one.
	Looks         uint64  `json:"looks"`
	DecodeErrors  uint64  `json:"decode_errors"`
	ProcessErrors uint64  `json:"process_errors"`
	LagMillis     float64 `json:"lag_ms"`
	// Since is when the first frame was analysed (zero before).
	Since time.Time `json:"since,omitzero"`
	// Idle: the scene is quiet and only key frames are decoded.
	Idle  bool   `json:"idle"`
	Wakes uint64 `json:"wakes"`
	// Restarts counts the panics (bugs) the analysis restarted after, from
	// its saved state; LastPanic is the last one's message, at LastPanicAt.
	Restarts    uint64    `json:"restarts"`
	LastPanic   string    `json:"last_panic,omitempty"`
	LastPanicAt time.Time `json:"last_panic_at,omitzero"`
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
	// ReceivedBytes is the video received since hallwatch started.
	ReceivedBytes uint64     `json:"received_bytes"`
	FPS           float64    `json:"fps"`
	Reconnects    uint64     `json:"reconnects"`
	LastFrame     *time.Time `json:"last_frame,omitempty"`
}

func newStatusView(st ingest.Status) statusView {
	v := statusView{
		State: st.State, LastError: st.LastError, Transport: st.Transport, Codec: st.Codec,
		// H.265 plays too: natively where the browser decodes it, else
		// from the camera's sub-stream or a transcode (relay.Camera.Pick).
		Playable: st.Codec == "" || st.Codec == ingest.CodecH264 || st.Codec == ingest.CodecH265,
		Width:    st.Width, Height: st.Height, BitrateKbps: st.BitrateKbps, ReceivedBytes: st.ReceivedBytes, FPS: st.FPS, Reconnects: st.Reconnects,
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
				view := cameraView{ID: cam.ID, Name: cam.Name, Analytics: cam.Analytics != nil, Status: newStatusView(st)}
				if s.deps.Recordings != nil {
					if rs, ok := s.deps.Recordings.Status(cam.ID); ok {
						view.Recording = recordingView(rs)
					}
				}
				if s.deps.Analysis != nil {
					if a, ok := s.deps.Analysis(cam.ID); ok {
						view.Analysis = &a
					}
				}
				cv.Cameras = append(cv.Cameras, view)
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
