package darknet

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// modelDir is the model shipped in the repository.
func modelDir(t *testing.T) string {
	t.Helper()
	return filepath.Join("..", "..", "..", "models", "yolo-fastest-1.1-body")
}

// checkFiles reads a model's files and checks it, as the detector does.
func checkFiles(cfgPath, weightsPath string, size int) error {
	cfg, weights, err := ReadFiles(cfgPath, weightsPath)
	if err != nil {
		return err
	}
	return Check(cfgPath, cfg, weightsPath, weights, size)
}

func TestCheckAcceptsShippedModel(t *testing.T) {
	dir := modelDir(t)
	for _, size := range []int{320, 416} {
		if err := checkFiles(filepath.Join(dir, "yolo-fastest-1.1_body.cfg"), filepath.Join(dir, "yolo-fastest-1.1_body.weights"), size); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
	}
}

func TestCheckRejectsBadModels(t *testing.T) {
	dir := modelDir(t)
	cfg := filepath.Join(dir, "yolo-fastest-1.1_body.cfg")
	weights := filepath.Join(dir, "yolo-fastest-1.1_body.weights")
	tmp := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(tmp, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	w, err := os.ReadFile(weights)
	if err != nil {
		t.Fatal(err)
	}
	c, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, cfg, weights string
		size               int
		want               string
	}{
		{"missing weights", cfg, filepath.Join(tmp, "nope.weights"), 416, "nope.weights"},
		{"missing cfg", filepath.Join(tmp, "nope.cfg"), weights, 416, "nope.cfg"},
		{"truncated weights", cfg, write("short.weights", w[:len(w)/2]), 416, "short.weights"},
		{"garbage cfg", write("garbage.cfg", []byte("hello world\n")), weights, 416, "garbage.cfg"},
		{"cut cfg", write("cut.cfg", c[:3000]), weights, 416, "cut.cfg"},
		{"directory as weights", cfg, tmp, 416, tmp},
		{"odd input size", cfg, weights, 300, "multiple of 32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkFiles(tc.cfg, tc.weights, tc.size)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Check() = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestWeightCountMatchesShippedWeights(t *testing.T) {
	dir := modelDir(t)
	data, err := os.ReadFile(filepath.Join(dir, "yolo-fastest-1.1_body.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	secs, err := ParseCfg("cfg", data)
	if err != nil {
		t.Fatal(err)
	}
	n, outputs, known, err := WeightCount(secs)
	if err != nil || !known || outputs != 2 {
		t.Fatalf("WeightCount = %d, %d, %v, %v", n, outputs, known, err)
	}
	st, err := os.Stat(filepath.Join(dir, "yolo-fastest-1.1_body.weights"))
	if err != nil {
		t.Fatal(err)
	}
	if want := (st.Size() - 20) / 4; n != want {
		t.Fatalf("cfg needs %d floats, file holds %d", n, want)
	}
}

func FuzzParseCfg(f *testing.F) {
	f.Add([]byte("[net]\nchannels=3\n[convolutional]\nfilters=8\nsize=3\n[yolo]\n"))
	f.Add([]byte("[net]\n[route]\nlayers=-1,-4\n"))
	f.Add([]byte("[\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		secs, err := ParseCfg("fuzz", data)
		if err != nil {
			return
		}
		_, _, _, _ = WeightCount(secs)
	})
}
