// Package analytics turns decoded frames into events: people are detected,
// tracked, counted across lines and watched in service-window zones.
//
// One Analyzer per camera (NewCameraAnalyzer) runs, for each frame:
//
//   - a check of the view (view.go): a covered lens, a camera turned away,
//     a black or frozen picture makes the windows unknown and raises a
//     camera_blocked alert instead of looking for people;
//   - a Detector: YOLO (the shipped Yolo-Fastest 1.1 body, or another
//     Darknet model, through OpenCV DNN) or Motion (MOG2 background
//     subtraction), chosen by NewDetector;
//   - the Tracker: alpha-beta constant-velocity prediction, Hungarian
//     matching on centre distance, IoU, size and a torso colour histogram,
//     confident detections first and weak ones only to extend tracks,
//     confirmation after 3 hits. A still person lives only while the
//     detector sees them, the motion detector finds their place still
//     differs from the empty background (Vouch), or someone in front hides
//     them: about a second otherwise;
//   - a LineCounter per counting line: a track's feet point (bottom centre,
//     median of its last 3 boxes) counts when seen clearly on one side
//     (beyond a narrow band), then clearly on the other, having passed
//     through the finite segment; the same track counts again only after it
//     was clearly back;
//   - a presence state machine per window (checking, staffed, absent,
//     closed, unknown) raising and resolving unstaffed alerts.
//
// Analysis that starts while people are in view (a service restarted
// mid-day, a camera reconnecting) checks each window before judging it.
// The person model sees seated clerks from the first frames. The motion
// detector's background is the first frame, so a clerk who sits motionless
// from before it cannot be told from the chair: such a window is unknown,
// never absent, until someone walks in or out (its ghost is recognised
// when they get up, see Motion) or the background saved by the last run
// (SaveState, LoadState) shows the chair empty.
//
// AnalyzeFile is `hallwatch analyze`: the same Analyzer over a video file,
// writing JSON Lines, its frames thinned like the live Pipeline's
// (Thinner). Accuracy against ground truth is measured by package eval.
package analytics
