// Package analytics turns decoded frames into events: people are detected,
// tracked, counted across lines and watched in service-window zones.
//
// One Analyzer per camera (NewCameraAnalyzer) runs, for each frame:
//
//   - a Detector: YOLO (Yolo-Fastest body through OpenCV DNN) or Motion
//     (MOG2 background subtraction), chosen by NewDetector;
//   - the Tracker: alpha-beta constant-velocity prediction, Hungarian
//     matching on centre distance, IoU, size and a torso colour histogram,
//     confident detections first and weak ones only to extend tracks,
//     confirmation after 3 hits, long tolerance for people standing still;
//   - a LineCounter per counting line: a track's feet point (bottom centre,
//     median of its last 3 boxes) counts when seen clearly on one side
//     (beyond a narrow band), then clearly on the other, having passed
//     through the finite segment; the same track counts again only after it
//     was clearly back;
//   - a presence state machine per window (staffed, absent, closed,
//     unknown) raising and resolving unstaffed alerts.
//
// Analysis that starts while people are in view (the live service joins a
// camera a few seconds after connecting, or restarts mid-day) works with
// the motion detector as follows. Its background is the first frame: people
// walking then are picked up once they move on, and what they leave behind
// fades. A clerk who sits motionless from before the first frame cannot be
// told from the chair: the window counts as empty and raises an unstaffed
// alert after absent_after (never a staffed window nobody was seen at). Once
// that clerk moves enough to be seen they are tracked and held, and the
// alert resolves; when they get up, the ghost of where they sat is
// recognised and removed (see Motion), so it neither keeps the window
// staffed nor hides them when they come back. The yolo detector sees seated
// people from the first frame.
//
// AnalyzeFile is `hallwatch analyze`: the same Analyzer over a video file,
// writing JSON Lines. Accuracy against ground truth is measured by package
// eval.
package analytics
