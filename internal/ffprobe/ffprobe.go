// Package ffprobe checks media files in tests with Debian's ffprobe (a
// reader hallwatch did not write): duration and decodable frames.
package ffprobe

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Video returns an MP4's duration and the number of video frames ffprobe
// decodes in it (-count_frames decodes every one). It skips the test when
// ffprobe is missing and fails it when ffprobe rejects the file.
func Video(tb testing.TB, path string) (time.Duration, int) {
	tb.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		tb.Skip("ffprobe not installed: apt-get install ffmpeg")
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames:format=duration", "-of", "default=noprint_wrappers=1", path).CombinedOutput()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	var dur time.Duration
	frames := -1
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "duration":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("ffprobe %s: duration %q", path, v)
			}
			dur = time.Duration(f * float64(time.Second))
		case "nb_read_frames":
			frames, _ = strconv.Atoi(v)
		}
	}
	if frames < 0 {
		tb.Fatalf("ffprobe %s: no frame count in %q", path, out)
	}
	return dur, frames
}
