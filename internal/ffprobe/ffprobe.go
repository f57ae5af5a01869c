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

// Info is what ffprobe finds in a file's video stream.
type Info struct {
	Duration time.Duration
	Frames   int // pictures decoded (-count_frames decodes every one)
	Packets  int // pictures stored
}

// Video returns an MP4's duration and the number of video frames ffprobe
// decodes in it. It skips the test when ffprobe is missing and fails it
// when ffprobe rejects the file.
func Video(tb testing.TB, path string) (time.Duration, int) {
	tb.Helper()
	in := Probe(tb, path)
	return in.Duration, in.Frames
}

// Probe is Video with the number of stored pictures too: Frames equal to
// Packets means every picture of the file decodes.
func Probe(tb testing.TB, path string) Info {
	tb.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		tb.Skip("ffprobe not installed: apt-get install ffmpeg")
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-count_packets", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames,nb_read_packets:format=duration", "-of", "default=noprint_wrappers=1", path).CombinedOutput()
	if err != nil {
		tb.Fatalf("ffprobe %s: %v: %s", path, err, out)
	}
	in := Info{Frames: -1}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "duration":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("ffprobe %s: duration %q", path, v)
			}
			in.Duration = time.Duration(f * float64(time.Second))
		case "nb_read_frames":
			in.Frames, _ = strconv.Atoi(v)
		case "nb_read_packets":
			in.Packets, _ = strconv.Atoi(v)
		}
	}
	if in.Frames < 0 {
		tb.Fatalf("ffprobe %s: no frame count in %q", path, out)
	}
	return in
}
