package relay

import (
	"fmt"
	"strings"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/ingest"
)

// rtpPayloadMax keeps SRTP packets under a 1280-byte path MTU.
const rtpPayloadMax = 1100

// packetizer turns an access unit into RTP packets (RFC 6184 for H.264,
// RFC 7798 for H.265); sequence numbers run on from unit to unit.
type packetizer interface {
	Encode(nalus [][]byte) ([]*rtp.Packet, error)
}

func newPacketizer(codec ingest.Codec) (packetizer, error) {
	switch codec {
	case ingest.CodecH264:
		enc := &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: rtpPayloadMax, PacketizationMode: 1}
		return enc, enc.Init()
	case ingest.CodecH265:
		enc := &rtph265.Encoder{PayloadType: 96, PayloadMaxSize: rtpPayloadMax}
		return enc, enc.Init()
	}
	return nil, fmt.Errorf("no RTP packetizer for codec %q", codec)
}

// mimeType is the WebRTC name of a codec.
func mimeType(codec ingest.Codec) string {
	if codec == ingest.CodecH265 {
		return webrtc.MimeTypeH265
	}
	return webrtc.MimeTypeH264
}

// videoFeedback is what viewers may send about the video: NACKs (answered
// from each viewer's history), PLI and FIR (answered from the GOP cache).
var videoFeedback = []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}

// offeredCodecs lists every codec the relay can send, as registered with
// pion: H.264 in the profiles browsers offer (any decodes what a camera
// sends once H.264 is agreed), and H.265 Main (draft-ietf-avtcore-hevc-webrtc).
func offeredCodecs() []webrtc.RTPCodecParameters {
	var out []webrtc.RTPCodecParameters
	for i, profile := range []string{"42e01f", "42001f", "4d001f", "64001f"} {
		out = append(out, webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFeedback,
				SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
			},
			PayloadType: webrtc.PayloadType(102 + 2*i),
		})
	}
	out = append(out, webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH265, ClockRate: 90000, RTCPFeedback: videoFeedback,
			SDPFmtpLine: "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST",
		},
		PayloadType: 116,
	})
	return out
}

// registerCodecs offers what offeredCodecs lists: the relay forwards the
// camera's own stream (or the H.264 of its fallback), never anything else.
func registerCodecs(me *webrtc.MediaEngine) error {
	for _, c := range offeredCodecs() {
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("webrtc: register %s %s: %w", c.MimeType, c.SDPFmtpLine, err)
		}
	}
	return nil
}

// codecsFor are the registered parameters of one codec, for a
// transceiver's codec preferences: the answer then names only the codec
// that viewer will get. The payload types are left to pion, which takes
// the offer's.
func codecsFor(codec ingest.Codec) []webrtc.RTPCodecParameters {
	var out []webrtc.RTPCodecParameters
	for _, c := range offeredCodecs() {
		if strings.EqualFold(c.MimeType, mimeType(codec)) {
			c.PayloadType = 0
			out = append(out, c)
		}
	}
	return out
}

// pickCodec chooses the negotiated payload type for codec: for H.264 one
// with packetization-mode=1 (the relay fragments large NAL units).
func pickCodec(codec ingest.Codec, negotiated []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	for _, c := range negotiated {
		if !strings.EqualFold(c.MimeType, mimeType(codec)) {
			continue
		}
		if codec == ingest.CodecH264 && !fmtpHas(c.SDPFmtpLine, "packetization-mode=1") {
			continue
		}
		return c, true
	}
	return webrtc.RTPCodecParameters{}, false
}

func fmtpHas(fmtp, param string) bool {
	for _, kv := range strings.Split(fmtp, ";") {
		if strings.TrimSpace(kv) == param {
			return true
		}
	}
	return false
}
