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
// AnalyzeFile is `hallwatch analyze`: the same Analyzer over a video file,
// writing JSON Lines. Accuracy against ground truth is measured by package
// eval.
package analytics
