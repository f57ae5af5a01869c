package analytics

// Thinner picks the frames analysed at a rate from a stream of frame
// times: the first frame, then the first frame at or after each interval
// since. It is the one frame-thinning rule of live analysis (Pipeline),
// `hallwatch analyze` (AnalyzeFile) and the evaluation, so offline and
// live runs analyse the same frames of the same stream. Not safe for
// concurrent use.
type Thinner struct {
	interval float64
	next     float64 // stream time the next analysis is due; <0 before the first
}

// thinEpsilon absorbs the rounding of frame times (n/fps).
const thinEpsilon = 1e-6

// NewThinner returns a thinner for fps analysed frames a second.
func NewThinner(fps float64) *Thinner { return &Thinner{interval: 1 / fps, next: -1} }

// Due reports whether the frame at stream time t (seconds, increasing) is
// to be analysed. After a gap longer than an interval (the first frame,
// frames lost, a stretch left undecoded) the rate starts again from t.
func (th *Thinner) Due(t float64) bool {
	if t < th.next-thinEpsilon {
		return false
	}
	if th.next < 0 || t-th.next > th.interval {
		th.next = t
	}
	th.next += th.interval
	return true
}

// Took records that the frame at t was analysed out of turn (a key frame
// of an idle camera): the next is due an interval later.
func (th *Thinner) Took(t float64) { th.next = t + th.interval }

// Reset starts over: the next frame is due (a new stream).
func (th *Thinner) Reset() { th.next = -1 }
