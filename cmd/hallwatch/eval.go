package main

import (
	"context"
	"io"
	"strings"

	"github.com/hallwatch/hallwatch/eval"
)

// runEval measures accuracy against the annotated clips in the shared test
// data and prints precision, recall and F1 per detector.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval [--detectors yolo,motion] [--fps N] [--input-size N] [--testdata DIR]", stderr)
	detectors := fs.String("detectors", "yolo,motion", "detectors to evaluate, comma-separated")
	fps := fs.Float64("fps", 0, "analysis rate; 0 analyses every frame")
	inputSize := fs.Int("input-size", 416, "yolo network input size")
	testdata := fs.String("testdata", "", "annotated clips (default $HALLWATCH_TESTDATA or ../shared/testdata)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, err := eval.Run(ctx, eval.Options{
		TestdataDir: *testdata, Detectors: strings.Split(*detectors, ","),
		InputSize: *inputSize, FPS: *fps, Out: stdout, Progress: stderr,
	})
	return err
}
