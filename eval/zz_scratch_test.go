package eval

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestScratchDemo(t *testing.T) {
	idx, _ := strconv.Atoi(os.Getenv("SC"))
	sc := DemoScenarios[idx]
	rs, err := RunDemo(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	printDemo(&b, rs)
	t.Log(b.String())
	for _, r := range rs {
		t.Logf("%v: elapsed %v frames %d", r.Join, r.Elapsed, r.Frames)
	}
}

func TestScratchRun(t *testing.T) {
	var b strings.Builder
	_, err := Run(context.Background(), Options{Out: &b, Detectors: strings.Split(os.Getenv("DET"), ","), Cases: strings.Split(os.Getenv("CASES"), ",")})
	t.Log(b.String())
	if err != nil {
		t.Fatal(err)
	}
}
