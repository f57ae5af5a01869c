package avcodec

// #include "ffmpeg.h"
import "C"

import (
	"strings"
)

var startCode = []byte{0, 0, 0, 1}

const (
	// maxAccessUnit bounds one access unit; a larger one is a broken stream.
	maxAccessUnit = 32 << 20
	// maxPending bounds the non-picture units kept for the next access unit.
	maxPending = 16
)

// Decoder turns H.264 or H.265 access units into BGR pictures.
type Decoder struct {
	codec    string
	ctx      *C.AVCodecContext
	pkt      *C.AVPacket
	recv     *C.AVFrame // scratch for avcodec_receive_frame
	last     *C.AVFrame // the newest picture, converted by Frame
	small    *C.AVFrame // the picture scaled to the output size, before conversion
	bgr      *C.AVFrame
	swsSmall *C.struct_SwsContext
	sws      *C.struct_SwsContext
	havePic  bool
	waitKey  bool // report pictures only from the next key frame on
	outWidth int
	pending  [][]byte // units of access units without a picture, sent with the next one
}

// DecoderOption tunes NewDecoder.
type DecoderOption func(*decoderConfig)

type decoderConfig struct{ threads int }

// WithThreads sets FFmpeg's decoding threads (default 1: analysis is cheap
// per camera and many cameras share few cores). More threads lower the
// latency of one big stream but delay each picture by up to n-1 access units.
func WithThreads(n int) DecoderOption {
	return func(c *decoderConfig) { c.threads = n }
}

// NewDecoder opens a decoder for codec "H264" or "H265" (case-insensitive,
// "HEVC" is accepted too).
func NewDecoder(codec string, opts ...DecoderOption) (*Decoder, error) {
	cfg := decoderConfig{threads: 1}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.threads < 1 {
		return nil, errorf("decoder threads must be at least 1, got %d", cfg.threads)
	}
	var id C.enum_AVCodecID
	switch strings.ToUpper(codec) {
	case CodecH264:
		codec, id = CodecH264, C.AV_CODEC_ID_H264
	case CodecH265, "HEVC":
		codec, id = CodecH265, C.AV_CODEC_ID_HEVC
	default:
		return nil, errorf("unsupported codec %q (want H264 or H265)", codec)
	}
	quietFFmpeg()
	c := C.avcodec_find_decoder(id)
	if c == nil {
		return nil, errorf("FFmpeg has no %s decoder", codec)
	}
	d := &Decoder{codec: codec, waitKey: true}
	d.ctx = C.avcodec_alloc_context3(c)
	d.pkt = C.av_packet_alloc()
	d.recv = C.av_frame_alloc()
	d.last = C.av_frame_alloc()
	d.small = C.av_frame_alloc()
	d.bgr = C.av_frame_alloc()
	if d.ctx == nil || d.pkt == nil || d.recv == nil || d.last == nil || d.small == nil || d.bgr == nil {
		d.Close()
		return nil, errorf("out of memory opening %s decoder", codec)
	}
	d.ctx.thread_count = C.int(cfg.threads)
	// Pictures decoded from missing references are garbage to a detector.
	d.ctx.flags &^= C.AV_CODEC_FLAG_OUTPUT_CORRUPT
	if res := C.avcodec_open2(d.ctx, c, nil); res < 0 {
		d.Close()
		return nil, errorf("opening %s decoder: %s", codec, averror(res))
	}
	return d, nil
}

// SetOutputWidth makes Frame scale pictures to width w, keeping the aspect
// ratio with even dimensions; 0 (or a width not below the native one) keeps
// the native size.
func (d *Decoder) SetOutputWidth(w int) { d.outWidth = max(w, 0) }

