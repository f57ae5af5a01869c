package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/record"
	"github.com/hallwatch/hallwatch/store"
)

// Recordings is the recorded video as the web sees it (package record,
// through the service).
type Recordings interface {
	Timeline(ctx context.Context, camera string, from, to time.Time) ([]record.Span, error)
	Play(ctx context.Context, camera string, at time.Time) (record.Play, error)
	Video(ctx context.Context, camera string, from, to time.Time) (*record.Video, error)
	AlertVideo(ctx context.Context, a store.Alert) (*record.Video, error)
	Status(camera string) (record.Status, bool)
}

// Playback limits.
const (
	// maxTimeline bounds one timeline request.
	maxTimeline = 31 * 24 * time.Hour
	// defaultTimeline is the timeline's span when the page names none.
	defaultTimeline = 3 * 24 * time.Hour
	// videoWriteTimeout is the time one chunk of video may take to send;
	// a download as a whole may take as long as it needs.
	videoWriteTimeout = 30 * time.Second
	// auditAgain: the same user playing the same span again within this
	// is one audit entry (a <video> reads one MP4 in many range requests).
	auditAgain = 10 * time.Minute
	// Video responses being sent at once, in all and per user (a player
	// keeps two or three range requests open; a download is one).
	maxVideoStreams        = 256
	maxVideoStreamsPerUser = 16
)

// recordingsTimeline answers /api/cameras/:camera/recordings?from=&to=:
// the recorded spans, the camera's alerts in the period and the
// recorder's state, for the playback page's timeline.
func (s *Server) recordingsTimeline(c *fiber.Ctx) error {
	rec, err := s.recordings()
	if err != nil {
		return err
	}
	camera := c.Params("camera")
	to, err := queryTime(c, "to", time.Now())
	if err != nil {
		return err
	}
	from, err := queryTime(c, "from", to.Add(-defaultTimeline))
	if err != nil {
		return err
	}
	if !to.After(from) || to.Sub(from) > maxTimeline {
		return fiber.NewError(fiber.StatusBadRequest, "from..to must be a period of at most 31 days")
	}
	spans, err := rec.Timeline(c.UserContext(), camera, from, to)
	if err != nil {
		return err
	}
	if spans == nil {
		spans = []record.Span{}
	}
	out := fiber.Map{"camera": camera, "from": from, "to": to, "spans": spans, "alerts": []alertJSON{}}
	ref, _ := s.deps.Config.Camera(camera)
	if s.allowed(c, AccessAlerts, Scope{District: ref.District.ID, Center: ref.Center.ID}) {
		// Alerts raised up to a day before the period may still be open in it.
		list, err := s.deps.Store.Alerts(c.UserContext(), store.AlertQuery{Centers: []string{ref.Center.ID}, From: from.Add(-24 * time.Hour), To: to, Limit: maxAlertList})
		if err != nil {
			return err
		}
		var mine []alertJSON
		for i := len(list) - 1; i >= 0; i-- { // oldest first, for stepping
			a := list[i]
			if a.Camera == camera && (a.Open() || a.ResolvedAt.After(from)) {
				mine = append(mine, s.alertJSON(a))
			}
		}
		if mine != nil {
			out["alerts"] = mine
		}
	}
	if st, ok := rec.Status(camera); ok {
		out["recording"] = recordingView(st)
	}
	return c.JSON(out)
}

// recordingStatus is a recorder's state as the API shows it (not its
// storage path: that is the server's business).
type recordingStatus struct {
	State string    `json:"state"`
	Since time.Time `json:"since"`
	Error string    `json:"error,omitempty"`
}

func recordingView(st record.Status) *recordingStatus {
	return &recordingStatus{State: st.State, Since: st.Since, Error: st.Error}
}

