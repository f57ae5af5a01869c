package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/internal/leakcheck"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// Soak bounds: cycles of camera restart + viewers, and how much the heap
// may differ from the baseline after them.
const (
	soakCycles        = 6
	soakViewers       = 3
	soakHeapTolerance = 8 << 20
)

// TestSoakRestartCamerasAndViewers restarts the camera and its viewers
// again and again against one running service, and checks that
// goroutines and the heap come back to where they were after the first
// cycle: nothing per connection, session or stream is left behind.
func TestSoakRestartCamerasAndViewers(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: skipped in -short mode")
	}
	addr := freeTCPAddr(t)
	spec := demo.CameraSpec{ID: "hall1", Scene: demo.SceneOptions{Seed: 1, Width: 320, Height: 180, FPS: 10},
		GOP: time.Second, BitrateKbps: 300, Replay: 2 * time.Second}
	r := startService(t, `
ingest:
  backoff_min: 100ms
  backoff_max: 500ms
`, fmt.Sprintf(`
          - id: hall1
            name: 大厅一
            url: rtsp://%s/hall1
            transport: tcp
`, addr))

	var baseGoroutines int
	var baseHeap uint64
	for cycle := range soakCycles {
		r.soakCycle(t, addr, spec, cycle)
		if cycle == 0 {
			// After one cycle every lazily made pool and cache exists.
			baseGoroutines, baseHeap = leakcheck.Count(), heapAfterGC()
		}
	}
	leakcheck.Wait(t, baseGoroutines)
	if heap := heapAfterGC(); heap > baseHeap+soakHeapTolerance {
		t.Errorf("heap after %d cycles is %d KiB, after the first %d KiB (tolerance %d KiB)",
			soakCycles, heap>>10, baseHeap>>10, soakHeapTolerance>>10)
	}
}

// soakCycle starts the camera, plays it to a few viewers, then hangs up
// and stops the camera, and waits until the service has let go of both.
func (r *rig) soakCycle(t *testing.T, addr string, spec demo.CameraSpec, cycle int) {
	t.Helper()
	cam, err := demo.NewCamera(demo.CameraOptions{Addr: addr, Cameras: []demo.CameraSpec{spec},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("cycle %d: camera: %v", cycle, err)
	}
	ctx, stopCam := context.WithCancel(context.Background())
	camDone := make(chan error, 1)
	go func() { camDone <- cam.Run(ctx) }()
	defer func() {
		stopCam()
		if err := <-camDone; err != nil {
			t.Errorf("cycle %d: camera: %v", cycle, err)
		}
		waitFor(t, "camera offline", 20*time.Second, func() bool { return r.cameraState(t, "hall1")["state"] != "live" })
	}()
	waitFor(t, "camera live", 20*time.Second, func() bool { return r.cameraState(t, "hall1")["state"] == "live" })

	var viewers []*whepclient.Client
	var locations []string
	for range soakViewers {
		var loc string
		v, err := whepclient.Connect(context.Background(), whepclient.HTTP(http.DefaultClient, r.base+"/whep/hall1", r.admin, &loc), whepclient.Options{})
		if err != nil {
			t.Fatalf("cycle %d: viewer: %v", cycle, err)
		}
		viewers = append(viewers, v)
		locations = append(locations, loc)
	}
	for i, v := range viewers {
		for n := 0; n < 5; n++ { // a key frame, then live frames
			select {
			case u := <-v.Units():
				if n == 0 && !u.Key {
					t.Fatalf("cycle %d: viewer %d: first unit is not a key frame", cycle, i)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("cycle %d: viewer %d got %d units", cycle, i, n)
			}
		}
	}
	// Half hang up with DELETE, the others just vanish (the service
	// notices when ICE/DTLS closes).
	for i, v := range viewers {
		if i%2 == 0 {
			req, _ := http.NewRequest(http.MethodDelete, r.base+locations[i], nil)
			req.Header = r.admin.Clone()
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		v.Close()
	}
	waitFor(t, "viewer sessions ended", 30*time.Second, func() bool { return r.svc.viewers.Count() == 0 })
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC() // the second also frees what the first's finalizers released
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func freeTCPAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
