package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// startMediaMTX runs the MediaMTX binary as the relay's baseline: it pulls
// the same cameras over RTSP (TCP) and serves them over WHEP on loopback,
// with every other server off. cameras maps path names to RTSP URLs.
func startMediaMTX(ctx context.Context, binary, dir string, cameras map[string]string) (*child, error) {
	httpPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	udpPort, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`logLevel: warn
logDestinations: [stdout]
api: true
apiAddress: 127.0.0.1:%d
rtsp: false
rtmp: false
hls: false
srt: false
moq: false
webrtc: true
webrtcAddress: 127.0.0.1:%d
webrtcLocalUDPAddress: 127.0.0.1:%d
webrtcLocalTCPAddress: ""
webrtcIPsFromInterfaces: false
webrtcAdditionalHosts: [127.0.0.1]
paths:
`, apiPort, httpPort, udpPort)
	for name, url := range cameras {
		conf += fmt.Sprintf("  %s:\n    source: %s\n    rtspTransport: tcp\n", name, url)
	}
	if err := os.WriteFile(filepath.Join(dir, "mediamtx.yml"), []byte(conf), 0o600); err != nil {
		return nil, err
	}
	c, err := start("MediaMTX", binary, dir, fmt.Sprintf("http://127.0.0.1:%d", httpPort), "mediamtx.yml")
	if err != nil {
		return nil, err
	}
	c.whep = func(camera string) string { return "/" + camera + "/whep" }
	api := fmt.Sprintf("http://127.0.0.1:%d/v3/paths/get/", apiPort)
	for name := range cameras {
		if err := c.waitReady(ctx, api+name, 60*time.Second); err != nil {
			c.Stop()
			return nil, err
		}
	}
	return c, nil
}

// waitReady waits until MediaMTX's API says the path has its stream.
func (c *child) waitReady(ctx context.Context, url string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-c.exited:
			c.exited <- err
			return fmt.Errorf("MediaMTX exited: %v (log: %s)", err, c.logf.Name())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		resp, err := c.http.Get(url)
		if err != nil {
			continue
		}
		var path struct {
			Ready bool `json:"ready"`
		}
		err = json.NewDecoder(resp.Body).Decode(&path)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK && path.Ready {
			return nil
		}
	}
	return fmt.Errorf("MediaMTX path %s not ready after %v (log: %s)", url, limit, c.logf.Name())
}
