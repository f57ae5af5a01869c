package analytics

import "time"

// Unit is one access unit of a camera's stream, as the Pipeline takes it.
type Unit struct {
	NALUs [][]byte
	Key   bool      // random access point
	T     float64   // stream time in seconds, increasing
	Wall  time.Time // when it was received (opening hours, lag)
	index int       // 1-based sequence number, set by the Pipeline
}

// gate decides which access units a camera's analysis decodes. Active, it
// decodes every unit (H.264 predicts each picture from the last, so a
// decoder cannot skip one and go on) and analysis runs at its rate. Once
// the scene has been quiet (Analyzer.Quiet) for idleAfter it goes idle at a
// key frame and decodes key frames only, each compared with the last
// (probe): while nothing changed, nothing happened in between either
// that a key frame 1-4 s later would not show. When one changed it wakes
// and replays the units buffered since the previous key frame, so the
// analysis sees that stretch at its usual rate and counts whoever walked
// in during it.
type gate struct {
	idleAfter  float64 // seconds; 0 never idles
	maxReplay  float64 // longest stretch to buffer; longer GOPs never idle
	idle       bool
	quietSince float64 // stream time since the scene was quiet, -1 when not
	lastKey    float64 // time of the last key frame, -1 before one
	gop        float64 // the last key-to-key distance, 0 before two
	buf        []*Unit // idle: the anchor (the last key frame looked at) and what followed it
}

// action is what to do with a decoded unit.
type action int

const (
	decodeOnly    action = iota // a reference for the pictures after it
	analyseAtRate               // analyse if the analysis rate is due
	anchor                      // analyse, and compare the next key frames with it
	probe                       // idle key frame: compare with the anchor
)

type step struct {
	u  *Unit
	do action
}

func newGate(idleAfter, maxReplay time.Duration) *gate {
	return &gate{idleAfter: idleAfter.Seconds(), maxReplay: maxReplay.Seconds(), quietSince: -1, lastKey: -1}
}

// push takes the next unit and returns what to decode now.
func (g *gate) push(u *Unit) []step {
	if u.Key {
		if g.lastKey >= 0 {
			g.gop = u.T - g.lastKey
		}
		g.lastKey = u.T
	}
	if !g.idle {
		if u.Key && g.idleAfter > 0 && g.quietSince >= 0 && u.T-g.quietSince >= g.idleAfter &&
			g.gop > 0 && g.gop <= g.maxReplay {
			g.idle = true
			g.buf = append(g.buf[:0], u)
			return []step{{u, anchor}}
		}
		return []step{{u, analyseAtRate}}
	}
	if u.Key {
		return []step{{u, probe}}
	}
	g.buf = append(g.buf, u)
	if u.T-g.buf[0].T > g.maxReplay { // the camera's GOP grew: stop buffering
		return g.wake(nil)
	}
	return nil
}

// analysed reports, while active, whether the scene was quiet at time t.
func (g *gate) analysed(t float64, quiet bool) {
	switch {
	case !quiet:
		g.quietSince = -1
	case g.quietSince < 0:
		g.quietSince = t
	}
}

// unchanged makes the probed key frame the new anchor.
func (g *gate) unchanged(u *Unit) {
	clear(g.buf)
	g.buf = append(g.buf[:0], u)
}

// wake goes active and returns the replay: the anchor to decode (it was
// analysed when it came), what followed it, and u, the key frame that
// changed, if any.
func (g *gate) wake(u *Unit) []step {
	steps := make([]step, 0, len(g.buf)+1)
	for i, b := range g.buf {
		do := analyseAtRate
		if i == 0 {
			do = decodeOnly
		}
		steps = append(steps, step{b, do})
	}
	if u != nil {
		steps = append(steps, step{u, analyseAtRate})
	}
	clear(g.buf)
	g.buf = g.buf[:0]
	// quietSince stays: if the replay shows nobody new after all, the next
	// key frame is idle again.
	g.idle = false
	return steps
}

// reset forgets everything: a new stream (the camera reconnected).
func (g *gate) reset() {
	clear(g.buf)
	*g = gate{idleAfter: g.idleAfter, maxReplay: g.maxReplay, quietSince: -1, lastKey: -1, buf: g.buf[:0]}
}
