package avcodec

// #include "ffmpeg.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// EncoderOptions configures an encoder: H.264 through libx264 (default)
// or H.265 through libx265, both inside libavcodec.
type EncoderOptions struct {
	Codec         string // CodecH264 (default) or CodecH265
	Width, Height int    // even, required
	FPS           int    // default 15
	GOP           int    // frames from one IDR to the next, default 2*FPS
	BitrateKbps   int    // default 1500
	// Profile is, for H.264, "baseline" (default: Constrained Baseline,
	// which every browser decodes), "main" or "high"; H.265 is Main.
	Profile string
	// Preset is the x264/x265 speed preset, default "veryfast".
	Preset  string
	Threads int // default 1
}

// Encoder turns BGR pictures into H.264 or H.265 access units: no
// B-frames, zero latency, parameter sets repeated before every IDR.
type Encoder struct {
	opts EncoderOptions
	ctx  *C.AVCodecContext
	bgr  *C.AVFrame
	yuv  *C.AVFrame
	pkt  *C.AVPacket
	sws  *C.struct_SwsContext
}

func (o *EncoderOptions) setDefaults() error {
	switch o.Codec {
	case "", CodecH264:
		o.Codec = CodecH264
	case CodecH265:
	default:
		return errorf("encoder codec %q: want %s or %s", o.Codec, CodecH264, CodecH265)
	}
	if o.Width < 16 || o.Height < 16 || o.Width%2 != 0 || o.Height%2 != 0 || o.Width > 8192 || o.Height > 8192 {
		return errorf("encoder size %dx%d: width and height must be even, 16..8192", o.Width, o.Height)
	}
	if o.FPS == 0 {
		o.FPS = 15
	}
	if o.FPS < 1 || o.FPS > 240 {
		return errorf("encoder FPS %d out of range 1..240", o.FPS)
	}
	if o.GOP == 0 {
		o.GOP = 2 * o.FPS
	}
	if o.GOP < 1 {
		return errorf("encoder GOP %d must be positive", o.GOP)
	}
	if o.BitrateKbps == 0 {
		o.BitrateKbps = 1500
	}
	if o.BitrateKbps < 16 || o.BitrateKbps > 200_000 {
		return errorf("encoder bitrate %d kbit/s out of range 16..200000", o.BitrateKbps)
	}
	switch {
	case o.Codec == CodecH265:
		if o.Profile != "" && o.Profile != "main" {
			return errorf("H.265 encoder profile %q: only main", o.Profile)
		}
		o.Profile = "main"
	case o.Profile == "" || o.Profile == "baseline" || o.Profile == "constrained_baseline":
		o.Profile = "baseline" // x264's baseline sets constraint_set1: Constrained Baseline
	case o.Profile == "main" || o.Profile == "high":
	default:
		return errorf("encoder profile %q: want baseline, main or high", o.Profile)
	}
	if o.Preset == "" {
		o.Preset = "veryfast"
	}
	if o.Threads == 0 {
		o.Threads = 1
	}
	if o.Threads < 1 {
		return errorf("encoder threads %d must be positive", o.Threads)
	}
	return nil
}

// NewEncoder opens an encoder.
func NewEncoder(opts EncoderOptions) (*Encoder, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	quietFFmpeg()
	lib := map[string]string{CodecH264: "libx264", CodecH265: "libx265"}[opts.Codec]
	name := C.CString(lib)
	c := C.avcodec_find_encoder_by_name(name)
	C.free(unsafe.Pointer(name))
	if c == nil {
		return nil, errorf("FFmpeg was built without %s", lib)
	}
	e := &Encoder{opts: opts}
	e.ctx = C.avcodec_alloc_context3(c)
	e.bgr = C.av_frame_alloc()
	e.yuv = C.av_frame_alloc()
	e.pkt = C.av_packet_alloc()
	if e.ctx == nil || e.bgr == nil || e.yuv == nil || e.pkt == nil {
		e.Close()
		return nil, errorf("out of memory opening %s encoder", opts.Codec)
	}
	w, h := C.int(opts.Width), C.int(opts.Height)
	e.ctx.width, e.ctx.height = w, h
	e.ctx.pix_fmt = C.AV_PIX_FMT_YUV420P
	e.ctx.time_base = C.AVRational{num: 1, den: C.int(opts.FPS)}
	e.ctx.framerate = C.AVRational{num: C.int(opts.FPS), den: 1}
	e.ctx.gop_size = C.int(opts.GOP)
	e.ctx.max_b_frames = 0
	e.ctx.thread_count = C.int(opts.Threads)
	bitrate := C.int64_t(opts.BitrateKbps) * 1000
	e.ctx.bit_rate = bitrate
	e.ctx.rc_max_rate = bitrate
	e.ctx.rc_buffer_size = C.int(bitrate) // one second of VBV keeps the rate steady for RTP
	// A fixed GOP (no scene-cut IDRs), in-band parameter sets at every
	// IDR (a viewer or analyser can join at any key frame), and a forced
	// key frame (Transcoder) is an IDR.
	params := [][2]string{
		{"preset", opts.Preset},
		{"tune", "zerolatency"},
		{"profile", opts.Profile},
		{"forced-idr", "1"},
		{"x264-params", "scenecut=0:repeat-headers=1"},
	}
	if opts.Codec == CodecH265 {
		params[4] = [2]string{"x265-params", fmt.Sprintf("scenecut=0:repeat-headers=1:bframes=0:keyint=%d:min-keyint=%d:log-level=none", opts.GOP, opts.GOP)}
	}
	for _, kv := range params {
		if err := e.setOpt(kv[0], kv[1]); err != nil {
			e.Close()
			return nil, err
		}
	}
	if res := C.avcodec_open2(e.ctx, c, nil); res < 0 {
		e.Close()
		return nil, errorf("opening %s (%dx%d, preset %s, profile %s): %s",
			lib, opts.Width, opts.Height, opts.Preset, opts.Profile, averror(res))
	}
	if res := C.hw_alloc_frame(e.bgr, C.AV_PIX_FMT_BGR24, w, h); res < 0 {
		e.Close()
		return nil, errorf("allocating BGR frame: %s", averror(res))
	}
	if res := C.hw_alloc_frame(e.yuv, C.AV_PIX_FMT_YUV420P, w, h); res < 0 {
		e.Close()
		return nil, errorf("allocating YUV frame: %s", averror(res))
	}
	e.sws = C.sws_getContext(w, h, C.AV_PIX_FMT_BGR24, w, h, C.AV_PIX_FMT_YUV420P, C.SWS_BILINEAR, nil, nil, nil)
	if e.sws == nil {
		e.Close()
		return nil, errorf("no BGR to YUV420P conversion at %dx%d", opts.Width, opts.Height)
	}
	return e, nil
}

