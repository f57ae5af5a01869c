package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"
)

// Limits on what one camera may make us hold, whatever it sends.
const (
	MaxAccessUnitBytes = 8 << 20
	MaxAccessUnitNALUs = 64
)

// errNeedMore means the packet was consumed without completing a unit.
var errNeedMore = errors.New("more packets needed")

// depacketizer turns one video track's RTP packets into self-contained
// access units: parameter sets are taken out of the stream, remembered, and
// put in front of every key frame; nothing is emitted before the first key
// frame. Not safe for concurrent use (gortsplib calls it from one goroutine).
type depacketizer struct {
	codec  Codec
	decode func(*rtp.Packet) ([][]byte, error)

	vps, sps, pps []byte
	announced     StreamInfo // parameters last handed out by takeStream
	pending       bool       // announced changed and was not taken yet

	synced     bool // a key unit has been emitted
	started    bool // prev* describe the last packet
	prevMarker bool
	prevTS     uint32
	prevPTS    time.Duration
}

// newDepacketizer sets up the RTP decoder of an H.264 or H.265 format,
// starting from the parameter sets its SDP carried, if any.
func newDepacketizer(forma format.Format) (*depacketizer, error) {
	switch f := forma.(type) {
	case *format.H264:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("H.264 RTP decoder: %w", err)
		}
		sps, pps := f.SafeParams()
		return &depacketizer{
			codec: CodecH264, sps: clone(sps), pps: clone(pps),
			decode: func(p *rtp.Packet) ([][]byte, error) {
				nalus, err := dec.Decode(p)
				if errors.Is(err, rtph264.ErrMorePacketsNeeded) || errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) {
					return nil, errNeedMore
				}
				return nalus, err
			},
		}, nil
	case *format.H265:
		dec, err := f.CreateDecoder()
		if err != nil {
			return nil, fmt.Errorf("H.265 RTP decoder: %w", err)
		}
		vps, sps, pps := f.SafeParams()
		return &depacketizer{
			codec: CodecH265, vps: clone(vps), sps: clone(sps), pps: clone(pps),
			decode: func(p *rtp.Packet) ([][]byte, error) {
				nalus, err := dec.Decode(p)
				if errors.Is(err, rtph265.ErrMorePacketsNeeded) || errors.Is(err, rtph265.ErrNonStartingPacketAndNoPrevious) {
					return nil, errNeedMore
				}
				return nalus, err
			},
		}, nil
	}
	return nil, fmt.Errorf("unsupported video format %s", forma.RTPMap())
}

// push feeds one packet. It returns a unit when one is complete, or
// errNeedMore, or an error describing a packet or unit that was dropped.
// pts is the packet's presentation time, now its arrival time.
func (d *depacketizer) push(pkt *rtp.Packet, pts time.Duration, now time.Time) (*AccessUnit, error) {
	// The RTP decoder completes a unit at its marker packet or, for cameras
	// that set no markers, when the next timestamp begins: then the unit is
	// the previous packet's.
	unitPTS := pts
	if d.started && !d.prevMarker && pkt.Timestamp != d.prevTS {
		unitPTS = d.prevPTS
	}
	d.started, d.prevMarker, d.prevTS, d.prevPTS = true, pkt.Marker, pkt.Timestamp, pts

	nalus, err := d.decode(pkt)
	if err != nil {
		return nil, err
	}
	nalus, key, err := d.sort(nalus)
	if err != nil || len(nalus) == 0 {
		return nil, errorOr(err, errNeedMore)
	}
	if key {
		params := d.params()
		if params == nil {
			return nil, fmt.Errorf("%s key frame without parameter sets (none in SDP or stream yet): dropped", d.codec)
		}
		if len(params)+len(nalus) > MaxAccessUnitNALUs {
			return nil, fmt.Errorf("%s access unit has %d NAL units, limit is %d: dropped", d.codec, len(params)+len(nalus), MaxAccessUnitNALUs)
		}
		nalus = append(params, nalus...)
		d.synced = true
		d.noteParams()
	} else if !d.synced {
		return nil, errNeedMore // a decoder needs a key frame first
	}
	return &AccessUnit{PTS: unitPTS, Received: now, Key: key, NALUs: nalus}, nil
}

