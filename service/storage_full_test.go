package service

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/internal/ffprobe"
	"github.com/hallwatch/hallwatch/internal/testcam"
	"github.com/hallwatch/hallwatch/internal/whepclient"
	"github.com/hallwatch/hallwatch/record"
	"github.com/hallwatch/hallwatch/store"
)

// TestRecordingStopsOnFullDiskAndResumes records onto a small tmpfs that
// fills up: recording stops with a storage_full alert and a clear status,
// live view and analysis go on, what was recorded stays playable, and
// recording resumes by itself once space is freed. With min_free the
// floor stops it; with none, a write failing with ENOSPC does (and the
// torn fragment is cut off).
func TestRecordingStopsOnFullDiskAndResumes(t *testing.T) {
	for _, minFree := range []string{"1MiB", "0B"} {
		t.Run("min_free="+minFree, func(t *testing.T) { fullDisk(t, minFree) })
	}
}

func fullDisk(t *testing.T, minFree string) {
	mnt := filepath.Join(t.TempDir(), "rec")
	if err := os.Mkdir(mnt, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs for the full disk (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	filler := filepath.Join(mnt, "filler")
	if err := os.WriteFile(filler, make([]byte, 5<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	cam := testcam.Start(t, testcam.Options{Width: 320, Height: 240, FPS: 15, GOP: 15, BitrateKbps: 2000, Pattern: "snow"})
	r := startService(t, fmt.Sprintf("record:\n  path: %s\n  segment: 10s\n  min_free: %s\n", mnt, minFree), fmt.Sprintf(`
          - id: hall1
            name: 大厅一
            url: %s
            analytics:
              lines:
                - id: door
                  a: [0.5, 0.1]
                  b: [0.5, 0.9]
                  inside: [0.8, 0.5]
`, cam.URL()))
	hall1, _ := r.svc.camera("hall1")
	rec := hall1.rec
	waitFor(t, "recording", 30*time.Second, func() bool { return rec.Status().State == record.StateRecording })
	waitFor(t, "the disk to fill", 90*time.Second, func() bool { return rec.Status().State == record.StateStorageFull })
	full := rec.Status()
	want := "below record.min_free"
	if minFree == "0B" {
		want = "writing failed: no space left on device"
	}
	if !strings.Contains(full.Error, want) {
		t.Errorf("storage_full reason %q, want one saying %q", full.Error, want)
	}

	// The alert, and the status the pages show.
	var open struct {
		Alerts []struct {
			ID     int64  `json:"id"`
			Kind   string `json:"kind"`
			Camera string `json:"camera"`
		} `json:"alerts"`
	}
	// The camera shows snow, which may also raise camera_blocked: only
	// storage_full alerts count here.
	storageFull := func() int {
		r.getJSON(t, "/api/alerts?open=true", &open)
		n := 0
		for _, a := range open.Alerts {
			if a.Kind == "storage_full" && a.Camera == "hall1" {
				n++
			}
		}
		return n
	}
	waitFor(t, "a storage_full alert", 10*time.Second, func() bool { return storageFull() == 1 })
	var cams struct {
		Districts []struct {
			Centers []struct {
				Cameras []struct {
					Recording struct{ State, Error string } `json:"recording"`
				} `json:"cameras"`
			} `json:"centers"`
		} `json:"districts"`
	}
	r.getJSON(t, "/api/cameras", &cams)
	if got := cams.Districts[0].Centers[0].Cameras[0].Recording; got.State != "storage_full" || got.Error == "" {
		t.Errorf("camera status shows recording %+v", got)
	}

	// Live view and analysis go on.
	analysed := r.svc.cameras["hall1"].analysis.Status().Analysed
	var loc string
	v, err := whepclient.Connect(context.Background(), whepclient.HTTP(http.DefaultClient, r.base+"/whep/hall1", r.admin, &loc), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	v.Wait(t, 30, 20*time.Second)
	v.Close()
	waitFor(t, "analysis to go on", 20*time.Second, func() bool { return r.svc.cameras["hall1"].analysis.Status().Analysed > analysed+5 })

	// What was recorded before the disk filled plays.
	ctx := context.Background()
	segs, err := r.svc.store.Segments(ctx, store.SegmentQuery{Camera: "hall1"})
	if err != nil || len(segs) == 0 {
		t.Fatalf("segments: %v, %v", segs, err)
	}
	for _, sg := range segs {
		if !sg.Closed {
			t.Errorf("segment %s still open while the disk is full", sg.Path)
			continue
		}
		if _, frames := ffprobe.Video(t, filepath.Join(sg.Root, filepath.FromSlash(sg.Path))); frames == 0 {
			t.Errorf("segment %s: no frames", sg.Path)
		}
	}

	// Space returns: recording resumes and the alert resolves.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "recording to resume", 60*time.Second, func() bool { return rec.Status().State == record.StateRecording })
	waitFor(t, "the alert to resolve", 10*time.Second, func() bool { return storageFull() == 0 })
	waitFor(t, "a new segment", 30*time.Second, func() bool {
		now, _ := r.svc.store.Segments(ctx, store.SegmentQuery{Camera: "hall1"})
		return len(now) > len(segs)
	})
}