func (e *Encoder) setOpt(key, val string) error {
	k, v := C.CString(key), C.CString(val)
	defer C.free(unsafe.Pointer(k))
	defer C.free(unsafe.Pointer(v))
	if res := C.hw_set_opt(e.ctx, k, v); res < 0 {
		return errorf("%s encoder option %s=%q: %s", e.opts.Codec, key, val, averror(res))
	}
	return nil
}

// Encode compresses one BGR picture of the configured size. pts counts
// frames (time base 1/FPS) and must increase. It returns the access unit's
// NAL units without start codes, in memory owned by the caller, and whether
// it is an IDR; with zero latency every picture yields one access unit.
func (e *Encoder) Encode(img *Image, pts int64) ([][]byte, bool, error) {
	if e.ctx == nil {
		return nil, false, errorf("encoder is closed")
	}
	if err := img.check(e.opts.Width, e.opts.Height); err != nil {
		return nil, false, errorf("encode: %v", err)
	}
	if res := C.av_frame_make_writable(e.yuv); res < 0 {
		return nil, false, errorf("encode: %s", averror(res))
	}
	rowBytes := 3 * img.Width
	dstStride := int(e.bgr.linesize[0])
	dst := cBytes(e.bgr.data[0], dstStride*(img.Height-1)+rowBytes)
	for y := range img.Height {
		copy(dst[y*dstStride:y*dstStride+rowBytes], img.Data[y*img.Stride:])
	}
	if res := C.hw_scale(e.sws, e.bgr, e.yuv); res < 0 {
		return nil, false, errorf("converting BGR to YUV420P: %s", averror(res))
	}
	return e.encodeFrame(e.yuv, pts, false)
}

// encodeFrame compresses a YUV 4:2:0 frame of the configured size; with
// key it is coded as an IDR.
func (e *Encoder) encodeFrame(f *C.AVFrame, pts int64, key bool) ([][]byte, bool, error) {
	f.pts = C.int64_t(pts)
	f.pict_type = C.AV_PICTURE_TYPE_NONE
	if key {
		f.pict_type = C.AV_PICTURE_TYPE_I
	}
	if res := C.avcodec_send_frame(e.ctx, f); res < 0 {
		return nil, false, errorf("encoding frame pts %d: %s", pts, averror(res))
	}
	var nalus [][]byte
	isKey := false
	for {
		res := C.avcodec_receive_packet(e.ctx, e.pkt)
		if res == C.HW_EAGAIN {
			return nalus, isKey, nil
		}
		if res < 0 {
			return nil, false, errorf("encoding frame pts %d: %s", pts, averror(res))
		}
		data := C.GoBytes(unsafe.Pointer(e.pkt.data), e.pkt.size)
		isKey = isKey || e.pkt.flags&C.AV_PKT_FLAG_KEY != 0
		C.av_packet_unref(e.pkt)
		nalus = append(nalus, splitAnnexB(data)...)
	}
}

// Close frees the encoder; it is safe to call more than once.
func (e *Encoder) Close() {
	if e.sws != nil {
		C.sws_freeContext(e.sws)
		e.sws = nil
	}
	C.av_packet_free(&e.pkt)
	C.av_frame_free(&e.yuv)
	C.av_frame_free(&e.bgr)
	C.avcodec_free_context(&e.ctx)
}
