package avcodec

// #include "ffmpeg.h"
import "C"

// TranscoderOptions configure a Transcoder.
type TranscoderOptions struct {
	Codec    string // input codec: CodecH265 or CodecH264
	MaxWidth int    // wider pictures are scaled down to this width (aspect kept); 0 keeps the size
	FPS      int    // the stream's nominal frame rate, for rate control (default 25)
	// BitrateKbps of the H.264 output; 0 derives it from the output size
	// (about 0.08 bits per pixel and frame: 1.8 Mbit/s at 720p25).
	BitrateKbps int
	Preset      string // x264 preset, default "ultrafast"
	Threads     int    // decoder and encoder threads, default 1
}

// Transcoder turns access units of one codec into H.264 (Constrained
// Baseline, which every browser decodes) without a detour through BGR:
// the decoded picture goes to x264 as it is, or scaled once. Its key
// frames are the input's: an IDR out for every random access point in,
// and no other, so the output's GOP is the camera's.
type Transcoder struct {
	opts TranscoderOptions
	dec  *Decoder
	enc  *Encoder
	sws  *C.struct_SwsContext
	yuv  *C.AVFrame // the scaled picture, when scaling
	n    int64      // frames encoded, the encoder's pts
	sync bool       // a key frame was fed: the decoder has references
}

// NewTranscoder prepares a transcoder; the encoder opens at the first
// picture, when the size is known.
func NewTranscoder(opts TranscoderOptions) (*Transcoder, error) {
	if opts.FPS <= 0 {
		opts.FPS = 25
	}
	if opts.Preset == "" {
		opts.Preset = "ultrafast"
	}
	if opts.Threads <= 0 {
		opts.Threads = 1
	}
	dec, err := NewDecoder(opts.Codec, WithThreads(opts.Threads))
	if err != nil {
		return nil, err
	}
	t := &Transcoder{opts: opts, dec: dec, yuv: C.av_frame_alloc()}
	if t.yuv == nil {
		t.Close()
		return nil, errorf("out of memory opening transcoder")
	}
	return t, nil
}

// Transcode feeds one access unit (key: a random access point) and
// returns the H.264 access unit it made, if the decoder produced a
// picture, and whether that is an IDR. Units before the first key frame
// are skipped: nothing can decode them.
func (t *Transcoder) Transcode(nalus [][]byte, key bool) ([][]byte, bool, error) {
	if t.sync = t.sync || key; !t.sync {
		return nil, false, nil
	}
	got, err := t.dec.Decode(nalus)
	if err != nil || !got {
		return nil, false, err
	}
	pic := t.dec.last
	w, h := OutputSize(int(pic.width), int(pic.height), t.opts.MaxWidth)
	w, h = w&^1, h&^1 // 4:2:0 needs even sizes
	if err := t.openEncoder(w, h); err != nil {
		return nil, false, err
	}
	frame := pic
	if int(pic.width) != w || int(pic.height) != h || pic.format != C.AV_PIX_FMT_YUV420P {
		if err := convert(&t.sws, pic, t.yuv, C.AV_PIX_FMT_YUV420P, w, h); err != nil {
			return nil, false, err
		}
		frame = t.yuv
	}
	out, idr, err := t.enc.encodeFrame(frame, t.n, key || t.n == 0)
	t.n++
	return out, idr, err
}

// openEncoder (re)opens x264 for w×h pictures.
func (t *Transcoder) openEncoder(w, h int) error {
	if t.enc != nil && t.enc.opts.Width == w && t.enc.opts.Height == h {
		return nil
	}
	if t.enc != nil {
		t.enc.Close()
		t.enc = nil
	}
	kbps := t.opts.BitrateKbps
	if kbps == 0 {
		kbps = min(max(w*h*t.opts.FPS*8/100/1000, 300), 8000)
	}
	enc, err := NewEncoder(EncoderOptions{
		Width: w, Height: h, FPS: t.opts.FPS, BitrateKbps: kbps, Preset: t.opts.Preset, Threads: t.opts.Threads,
		// Key frames come from the input; x264 inserts its own only after
		// a minute without one.
		GOP: 60 * t.opts.FPS,
	})
	if err != nil {
		return err
	}
	t.enc, t.n = enc, 0
	return nil
}

// Close frees the transcoder; it is safe to call more than once.
func (t *Transcoder) Close() {
	if t.dec != nil {
		t.dec.Close()
		t.dec = nil
	}
	if t.enc != nil {
		t.enc.Close()
		t.enc = nil
	}
	if t.sws != nil {
		C.sws_freeContext(t.sws)
		t.sws = nil
	}
	C.av_frame_free(&t.yuv)
}