// sort removes empty NALUs, access unit delimiters and parameter sets
// (remembering the latter) in place, checks the limits, and reports whether
// the unit is a random access point.
func (d *depacketizer) sort(nalus [][]byte) ([][]byte, bool, error) {
	if len(nalus) > MaxAccessUnitNALUs {
		return nil, false, fmt.Errorf("%s access unit has %d NAL units, limit is %d: dropped", d.codec, len(nalus), MaxAccessUnitNALUs)
	}
	out := nalus[:0]
	size, key := 0, false
	for _, n := range nalus {
		if len(n) == 0 {
			continue
		}
		size += len(n)
		if d.codec == CodecH264 {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				d.sps = keep(d.sps, n)
				continue
			case h264.NALUTypePPS:
				d.pps = keep(d.pps, n)
				continue
			case h264.NALUTypeAccessUnitDelimiter:
				continue
			case h264.NALUTypeIDR:
				key = true
			}
		} else {
			switch t := h265.NALUType((n[0] >> 1) & 0x3f); t {
			case h265.NALUType_VPS_NUT:
				d.vps = keep(d.vps, n)
				continue
			case h265.NALUType_SPS_NUT:
				d.sps = keep(d.sps, n)
				continue
			case h265.NALUType_PPS_NUT:
				d.pps = keep(d.pps, n)
				continue
			case h265.NALUType_AUD_NUT:
				continue
			default:
				// BLA, IDR and CRA pictures (IRAP) start a decodable sequence.
				if t >= h265.NALUType_BLA_W_LP && t <= h265.NALUType_CRA_NUT {
					key = true
				}
			}
		}
		out = append(out, n)
	}
	if size > MaxAccessUnitBytes {
		return nil, false, fmt.Errorf("%s access unit is %d bytes, limit is %d: dropped", d.codec, size, MaxAccessUnitBytes)
	}
	return out, key, nil
}

// params returns a fresh slice of the parameter sets a key unit needs, or
// nil when some are unknown.
func (d *depacketizer) params() [][]byte {
	if d.codec == CodecH265 {
		if d.vps == nil || d.sps == nil || d.pps == nil {
			return nil
		}
		return [][]byte{d.vps, d.sps, d.pps}
	}
	if d.sps == nil || d.pps == nil {
		return nil
	}
	return [][]byte{d.sps, d.pps}
}

// noteParams marks the stream as changed when the parameter sets in use
// differ from the ones announced last.
func (d *depacketizer) noteParams() {
	a := d.announced
	if a.Codec == d.codec && bytes.Equal(a.SPS, d.sps) && bytes.Equal(a.PPS, d.pps) && bytes.Equal(a.VPS, d.vps) {
		return
	}
	info := StreamInfo{Codec: d.codec, VPS: d.vps, SPS: d.sps, PPS: d.pps}
	info.Width, info.Height = spsSize(d.codec, d.sps)
	d.announced, d.pending = info, true
}

// takeStream returns the stream description once after each change, to be
// handed to Hub.SetStream before the unit that caused it.
func (d *depacketizer) takeStream() (StreamInfo, bool) {
	if !d.pending {
		return StreamInfo{}, false
	}
	d.pending = false
	return d.announced, true
}

// spsSize reads the picture size from a sequence parameter set; 0×0 when it
// cannot be parsed (the stream is still relayed).
func spsSize(codec Codec, sps []byte) (int, int) {
	if codec == CodecH265 {
		var s h265.SPS
		if s.Unmarshal(sps) != nil {
			return 0, 0
		}
		return s.Width(), s.Height()
	}
	var s h264.SPS
	if s.Unmarshal(sps) != nil {
		return 0, 0
	}
	return s.Width(), s.Height()
}

// keep returns the stored copy of a parameter set, replaced when it changed.
func keep(old, n []byte) []byte {
	if bytes.Equal(old, n) {
		return old
	}
	return clone(n)
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

func errorOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}