// Decode feeds one access unit (NAL units without start codes) and reports
// whether a new picture is ready for Frame. Until the first key frame it
// reports false. Units without a
// picture (such as SPS and PPS from an SDP) are kept and sent with the next
// access unit.
func (d *Decoder) Decode(nalus [][]byte) (bool, error) {
	if d.ctx == nil {
		return false, errorf("decoder is closed")
	}
	if len(nalus) == 0 {
		return false, errorf("empty access unit")
	}
	if err := checkNALUs(d.codec, nalus); err != nil {
		return false, err
	}
	if !hasPicture(d.codec, nalus) {
		// Parameter sets alone (as from an SDP) are no frame to FFmpeg: keep
		// them for the next access unit.
		for _, n := range nalus {
			d.pending = append(d.pending, append([]byte(nil), n...))
		}
		if len(d.pending) > maxPending {
			d.pending = d.pending[len(d.pending)-maxPending:]
		}
		return false, nil
	}
	size := 0
	for _, n := range d.pending {
		size += 4 + len(n)
	}
	for _, n := range nalus {
		size += 4 + len(n)
	}
	if size > maxAccessUnit {
		return false, errorf("access unit of %d bytes exceeds %d", size, maxAccessUnit)
	}
	if res := C.av_new_packet(d.pkt, C.int(size)); res < 0 {
		return false, errorf("allocating %d-byte packet: %s", size, averror(res))
	}
	buf := cBytes(d.pkt.data, size)
	off := 0
	for _, units := range [2][][]byte{d.pending, nalus} {
		for _, n := range units {
			off += copy(buf[off:], startCode)
			off += copy(buf[off:], n)
		}
	}
	d.pending = d.pending[:0]
	res := C.avcodec_send_packet(d.ctx, d.pkt)
	C.av_packet_unref(d.pkt)
	if res < 0 && res != C.HW_EAGAIN {
		return false, errorf("%s decoder rejected access unit: %s", d.codec, averror(res))
	}
	got := false
	for {
		res = C.avcodec_receive_frame(d.ctx, d.recv)
		if res == C.HW_EAGAIN || res == C.HW_EOF {
			return got, nil
		}
		if res < 0 {
			return got, errorf("%s decoding failed: %s", d.codec, averror(res))
		}
		if d.waitKey && C.hw_frame_is_key(d.recv) == 0 {
			C.av_frame_unref(d.recv)
			continue
		}
		d.waitKey = false
		C.av_frame_unref(d.last)
		C.av_frame_move_ref(d.last, d.recv)
		d.havePic, got = true, true
	}
}

// Frame converts the newest picture to BGR into dst, reusing dst.Data when
// it is large enough; rows are packed (Stride = 3*Width).
func (d *Decoder) Frame(dst *Image) error {
	if d.ctx == nil {
		return errorf("decoder is closed")
	}
	if !d.havePic {
		return errorf("no decoded picture yet")
	}
	if dst == nil {
		return errorf("destination image is nil")
	}
	sw, sh := int(d.last.width), int(d.last.height)
	w, h := OutputSize(sw, sh, d.outWidth)
	src := d.last
	if w != sw || h != sh {
		// Scaling the planar picture and then converting at the small size
		// costs less than swscale's combined scale-and-convert path.
		if err := convert(&d.swsSmall, d.last, d.small, d.last.format, w, h); err != nil {
			return err
		}
		src = d.small
	}
	if err := convert(&d.sws, src, d.bgr, C.AV_PIX_FMT_BGR24, w, h); err != nil {
		return err
	}
	stride := 3 * w
	if cap(dst.Data) < stride*h {
		dst.Data = make([]byte, stride*h)
	}
	dst.Data = dst.Data[:stride*h]
	dst.Width, dst.Height, dst.Stride = w, h, stride
	srcStride := int(d.bgr.linesize[0])
	pix := cBytes(d.bgr.data[0], srcStride*(h-1)+stride)
	for y := range h {
		copy(dst.Data[y*stride:(y+1)*stride], pix[y*srcStride:])
	}
	return nil
}

// convert scales and converts src into dst, (re)allocating dst as a w×h
// picture of format fmt and caching the swscale context in *sws.
func convert(sws **C.struct_SwsContext, src, dst *C.AVFrame, fmt C.int, w, h int) error {
	*sws = C.sws_getCachedContext(*sws, src.width, src.height, int32(src.format),
		C.int(w), C.int(h), int32(fmt), C.SWS_BILINEAR, nil, nil, nil)
	if *sws == nil {
		return errorf("no conversion from %dx%d pixel format %d to %dx%d pixel format %d",
			int(src.width), int(src.height), int(src.format), w, h, int(fmt))
	}
	if int(dst.width) != w || int(dst.height) != h || dst.format != fmt {
		if res := C.hw_alloc_frame(dst, fmt, C.int(w), C.int(h)); res < 0 {
			return errorf("allocating %dx%d frame: %s", w, h, averror(res))
		}
	}
	if res := C.hw_scale(*sws, src, dst); res < 0 {
		return errorf("converting %dx%d picture: %s", w, h, averror(res))
	}
	return nil
}

// OutputSize returns the size Frame produces for a native w×h picture when
// asked for width want (see SetOutputWidth).
func OutputSize(w, h, want int) (int, int) {
	if want <= 0 || want >= w {
		return w, h
	}
	ow := max(want&^1, 2)
	oh := (h*ow + w/2) / w
	return ow, max((oh+1)&^1, 2)
}

// Close frees the decoder; it is safe to call more than once.
func (d *Decoder) Close() {
	for _, sws := range []**C.struct_SwsContext{&d.sws, &d.swsSmall} {
		if *sws != nil {
			C.sws_freeContext(*sws)
			*sws = nil
		}
	}
	C.av_frame_free(&d.bgr)
	C.av_frame_free(&d.small)
	C.av_frame_free(&d.last)
	C.av_frame_free(&d.recv)
	C.av_packet_free(&d.pkt)
	C.avcodec_free_context(&d.ctx)
	d.havePic = false
	d.pending = nil
}
