package main

import (
	"strings"
	"testing"

	"github.com/hallwatch/hallwatch/config"
)

// TestChangedYAMLKeepsOnlyWhatTheBenchSets: the configuration a child
// reads names only the keys the bench changed (an older build, --compare,
// rejects keys it does not know) and still means the same.
func TestChangedYAMLKeepsOnlyWhatTheBenchSets(t *testing.T) {
	cfg, err := newConfig(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Districts = []config.District{{ID: "bench", Name: "bench", Centers: []config.Center{{ID: "relay", Name: "relay",
		Cameras: []config.Camera{{ID: "relay", Name: "relay", URL: "rtsp://127.0.0.1:8554/relay", Transport: "tcp"}}}}}}
	data, err := changedYAML(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, absent := range []string{"max_transcodes", "retention", "detector", "include_loopback"} {
		if strings.Contains(text, absent) {
			t.Errorf("%s written though it is the default:\n%s", absent, text)
		}
	}
	back, err := config.Parse("bench.yaml", data, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if back.HTTP.Listen != cfg.HTTP.Listen || back.WebRTC.UDPPort != cfg.WebRTC.UDPPort || back.WebRTC.TCPPort != 0 ||
		len(back.Cameras()) != 1 || back.Cameras()[0].Camera.URL != "rtsp://127.0.0.1:8554/relay" || back.WebRTC.MaxTranscodes != 2 {
		t.Errorf("read back %+v from:\n%s", back, text)
	}
}
