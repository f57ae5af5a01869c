// Package avcodec wraps FFmpeg (libavcodec, libswscale) for what hallwatch
// needs: decoding H.264/H.265 access units to packed BGR pictures for
// analysis, and encoding BGR pictures to H.264 for the built-in demo camera.
//
// Decoders and encoders are not safe for concurrent use; give each goroutine
// its own.
package avcodec

/*
#cgo pkg-config: libavcodec libavutil libswscale
#include "ffmpeg.h"
*/
import "C"

import (
	"fmt"
	"sync"
	"unsafe"
)

// Image is a packed 8-bit BGR picture: pixel (x, y) starts at
// Data[y*Stride+3*x].
type Image struct {
	Width, Height, Stride int
	Data                  []byte
}

// NewImage returns a zeroed w×h image with rows packed tightly.
func NewImage(w, h int) *Image {
	return &Image{Width: w, Height: h, Stride: 3 * w, Data: make([]byte, 3*w*h)}
}

// check reports why img cannot be read as a w×h picture, or nil.
func (img *Image) check(w, h int) error {
	switch {
	case img == nil:
		return fmt.Errorf("image is nil")
	case img.Width != w || img.Height != h:
		return fmt.Errorf("image is %dx%d, want %dx%d", img.Width, img.Height, w, h)
	case img.Stride < 3*img.Width:
		return fmt.Errorf("image stride %d is less than 3*width (%d)", img.Stride, 3*img.Width)
	case len(img.Data) < img.Stride*(img.Height-1)+3*img.Width:
		return fmt.Errorf("image data holds %d bytes, a %dx%d picture with stride %d needs %d",
			len(img.Data), img.Width, img.Height, img.Stride, img.Stride*(img.Height-1)+3*img.Width)
	}
	return nil
}

// quietOnce silences FFmpeg's own stderr logging, process-wide: every
// failure is returned to the caller as an error, and a corrupt camera stream
// would otherwise print several lines per frame.
var quietOnce sync.Once

func quietFFmpeg() { quietOnce.Do(func() { C.hw_quiet_ffmpeg() }) }

// Codec names accepted by NewDecoder (the same spelling as ingest.Codec).
const (
	CodecH264 = "H264"
	CodecH265 = "H265"
)

func errorf(format string, args ...any) error {
	return fmt.Errorf("avcodec: "+format, args...)
}

// averror renders an FFmpeg error code.
func averror(code C.int) string {
	var buf [C.AV_ERROR_MAX_STRING_SIZE]C.char
	if C.av_strerror(code, &buf[0], C.size_t(len(buf))) < 0 {
		return fmt.Sprintf("error %d", int(code))
	}
	return C.GoString(&buf[0])
}

// cBytes views n bytes of C memory as a slice; it must not outlive that memory.
func cBytes(p *C.uint8_t, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), n)
}
