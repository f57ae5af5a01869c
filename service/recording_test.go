package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/internal/ffprobe"
	"github.com/hallwatch/hallwatch/internal/testcam"
	"github.com/hallwatch/hallwatch/store"
)

// getJSON fetches an API path as the rig's admin.
func (r *rig) getJSON(t *testing.T, path string, v any) int {
	t.Helper()
	resp := r.get(t, path)
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// TestRecordingFromGStreamerCamera records a real RTSP camera for a
// minute: every segment is checked with ffprobe, the recording equals what
// was received, and headless Chromium plays a span from the playback page
// and an alert's clip from the board's alert card.
func TestRecordingFromGStreamerCamera(t *testing.T) {
	if testing.Short() {
		t.Skip("records for a minute")
	}
	// Noise fills the bitrate, as a real hall camera does (a flat test
	// picture would make the MP4 boxes a large share of a tiny stream).
	cam := testcam.Start(t, testcam.Options{Width: 640, Height: 360, FPS: 15, GOP: 15, BitrateKbps: 1000, Pattern: "snow"})
	r := startService(t, "record:\n  segment: 20s\n  min_free: 1MiB\n", fmt.Sprintf(`
          - id: hall1
            name: 大厅一
            url: %s
`, cam.URL()))
	waitFor(t, "camera live", 20*time.Second, func() bool { return r.cameraState(t, "hall1")["state"] == "live" })
	began := time.Now()
	ctx := context.Background()
	st := r.svc.store
	ref, _ := r.svc.cfg.Camera("hall1")

	// An alert open from 20 s to 30 s into the recording: its clip is cut
	// once the recording has passed its end.
	time.Sleep(30 * time.Second)
	raised, _, err := st.RaiseAlert(ctx, store.AlertRecord{Kind: events.KindCameraOffline, District: ref.District.ID, Center: ref.Center.ID,
		Camera: "hall1", RaisedAt: began.Add(20 * time.Second)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	alertID := raised.ID
	if _, _, err := st.ResolveAlert(ctx, alertID, began.Add(30*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(31 * time.Second)
	var clip store.Clip
	waitFor(t, "the alert's clip", 30*time.Second, func() bool {
		clip, err = st.Clip(ctx, alertID)
		return err == nil
	})
	if clip.Bytes == 0 {
		t.Fatalf("no clip cut for an alert inside the recording: %+v", clip)
	}

	// The recording as the page sees it: one span of about a minute.
	var tl struct {
		Spans     []struct{ Start, End time.Time } `json:"spans"`
		Recording struct {
			State string `json:"state"`
		} `json:"recording"`
	}
	if code := r.getJSON(t, "/api/cameras/hall1/recordings", &tl); code != http.StatusOK || len(tl.Spans) != 1 {
		t.Fatalf("timeline: HTTP %d, %+v", code, tl)
	}
	if d := tl.Spans[0].End.Sub(tl.Spans[0].Start); d < 55*time.Second || tl.Recording.State != "recording" {
		t.Errorf("timeline span %v long, recorder %q; want about a minute, recording", d, tl.Recording.State)
	}

	playInBrowser(t, r, tl.Spans[0].Start, alertID)

	received := r.svc.cameras["hall1"].source.Status().ReceivedBytes
	r.stop() // closes the segment being written, then the database
	if st, err = store.Open(ctx, r.svc.cfg.Storage.Path); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	segs, err := st.Segments(ctx, store.SegmentQuery{Camera: "hall1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) < 3 {
		t.Fatalf("%d segments of 20 s in over a minute, want at least 3", len(segs))
	}
	var written int64
	var total time.Duration
	for _, sg := range segs {
		p := filepath.Join(sg.Root, filepath.FromSlash(sg.Path))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		written += fi.Size()
		indexed := sg.End.Sub(sg.Start)
		total += indexed
		in := ffprobe.Probe(t, p)
		// ffprobe's duration and the index agree within a frame, and
		// every picture stored decodes. (How many there are depends on
		// the camera keeping its 15 fps on a loaded machine.)
		if !sg.Closed || fi.Size() != sg.Bytes || absDur(in.Duration-indexed) > 100*time.Millisecond ||
			in.Frames == 0 || in.Frames != in.Packets {
			t.Errorf("segment %s: closed %v, %d bytes (index %d), ffprobe %v, %d of %d pictures decoded, index %v",
				sg.Path, sg.Closed, fi.Size(), sg.Bytes, in.Duration, in.Frames, in.Packets, indexed)
		}
	}
	if total < 55*time.Second {
		t.Errorf("recorded %v in total, want about a minute", total)
	}
	// No re-encoding, no duplication: the files hold the received video,
	// plus the MP4 boxes.
	ratio := float64(written) / float64(received)
	t.Logf("received %d bytes of video, wrote %d in %d segments (%+.2f%%)", received, written, len(segs), (ratio-1)*100)
	if ratio < 0.98 || ratio > 1.02 {
		t.Errorf("written/received = %.4f, want 1 ± 2%%", ratio)
	}
	cl := ffprobe.Probe(t, filepath.Join(clip.Root, filepath.FromSlash(clip.Path)))
	if cl.Duration < 29*time.Second || cl.Duration > 32*time.Second || cl.Frames == 0 || cl.Frames != cl.Packets {
		t.Errorf("clip: %v, %d of %d pictures decoded; want 10 s + the alert's 10 s + 10 s, from a key frame", cl.Duration, cl.Frames, cl.Packets)
	}

	// Every playback is in the audit log: who, camera, span.
	entries, err := st.Audit(ctx, store.AuditQuery{Action: "playback"})
	if err != nil {
		t.Fatal(err)
	}
	var span, clipPlayed bool
	for _, e := range entries {
		if e.User != "test-admin" || e.Target != "hall1" {
			continue
		}
		span = span || !strings.Contains(e.Detail, "clip")
		clipPlayed = clipPlayed || strings.Contains(e.Detail, fmt.Sprintf("alert %d clip", alertID))
	}
	if !span || !clipPlayed {
		t.Errorf("audit log lacks the playback (%v) or the clip (%v): %+v", span, clipPlayed, entries)
	}
}

// playInBrowser plays the recording from 5 s in on the playback page,
// seeks, then plays the resolved alert's clip from its card on the board,
// the alerts page and its record page, and checks the live wall marks the
// camera of an open alert (with the way to its clip).
func playInBrowser(t *testing.T, r *rig, start time.Time, alertID int64) {
	p := openPage(t, r.base)
	ctx, cancel := context.WithTimeout(p.ctx, 150*time.Second)
	defer cancel()
	p.ctx = ctx
	p.login("test-admin", "test-admin-password")
	at := start.Add(5 * time.Second).UTC().Format(time.RFC3339Nano)
	p.open("/playback.html?camera=hall1&t=" + url.QueryEscape(at))
	const video = `document.getElementById("video")`
	p.waitJS("the span to play", 30*time.Second, video+`.currentTime > 6 && `+video+`.videoWidth > 0 && window.hwPlayback.timing.shown`)
	if w := evalJS[int](ctx, t, video+".videoWidth"); w != 640 {
		t.Errorf("video width %d, want the camera's 640", w)
	}
	t.Logf("playback page: load → first picture %.0f ms", evalJS[float64](ctx, t, "window.hwPlayback.timing.shown - window.hwPlayback.timing.asked"))
	// Where the picture is, in wall time: 5 s + what has played.
	pos := evalJS[float64](ctx, t, "window.hwPlayback.play.start + "+video+".currentTime * 1000")
	if want := float64(start.Add(5*time.Second).UnixMilli()) + evalJS[float64](ctx, t, video+".currentTime*1000-"+
		"(Date.parse(new URLSearchParams(location.search).get('t'))-window.hwPlayback.play.start)"); pos-want > 1100 || want-pos > 1100 {
		t.Errorf("position %v, want %v (start of the key frame GOP)", pos, want)
	}
	// A click further on the timeline seeks inside the loaded video.
	evalJS[bool](ctx, t, `(() => { document.querySelector('.pb-zoom button[data-zoom="600"]').click(); return true; })()`)
	seekTo := start.Add(40 * time.Second).UnixMilli()
	evalJS[bool](ctx, t, fmt.Sprintf(`(() => { playAt(%d); return true; })()`, seekTo))
	p.waitJS("the seek", 20*time.Second, `window.hwPlayback.timing.seek && window.hwPlayback.timing.shown && `+
		fmt.Sprintf(`Math.abs(window.hwPlayback.play.start + %s.currentTime*1000 - %d) < 3000`, video, seekTo))
	t.Logf("playback page: seek → picture %.0f ms", evalJS[float64](ctx, t, "window.hwPlayback.timing.shown - window.hwPlayback.timing.asked"))
	evalJS[bool](ctx, t, `(() => { document.querySelector('.pb-speed button[data-rate="4"]').click(); return true; })()`)
	if rate := evalJS[float64](ctx, t, video+".playbackRate"); rate != 4 {
		t.Errorf("playback rate %v after 4×", rate)
	}
	// Step back to the alert: playback from 10 s before it.
	evalJS[bool](ctx, t, `(() => { document.querySelector('.pb-speed button[data-rate="1"]').click(); document.getElementById("prev-alert").click(); return true; })()`)
	a, err := r.svc.store.Alert(context.Background(), alertID)
	if err != nil {
		t.Fatal(err)
	}
	p.waitJS("the step to the alert", 20*time.Second, fmt.Sprintf(`Math.abs(window.hwPlayback.play.start + %s.currentTime*1000 - %d) < 3000`,
		video, a.RaisedAt.Add(-10*time.Second).UnixMilli()))
	// A download of more than an hour is refused in the page.
	evalJS[bool](ctx, t, `(() => { document.getElementById("dl-from").value = "01:00:00"; document.getElementById("dl-to").value = "02:30:00";
		document.querySelector("#download button[type=submit]").click(); return true; })()`)
	if msg := evalJS[string](ctx, t, `document.getElementById("dl-error").textContent`); msg != "一次最多下载 1 小时" {
		t.Errorf("a download of 1.5 h: the page says %q", msg)
	}
	p.shot("playback")

	// The resolved alert's clip, from its row on the board: a click plays
	// it in the page.
	const clipVideo = `document.querySelector("#clip-dialog video")`
	playClip := func(where, link string, minDur, maxDur float64) {
		t.Helper()
		path := evalJS[string](ctx, t, `location.pathname + location.search`)
		evalJS[bool](ctx, t, `(() => { document.querySelector('`+link+`').click(); return true; })()`)
		p.waitJS("the clip to play from "+where, 30*time.Second, clipVideo+` && `+clipVideo+`.currentTime > 1 && `+clipVideo+`.videoWidth > 0`)
		if d := evalJS[float64](ctx, t, clipVideo+".duration"); d < minDur || d > maxDur {
			t.Errorf("%s: the clip lasts %v s in the browser, want %v..%v", where, d, minDur, maxDur)
		}
		if u := evalJS[string](ctx, t, `location.pathname + location.search`); u != path {
			t.Errorf("%s: the clip link left the page for %s", where, u)
		}
		evalJS[bool](ctx, t, `(() => { document.getElementById("clip-dialog").close(); return true; })()`)
	}
	row := fmt.Sprintf(`#today tr[data-alert="%d"]`, alertID)
	p.open("/board.html?center=jingshan")
	p.waitJS("the resolved alert's row on the board", 20*time.Second, `document.querySelector('`+row+` a.clip-link')`)
	playClip("the board", row+` a.clip-link`, 29, 32)
	p.shot("board-clip")

	// The record page of the resolved alert plays its clip in place.
	p.open(fmt.Sprintf("/alert.html?id=%d", alertID))
	const recVideo = `document.querySelector("#clip video")`
	p.waitJS("the record page's clip", 30*time.Second, `(() => { const v = `+recVideo+`; if (v && v.paused && v.readyState > 0) v.play(); return v && v.currentTime > 1 && v.videoWidth > 0; })()`)
	if d := evalJS[float64](ctx, t, recVideo+".duration"); d < 29 || d > 32 {
		t.Errorf("record page: the clip lasts %v s, want about 30", d)
	}
	p.shot("alert-record-clip")

	// An open alert: its card on the alerts page has the way to its video
	// (from 10 s before it until now), and it marks its camera's tile (and
	// its place in the camera tree) on the live wall.
	ref, _ := r.svc.cfg.Camera("hall1")
	open, _, err := r.svc.store.RaiseAlert(context.Background(), store.AlertRecord{Kind: events.KindStorageFull, District: ref.District.ID,
		Center: ref.Center.ID, Camera: "hall1", RaisedAt: time.Now().Add(-15 * time.Second)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	card := fmt.Sprintf(`#list [data-alert="%d"]`, open.ID)
	p.open("/alerts.html")
	p.waitJS("the open alert's card", 20*time.Second, `document.querySelector('`+card+` a.clip-link')`)
	links := evalJS[map[string]string](ctx, t, `Object.fromEntries([...document.querySelectorAll('`+card+` .links a')].map((a) => [a.className, a.getAttribute("href")]))`)
	if links["live-link"] != "/?camera=hall1" || links["clip-link"] != fmt.Sprintf("/api/alerts/%d/clip.mp4", open.ID) ||
		!strings.HasPrefix(links["playback-link"], "/playback.html?camera=hall1&t=") || links["record-link"] != fmt.Sprintf("/alert.html?id=%d", open.ID) {
		t.Errorf("the alert card's links %v", links)
	}
	playClip("the alerts page", card+` a.clip-link`, 20, 40)
	resolvedRow := fmt.Sprintf(`#resolved tr[data-alert="%d"] a.clip-link`, alertID)
	if href := evalJS[string](ctx, t, `document.querySelector('`+resolvedRow+`')?.getAttribute("href") || ""`); href != fmt.Sprintf("/api/alerts/%d/clip.mp4", alertID) {
		t.Errorf("the alerts page's resolved alerts: clip link %q", href)
	}
	p.shot("alerts-clip")

	p.open("/?camera=hall1")
	p.waitJS("the alerting tile", 20*time.Second, `document.querySelector('figure.tile.alerting[data-camera="hall1"] .alertbar a.clip-link') &&
		document.querySelector('#tree button.cam.alerting[data-camera="hall1"]')`)
	if id := evalJS[string](ctx, t, `document.querySelector('figure.tile[data-camera="hall1"] .alertbar').dataset.alert`); id != fmt.Sprint(open.ID) {
		t.Errorf("the tile's alert bar shows alert %s, want the open one %d", id, open.ID)
	}
	if href := evalJS[string](ctx, t, `document.querySelector('figure.tile[data-camera="hall1"] a.tilelink').getAttribute("href")`); href != "/playback.html?camera=hall1" {
		t.Errorf("the tile's playback link %q", href)
	}
	p.shot("wall-alerting")
	p.check()
}
