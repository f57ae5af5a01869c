package darknet

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include <stdlib.h>
#include "load.h"
*/
import "C"

import (
	"fmt"
	"os"
	"strings"
	"unsafe"
)

// Check validates a Darknet model for use at inputSize x inputSize from
// the contents of its files: the cfg parses, the weights have exactly the
// size the cfg needs, and OpenCV loads it and runs one forward pass. The
// names (file paths, or what the model is) appear in the errors.
func Check(cfgName string, cfg []byte, weightsName string, weights []byte, inputSize int) error {
	if inputSize <= 0 || inputSize%32 != 0 {
		return fmt.Errorf("yolo input size %d: must be a positive multiple of 32 (e.g. 320 or 416)", inputSize)
	}
	secs, err := ParseCfg(cfgName, cfg)
	if err != nil {
		return fmt.Errorf("yolo model cfg: %w", err)
	}
	params, outputs, known, err := WeightCount(secs)
	if err != nil {
		return fmt.Errorf("yolo model cfg %s: %w", cfgName, err)
	}
	if known && outputs == 0 {
		return fmt.Errorf("yolo model cfg %s: no [yolo] or [region] output layer", cfgName)
	}
	hb, err := headerBytes(weights[:min(len(weights), 20)])
	if err != nil {
		return fmt.Errorf("yolo model weights %s: %w", weightsName, err)
	}
	if want := hb + 4*params; known && int64(len(weights)) != want {
		return fmt.Errorf("yolo model weights %s: %d bytes, but the cfg needs %d (truncated file or weights of another model)", weightsName, len(weights), want)
	}
	ccfg := C.CBytes(cfg)
	cw := C.CBytes(weights)
	defer C.free(ccfg)
	defer C.free(cw)
	if msg := C.hallwatch_darknet_try((*C.char)(ccfg), C.size_t(len(cfg)), (*C.char)(cw), C.size_t(len(weights)), C.int(inputSize)); msg != nil {
		defer C.free(unsafe.Pointer(msg))
		return fmt.Errorf("yolo model %s + %s: OpenCV cannot load it: %s", cfgName, weightsName, strings.TrimSpace(C.GoString(msg)))
	}
	return nil
}

// ReadFiles reads a model's cfg and weights files; errors name the file.
func ReadFiles(cfgPath, weightsPath string) (cfg, weights []byte, err error) {
	for _, f := range []struct {
		what, path string
		dst        *[]byte
	}{{"cfg", cfgPath, &cfg}, {"weights", weightsPath, &weights}} {
		st, err := os.Stat(f.path)
		if err != nil {
			return nil, nil, fmt.Errorf("yolo model %s: %w", f.what, err)
		}
		if st.IsDir() {
			return nil, nil, fmt.Errorf("yolo model %s %s: is a directory", f.what, f.path)
		}
		if *f.dst, err = os.ReadFile(f.path); err != nil {
			return nil, nil, fmt.Errorf("yolo model %s: %w", f.what, err)
		}
	}
	return cfg, weights, nil
}
