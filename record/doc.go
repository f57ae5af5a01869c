// Package record keeps the cameras' video: continuous recording of each
// camera's own H.264/H.265 into fragmented MP4 segments (never re-encoded),
// the index of those segments in the database, retention and disk budgets
// per storage path, alert clips cut from the recording at key frames, and
// the read side that serves any span as one progressive MP4 for a browser's
// <video> element.
//
// Decisions worth knowing:
//
//   - One Recorder per camera subscribes to the camera's hub. It writes a
//     fragment at every key frame (and at least every few seconds), each in
//     one write, so a crash loses at most the GOP in memory and every
//     earlier fragment stays playable; Storage.Recover cuts a torn tail.
//   - The segment file is created before its index entry: with the
//     database down, recording goes on and the entries follow when it is
//     back (or at the next start, from the files).
//   - A segment is cut at the first key frame after record.segment, at a
//     stream change (reconnect, new parameters) and at a break in the
//     timestamps; segments never span gaps, so the index's spans are the
//     recorded time.
//   - Wall time: a segment starts at the arrival time of its first access
//     unit; inside it, time runs on the camera's timestamps.
//   - Playback is a progressive MP4 (ftyp, moov with the full sample table,
//     mdat) made up on the fly: the header is built in memory and the
//     samples are read from the segment files where they lie, so any byte
//     range is answered with a few reads and <video> seeks natively.
//   - Clips are real files (progressive MP4) written when an alert has
//     resolved and the recording has passed its end; they outlive the
//     segments they were cut from, for retention.clips.
//   - This package never imports the web framework; the web reaches it
//     through a small interface.
package record