// playback answers /api/cameras/:camera/playback?at=: the video to load
// to watch the camera from that moment, and where in it the moment is.
func (s *Server) playback(c *fiber.Ctx) error {
	rec, err := s.recordings()
	if err != nil {
		return err
	}
	camera := c.Params("camera")
	at, err := queryTime(c, "at", time.Time{})
	if err != nil {
		return err
	}
	if at.IsZero() {
		return fiber.NewError(fiber.StatusBadRequest, "at: required (an RFC 3339 time)")
	}
	p, err := rec.Play(c.UserContext(), camera, at)
	if errors.Is(err, record.ErrNoVideo) {
		return apiErr(fiber.StatusNotFound, codeNoVideo, "nothing recorded at or after "+at.UTC().Format(time.RFC3339))
	} else if err != nil {
		return err
	}
	return c.JSON(fiber.Map{
		"url":            videoURL(camera, p.From, p.To, false),
		"start":          p.Start,
		"end":            p.End,
		"offset_seconds": p.Offset.Seconds(),
	})
}

// videoURL names the MP4 of camera's recording from..to.
func videoURL(camera string, from, to time.Time, download bool) string {
	q := url.Values{"from": {from.UTC().Format(time.RFC3339Nano)}, "to": {to.UTC().Format(time.RFC3339Nano)}}
	if download {
		q.Set("download", "1")
	}
	return "/api/cameras/" + url.PathEscape(camera) + "/recording.mp4?" + q.Encode()
}

// recordingVideo serves /api/cameras/:camera/recording.mp4?from=&to= as
// one MP4 with range requests (download=1: as an attachment).
func (s *Server) recordingVideo(c *fiber.Ctx) error {
	rec, err := s.recordings()
	if err != nil {
		return err
	}
	camera := c.Params("camera")
	from, err := queryTime(c, "from", time.Time{})
	if err != nil {
		return err
	}
	to, err := queryTime(c, "to", time.Time{})
	if err != nil {
		return err
	}
	if from.IsZero() || to.IsZero() {
		return fiber.NewError(fiber.StatusBadRequest, "from and to are required (RFC 3339 times)")
	}
	if !to.After(from) || to.Sub(from) > record.MaxSpan {
		return apiErr(fiber.StatusBadRequest, codeSpanTooLong, fmt.Sprintf("from..to must be a period of at most %v", record.MaxSpan)).
			with("max_minutes", int(record.MaxSpan/time.Minute))
	}
	v, err := rec.Video(c.UserContext(), camera, from, to)
	if errors.Is(err, record.ErrNoVideo) {
		return apiErr(fiber.StatusNotFound, codeNoVideo, "nothing recorded in this period")
	} else if err != nil {
		return err
	}
	download := c.Query("download") == "1"
	action := "playback"
	if download {
		action = "download"
		name := fmt.Sprintf("%s_%s_%s.mp4", camera, v.Start.UTC().Format("20060102T150405Z"), v.End.UTC().Format("150405Z"))
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	}
	s.auditVideo(c, action, camera, fmt.Sprintf("%s – %s", v.Start.UTC().Format(time.RFC3339), v.End.UTC().Format(time.RFC3339)))
	return s.sendVideo(c, v)
}

// alertClip serves /api/alerts/:id/clip.mp4: the alert's clip.
func (s *Server) alertClip(c *fiber.Ctx) error {
	rec, err := s.recordings()
	if err != nil {
		return err
	}
	a := c.Locals(localAlert).(store.Alert)
	v, err := rec.AlertVideo(c.UserContext(), a)
	if errors.Is(err, record.ErrNoVideo) {
		return apiErr(fiber.StatusNotFound, codeNoVideo, "alert "+strconv.FormatInt(a.ID, 10)+" has no recorded video")
	} else if err != nil {
		return err
	}
	s.auditVideo(c, "playback", a.Camera, fmt.Sprintf("alert %d clip, %s – %s", a.ID,
		v.Start.UTC().Format(time.RFC3339), v.End.UTC().Format(time.RFC3339)))
	return s.sendVideo(c, v)
}

func (s *Server) recordings() (Recordings, error) {
	if s.deps.Recordings == nil {
		return nil, apiErr(fiber.StatusNotFound, codeRecordingOff, "recording is not set up")
	}
	return s.deps.Recordings, nil
}

