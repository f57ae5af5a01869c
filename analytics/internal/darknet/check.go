package darknet

/*
#cgo !windows pkg-config: opencv4
#cgo CXXFLAGS: --std=c++11
#include <stdlib.h>
#include "load.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unsafe"
)

// Check validates a Darknet model for use at inputSize x inputSize: the cfg
// parses, the weights file has exactly the size the cfg needs, and OpenCV
// loads it and runs one forward pass. Errors name the offending file.
func Check(cfgPath, weightsPath string, inputSize int) error {
	if inputSize <= 0 || inputSize%32 != 0 {
		return fmt.Errorf("yolo input size %d: must be a positive multiple of 32 (e.g. 320 or 416)", inputSize)
	}
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		return fmt.Errorf("yolo model cfg: %w", err)
	}
	secs, err := ParseCfg(cfgPath, data)
	if err != nil {
		return fmt.Errorf("yolo model cfg: %w", err)
	}
	params, outputs, known, err := WeightCount(secs)
	if err != nil {
		return fmt.Errorf("yolo model cfg %s: %w", cfgPath, err)
	}
	if known && outputs == 0 {
		return fmt.Errorf("yolo model cfg %s: no [yolo] or [region] output layer", cfgPath)
	}
	if err := checkWeightsSize(weightsPath, params, known); err != nil {
		return err
	}
	ccfg, cw := C.CString(cfgPath), C.CString(weightsPath)
	defer C.free(unsafe.Pointer(ccfg))
	defer C.free(unsafe.Pointer(cw))
	if msg := C.hallwatch_darknet_try(ccfg, cw, C.int(inputSize)); msg != nil {
		defer C.free(unsafe.Pointer(msg))
		return fmt.Errorf("yolo model %s + %s: OpenCV cannot load it: %s", cfgPath, weightsPath, strings.TrimSpace(C.GoString(msg)))
	}
	return nil
}

func checkWeightsSize(path string, params int64, known bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("yolo model weights: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("yolo model weights: %w", err)
	}
	if st.IsDir() {
		return fmt.Errorf("yolo model weights %s: is a directory", path)
	}
	head := make([]byte, 20)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("yolo model weights: %w", err)
	}
	hb, err := headerBytes(head[:n])
	if err != nil {
		return fmt.Errorf("yolo model weights %s: %w", path, err)
	}
	if want := hb + 4*params; known && st.Size() != want {
		return fmt.Errorf("yolo model weights %s: %d bytes, but the cfg needs %d (truncated file or weights of another model)", path, st.Size(), want)
	}
	return nil
}
