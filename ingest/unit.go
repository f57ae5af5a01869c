// Package ingest pulls hall cameras over RTSP, keeps them connected, and fans
// their access units out to the live relay and to analytics.
package ingest

import "time"

// Codec names a video codec carried by a camera stream.
type Codec string

// Codecs hallwatch knows. Only H264 is relayed to browsers today.
const (
	CodecH264 Codec = "H264"
	CodecH265 Codec = "H265"
)

// AccessUnit is one coded video frame as NAL units (no start codes).
// Consumers share it read-only: never modify NALUs.
type AccessUnit struct {
	PTS      time.Duration // presentation time from the stream's start
	Received time.Time     // when its last RTP packet arrived (latency base)
	Key      bool          // random access point (IDR, with SPS/PPS prepended)
	NALUs    [][]byte
}

// Size is the unit's payload in bytes.
func (au *AccessUnit) Size() int {
	n := 0
	for _, nalu := range au.NALUs {
		n += len(nalu)
	}
	return n
}

// StreamInfo describes what a camera currently sends; it changes on reconnect.
type StreamInfo struct {
	Codec         Codec
	SPS, PPS, VPS []byte // parameter sets, from SDP or in-band
	Width, Height int
	// Generation counts the hub's SetStream calls: a new value means a new
	// stream (reconnect or parameter change); 0 means none yet.
	Generation uint64
}

// State is a camera connection state.
type State string

// Camera connection states.
const (
	StateConnecting State = "connecting"
	StateLive       State = "live"
	StateOffline    State = "offline"
)