// sendVideo answers with the MP4, or the byte range asked for. The body
// is streamed: each chunk gets its own write deadline (a download may
// take long), and the stream stops when the user's access ends.
func (s *Server) sendVideo(c *fiber.Ctx, v *record.Video) error {
	size := v.Size()
	c.Set(fiber.HeaderContentType, "video/mp4")
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderCacheControl, "no-store") // video of people: never kept by caches
	start, n, partial, err := parseRange(c.Get(fiber.HeaderRange), size)
	if errors.Is(err, errUnsatisfiable) {
		c.Set(fiber.HeaderContentRange, "bytes */"+strconv.FormatInt(size, 10))
		return jsonError(c, apiErr(fiber.StatusRequestedRangeNotSatisfiable, codeRangeUnsatisfied, "range outside the video's "+strconv.FormatInt(size, 10)+" bytes"))
	}
	if !partial {
		start, n = 0, size
	} else {
		c.Status(fiber.StatusPartialContent)
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", start, start+n-1, size))
	}
	if c.Method() == fiber.MethodHead {
		c.Context().Response.Header.SetContentLength(int(n))
		c.Context().Response.SkipBody = true
		return nil
	}
	// Its login ending or its rights changing end the response.
	stream, err := s.videos.add(principal(c))
	switch {
	case errors.Is(err, errTooManyStreamsForUser):
		return jsonError(c, apiErr(fiber.StatusTooManyRequests, codeTooManyVideos, fmt.Sprintf("too many videos playing or downloading for this user (%d at most); close one", maxVideoStreamsPerUser)))
	case err != nil:
		c.Set(fiber.HeaderRetryAfter, "5")
		return jsonError(c, apiErr(fiber.StatusServiceUnavailable, "unavailable", "too many videos being sent from this server; try again shortly").with("retry_after", 5))
	}
	r, err := v.Reader(start, n)
	if err != nil {
		s.videos.remove(stream)
		return err
	}
	body := &streamReader{r: r, conn: c.Context().Conn(), ended: stream.ended, done: s.done,
		release: func() { s.videos.remove(stream) }}
	c.Context().SetBodyStream(body, int(n))
	return nil
}

// streamReader feeds a response body and moves the connection's write
// deadline on before every chunk.
type streamReader struct {
	r       io.ReadCloser
	conn    net.Conn
	ended   <-chan struct{}
	done    <-chan struct{}
	release func()
}

var errStreamEnded = errors.New("video stream ended: logged out, access changed or server stopping")

func (b *streamReader) Read(p []byte) (int, error) {
	select {
	case <-b.ended:
		return 0, errStreamEnded
	case <-b.done:
		return 0, errStreamEnded
	default:
	}
	b.conn.SetWriteDeadline(time.Now().Add(videoWriteTimeout))
	return b.r.Read(p)
}

func (b *streamReader) Close() error {
	b.release()
	return b.r.Close()
}

// auditVideo records a playback or download once per user, camera and
// span: a <video> fetches one MP4 in many range requests.
func (s *Server) auditVideo(c *fiber.Ctx, action, camera, detail string) {
	key := userName(c) + "|" + action + "|" + camera + "|" + detail
	if !s.videoAudits.first(key, time.Now()) {
		return
	}
	s.audit(c, action, camera, detail)
}

// recentKeys remembers keys for auditAgain.
type recentKeys struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// first reports whether key was not seen within auditAgain, and notes it.
func (r *recentKeys) first(key string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	if at, ok := r.seen[key]; ok && now.Sub(at) < auditAgain {
		return false
	}
	if len(r.seen) > 10000 {
		for k, at := range r.seen {
			if now.Sub(at) >= auditAgain {
				delete(r.seen, k)
			}
		}
	}
	r.seen[key] = now
	return true
}

// queryTime reads an RFC 3339 time from the query, or def when absent.
func queryTime(c *fiber.Ctx, name string, def time.Time) (time.Time, error) {
	v := c.Query(name)
	if v == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fiber.NewError(fiber.StatusBadRequest, name+": want an RFC 3339 time, got "+quote(v))
	}
	return t, nil
}
