package analytics

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// Detection is one person found in a frame.
type Detection struct {
	Box   image.Rectangle // pixels, clipped to the frame
	Score float32         // 0..1; motion blobs report 1
	// Appearance is filled by the Analyzer from the frame; detectors leave it nil.
	Appearance Appearance
}

// Detector finds people in decoded BGR frames. Implementations are not safe
// for concurrent use: each camera owns one.
type Detector interface {
	Detect(frame gocv.Mat) ([]Detection, error)
	Close() error
}

// checkFrame rejects frames OpenCV would abort on.
func checkFrame(frame gocv.Mat) error {
	if frame.Empty() {
		return fmt.Errorf("empty frame")
	}
	if frame.Type() != gocv.MatTypeCV8UC3 {
		return fmt.Errorf("frame type %v: want 8-bit BGR (CV_8UC3)", frame.Type())
	}
	return nil
}

// clipRect returns r limited to a w x h image.
func clipRect(r image.Rectangle, w, h int) image.Rectangle {
	return r.Intersect(image.Rect(0, 0, w, h))
}
