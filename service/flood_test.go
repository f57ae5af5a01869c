package service

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/internal/floodtest"
	"github.com/hallwatch/hallwatch/internal/testcam"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// floodCamera is the cameras section for one GStreamer camera.
func floodCamera(url string) string {
	return fmt.Sprintf(`
          - id: hall1
            name: 大厅一
            url: %s
            transport: tcp
`, url)
}

// watchCounting plays hall1 at base with a real WebRTC peer and counts
// the access units it receives.
func watchCounting(t *testing.T, base string, header http.Header) *atomic.Int64 {
	t.Helper()
	viewer, err := whepclient.Connect(context.Background(), whepclient.HTTP(http.DefaultClient, base+"/whep/hall1", header, nil), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viewer.Close() })
	var units atomic.Int64
	go func() {
		for range viewer.Units() {
			units.Add(1)
		}
	}()
	waitFor(t, "video", 20*time.Second, func() bool { return units.Load() > 0 })
	return &units
}

// moreUnits waits for n more access units (15 fps: 45 ≈ 3 s of video).
func moreUnits(t *testing.T, units *atomic.Int64, n int64, when string) {
	t.Helper()
	from := units.Load()
	waitFor(t, "video "+when, 30*time.Second, func() bool { return units.Load() >= from+n })
}

// busyAnswer reports whether the server answered c with a 503 at once.
func busyAnswer(c net.Conn, wait time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(wait))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "HTTP/1.1 503 Service Unavailable\r\n"
}

// TestFloodKeepsVideoGoing floods the web server with connections that
// never finish their request, from eight loopback addresses, while a real
// WebRTC viewer watches a GStreamer camera: the caps (a small
// http.max_connections here) answer the flood with a 503 at once, the
// viewer keeps receiving video, the camera stays live, and the server
// answers again once the flood stops.
func TestFloodKeepsVideoGoing(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{Width: 320, Height: 240, FPS: 15, GOP: 30})
	r := runService(t, serviceConfig(t, "", floodCamera(cam.URL()),
		[]string{"HALLWATCH_HTTP_MAX_CONNECTIONS=64", "HALLWATCH_HTTP_MAX_CONNECTIONS_PER_ADDRESS=16"}))
	waitFor(t, "camera live", 20*time.Second, func() bool { return r.cameraState(t, "hall1")["state"] == "live" })
	units := watchCounting(t, r.base, r.admin)

	flood := floodtest.Flood(t, r.svc.Addr().String(), 480)
	refused := 0
	for _, c := range flood {
		if busyAnswer(c, 50*time.Millisecond) {
			refused++
		}
	}
	t.Logf("flood: %d connections, %d answered 503 at once", len(flood), refused)
	if refused < len(flood)-64 {
		t.Errorf("%d of %d flood connections refused; the cap is 64", refused, len(flood))
	}
	moreUnits(t, units, 45, "during the flood")
	// Every place is taken: a newcomer is answered at once, before it asks.
	c, err := net.Dial("tcp", r.svc.Addr().String())
	if err != nil || !busyAnswer(c, 10*time.Second) {
		t.Errorf("a connection during the flood was not answered 503 (%v)", err)
	}
	if c != nil {
		c.Close()
	}

	for _, c := range flood {
		c.Close()
	}
	waitFor(t, "the server to answer after the flood", 30*time.Second, func() bool { return floodtest.Healthy(r.base) })
	if st := r.cameraState(t, "hall1"); st["state"] != "live" {
		t.Errorf("camera after the flood: %v", st)
	}
	moreUnits(t, units, 15, "after the flood")
}

// TestFileExhaustionKeepsVideoGoing runs hallwatch in a child process
// with a low open-file limit and floods it until accepting connections
// fails (EMFILE), as 20,000 slow requests did to a default limit: the web
// server used to stop, and with it — one errgroup — ingest and the relay.
// The viewer must keep receiving video throughout, and the server answer
// again once the flood's connections close.
func TestFileExhaustionKeepsVideoGoing(t *testing.T) {
	if floodtest.IsChild(t.Name()) {
		exhaustedService(t)
		return
	}
	cam := testcam.Start(t, testcam.Options{Width: 320, Height: 240, FPS: 15, GOP: 30})
	child := floodtest.Start(t, "HALLWATCH_TEST_CAMERA="+cam.URL())
	addr := child.Await("ADDR")
	header := http.Header{"Authorization": {child.Await("AUTH")}}
	units := watchCounting(t, "http://"+addr, header)
	child.Tell("WATCHING")
	t.Logf("child: %s", child.Await("LIMITED"))
	flood := floodtest.Flood(t, addr, 400)
	child.Tell("FLOODED")
	t.Logf("flood: %d connections; child: %s", len(flood), child.Await("EXHAUSTED"))
	moreUnits(t, units, 45, "while the server is out of descriptors")
	for _, c := range flood {
		c.Close()
	}
	child.Tell("CLOSED")
	t.Logf("child: %s", child.Await("RECOVERED"))
	moreUnits(t, units, 15, "after the flood")
	child.Tell("DONE")
	child.Wait()
}

// exhaustedService is the child: hallwatch with the parent's camera.
func exhaustedService(t *testing.T) {
	r := runService(t, serviceConfig(t, "", floodCamera(os.Getenv("HALLWATCH_TEST_CAMERA")), nil))
	waitFor(t, "camera live", 20*time.Second, func() bool { return r.cameraState(t, "hall1")["state"] == "live" })
	http.DefaultClient.CloseIdleConnections()
	floodtest.Say("ADDR", r.svc.Addr().String())
	floodtest.Say("AUTH", r.admin.Get("Authorization"))
	floodtest.Hear(t, "WATCHING")
	floodtest.Say("LIMITED", "open-file limit", floodtest.LowerFileLimit(t, 40))
	floodtest.Hear(t, "FLOODED")
	waitFor(t, "the process to run out of descriptors", 30*time.Second, func() bool { stillRunning(t, r); return floodtest.OutOfFiles() })
	floodtest.Say("EXHAUSTED", "out of descriptors")
	floodtest.Hear(t, "CLOSED")
	waitFor(t, "the server to answer after the flood", 30*time.Second, func() bool { return floodtest.Healthy(r.base) })
	stillRunning(t, r)
	if st := r.cameraState(t, "hall1"); st["state"] != "live" || !strings.Contains(fmt.Sprint(st), "live") {
		t.Errorf("camera after the flood: %v", st)
	}
	floodtest.Say("RECOVERED", "answering, camera live")
	floodtest.Hear(t, "DONE")
}
