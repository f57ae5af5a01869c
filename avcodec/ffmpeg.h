// Small helpers for the cgo side of package avcodec: macros cgo cannot
// evaluate, and calls whose pointer-array arguments must stay in C memory.
#ifndef HALLWATCH_AVCODEC_FFMPEG_H
#define HALLWATCH_AVCODEC_FFMPEG_H

#include <stdint.h>
#include <stdlib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

enum { HW_EAGAIN = AVERROR(EAGAIN), HW_EOF = AVERROR_EOF };

static inline int hw_frame_is_key(const AVFrame *f) {
#if LIBAVUTIL_VERSION_INT >= AV_VERSION_INT(58, 7, 100)
	return (f->flags & AV_FRAME_FLAG_KEY) != 0;
#else
	return f->key_frame;
#endif
}

// hw_alloc_frame (re)allocates f's buffers for a w x h picture of format fmt.
static inline int hw_alloc_frame(AVFrame *f, int fmt, int w, int h) {
	av_frame_unref(f);
	f->format = fmt;
	f->width = w;
	f->height = h;
	return av_frame_get_buffer(f, 0);
}

static inline int hw_scale(struct SwsContext *sws, const AVFrame *src, AVFrame *dst) {
	return sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height,
		dst->data, dst->linesize);
}

static inline int hw_set_opt(AVCodecContext *ctx, const char *key, const char *val) {
	return av_opt_set(ctx->priv_data, key, val, 0);
}

static inline void hw_quiet_ffmpeg(void) { av_log_set_level(AV_LOG_FATAL); }

#endif
