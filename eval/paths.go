package eval

import (
	"os"
	"path/filepath"
)

// TestdataDir returns $HALLWATCH_TESTDATA, or ../shared/testdata next to the
// repository root found by walking up from the working directory to go.mod.
func TestdataDir() string { return sharedDir("HALLWATCH_TESTDATA", "testdata") }

func sharedDir(env, name string) string {
	if d := os.Getenv(env); d != "" {
		return d
	}
	root, err := os.Getwd()
	if err != nil {
		return filepath.Join("..", "shared", name)
	}
	for dir := root; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", name)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join(root, "..", "shared", name)
		}
		dir = parent
	}
}
