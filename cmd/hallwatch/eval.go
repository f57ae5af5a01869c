package main

import (
	"context"
	"io"
	"strings"

	"github.com/hallwatch/hallwatch/eval"
)

// runEval measures accuracy against ground truth: the simulated hall
// (started fresh and joined mid-day), the annotated clips in the shared
// test data (counting lines, window zones) and still people pasted into
// them, and prints the tables per detector.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", "eval [--detectors yolo,motion] [--cases demo,pets,still] [--fps N] [--input-size N] [--testdata DIR]", stderr)
	detectors := fs.String("detectors", "yolo,motion", "detectors to evaluate, comma-separated")
	cases := fs.String("cases", "demo,pets,still", "what to evaluate: demo (the simulated hall, no test data needed), pets (counting and zones on the clips), still (still people pasted into PETS09-S2L1)")
	fps := fs.Float64("fps", 0, "analysis rate of the clips; 0 analyses every frame")
	inputSize := fs.Int("input-size", 416, "yolo network input size")
	testdata := fs.String("testdata", "", "annotated clips (default $HALLWATCH_TESTDATA or ../shared/testdata)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, err := eval.Run(ctx, eval.Options{
		TestdataDir: *testdata, Detectors: strings.Split(*detectors, ","), Cases: strings.Split(*cases, ","),
		InputSize: *inputSize, FPS: *fps, Out: stdout, Progress: stderr,
	})
	return err
}
