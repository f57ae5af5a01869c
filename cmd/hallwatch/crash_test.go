package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/internal/ffprobe"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/internal/testcam"
	"github.com/hallwatch/hallwatch/store"
)

// TestMain lets a test start this very binary as `hallwatch`: with
// HALLWATCH_TEST_MAIN=1 it runs main instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("HALLWATCH_TEST_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// child is `hallwatch serve` running as a process of its own.
type child struct {
	cmd  *exec.Cmd
	logs *syncbuf.Buffer
	done chan error
}

func startServe(t *testing.T, cfg string) *child {
	t.Helper()
	c := &child{logs: &syncbuf.Buffer{}, done: make(chan error, 1)}
	c.cmd = exec.Command(os.Args[0], "serve", "--config", cfg)
	c.cmd.Env = append(os.Environ(), "HALLWATCH_TEST_MAIN=1")
	c.cmd.Stdout, c.cmd.Stderr = c.logs, c.logs
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	t.Cleanup(func() { c.cmd.Process.Kill(); <-c.done; c.done <- nil })
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(c.logs.String(), "hallwatch serving"); {
		select {
		case err := <-c.done:
			t.Fatalf("hallwatch serve exited: %v\n%s", err, c.logs)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("hallwatch serve did not start:\n%s", c.logs)
		}
	}
	return c
}

// mp4s lists the segment files under dir.
func mp4s(t *testing.T, dir string) []string {
	var out []string
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.HasSuffix(p, ".mp4") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestKillDuringRecording kills `hallwatch serve` with SIGKILL while it
// records, restarts it, and checks that every fragment completed before
// the kill plays: the segment being written is recovered, not lost.
func TestKillDuringRecording(t *testing.T) {
	cam := testcam.Start(t, testcam.Options{Width: 320, Height: 240, FPS: 15, GOP: 15, BitrateKbps: 400})
	dir := t.TempDir()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	udp.Close()
	db, rec := filepath.Join(dir, "hw.db"), filepath.Join(dir, "rec")
	cfg := filepath.Join(dir, "hw.yaml")
	yaml := fmt.Sprintf(`http:
  listen: 127.0.0.1:0
webrtc:
  udp_port: %d
  tcp_port: 0
  interfaces: [lo]
storage:
  path: %s
record:
  path: %s
  segment: 10s
  min_free: 1MiB
districts:
  - id: d1
    name: One
    centers:
      - id: c1
        name: Center One
        cameras:
          - id: cam1
            name: Hall
            url: %s
`, port, db, rec, cam.URL())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := startServe(t, cfg)
	// Two closed segments and a third some seconds along.
	for deadline := time.Now().Add(90 * time.Second); len(mp4s(t, rec)) < 3; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no third segment after 90 s; files %v\n%s", mp4s(t, rec), serve.logs)
		}
	}
	time.Sleep(5 * time.Second)
	killed := time.Now()
	if err := serve.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-serve.done
	serve.done <- nil

	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	before, err := st.Segments(ctx, store.SegmentQuery{Camera: "cam1"})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	open := before[len(before)-1]
	if open.Closed {
		t.Fatalf("the last segment is closed after SIGKILL: %+v", open)
	}

	// Restart: recovery closes the segment, recording goes on.
	again := startServe(t, cfg)
	for deadline := time.Now().Add(60 * time.Second); len(mp4s(t, rec)) <= len(before); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no new segment after the restart\n%s", again.logs)
		}
	}
	again.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-again.done; err != nil {
		t.Fatalf("hallwatch serve: %v\n%s", err, again.logs)
	}
	again.done <- nil

	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	after, err := st.Segments(ctx, store.SegmentQuery{Camera: "cam1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) <= len(before) {
		t.Fatalf("%d segments after the restart, %d before", len(after), len(before))
	}
	for _, sg := range after {
		p := filepath.Join(sg.Root, filepath.FromSlash(sg.Path))
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		dur, frames := ffprobe.Video(t, p)
		indexed := sg.End.Sub(sg.Start)
		if !sg.Closed || fi.Size() != sg.Bytes || frames == 0 || (dur-indexed).Abs() > 100*time.Millisecond {
			t.Errorf("segment %s: closed %v, %d bytes (index %d), ffprobe %v and %d frames, index %v",
				sg.Path, sg.Closed, fi.Size(), sg.Bytes, dur, frames, indexed)
		}
		if sg.ID == open.ID {
			// What the kill lost: the GOP in memory (and what the
			// recorder had not taken from its queue yet).
			t.Logf("crashed segment: index said %v, recovered %v of video; %v lost before the kill",
				open.End.Sub(open.Start).Round(time.Millisecond), indexed.Round(time.Millisecond), killed.Sub(sg.End).Round(time.Millisecond))
			if !sg.End.After(open.End) {
				t.Errorf("recovery found nothing beyond the index's %v: the file was not scanned", open.End)
			}
		}
	}
}
