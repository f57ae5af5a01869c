package analytics

import (
	"fmt"
	"image"
	"slices"
	"sync/atomic"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics/internal/darknet"
	"github.com/hallwatch/hallwatch/models"
)

// Model is a Darknet model: the contents of its cfg and weights files and
// the names they go by in errors and the camera status.
type Model struct {
	CfgName, WeightsName string
	Cfg, Weights         []byte
}

// ShippedModel is the person model built into hallwatch (package models).
func ShippedModel() Model {
	cfg, weights := models.Body()
	return Model{CfgName: models.BodyName + " cfg", WeightsName: models.BodyName + " weights", Cfg: cfg, Weights: weights}
}

// LoadModel reads a model's cfg and weights files; errors name the file.
func LoadModel(cfgPath, weightsPath string) (Model, error) {
	cfg, weights, err := darknet.ReadFiles(cfgPath, weightsPath)
	if err != nil {
		return Model{}, err
	}
	return Model{CfgName: cfgPath, WeightsName: weightsPath, Cfg: cfg, Weights: weights}, nil
}

// YOLOOptions configures a Darknet YOLO person detector.
type YOLOOptions struct {
	Model          Model
	InputSize      int     // network input, a multiple of 32 (320 or 416)
	ScoreThreshold float32 // boxes below are dropped
	NMSThreshold   float32 // IoU above which the weaker of two boxes is dropped
}

// YOLO detects people with a single-class Darknet YOLO network such as
// Yolo-Fastest body. Every class column counts as "person".
//
// It does not look again at a picture that has not changed since it last
// looked (changeProbe: nothing moved anywhere beyond noise): its findings
// stand. Between visitors a hall's picture is often still while clerks
// sit, and the network is most of what analysis costs.
type YOLO struct {
	opts    YOLOOptions
	net     gocv.Net
	outputs []string

	looked     *changeProbe  // the picture last detected on
	lookedSize image.Point   // its size in pixels
	found      []Detection   // what was found on it
	looks      atomic.Uint64 // network runs (Looks)
}

// NewYOLO validates and loads the model; errors name the file at fault.
func NewYOLO(o YOLOOptions) (*YOLO, error) {
	if o.ScoreThreshold <= 0 || o.ScoreThreshold >= 1 {
		return nil, fmt.Errorf("yolo score threshold %v: must be in (0, 1)", o.ScoreThreshold)
	}
	if o.NMSThreshold <= 0 || o.NMSThreshold >= 1 {
		return nil, fmt.Errorf("yolo NMS threshold %v: must be in (0, 1)", o.NMSThreshold)
	}
	m := o.Model
	if err := darknet.Check(m.CfgName, m.Cfg, m.WeightsName, m.Weights, o.InputSize); err != nil {
		return nil, err
	}
	net, err := gocv.ReadNetBytes("darknet", m.Weights, m.Cfg)
	if err != nil || net.Empty() {
		return nil, fmt.Errorf("yolo model %s + %s: OpenCV returned an empty network (%v)", m.CfgName, m.WeightsName, err)
	}
	names := net.GetLayerNames()
	var outputs []string
	for _, id := range net.GetUnconnectedOutLayers() {
		if id < 1 || id > len(names) {
			net.Close()
			return nil, fmt.Errorf("yolo model %s: output layer id %d out of range", m.CfgName, id)
		}
		outputs = append(outputs, names[id-1]) // ids count the input layer, names do not
	}
	return &YOLO{opts: o, net: net, outputs: outputs, looked: newChangeProbe()}, nil
}

// Looks counts the pictures the network ran on; the other frames reused
// its findings on an unchanged picture. Safe to call during Detect.
func (y *YOLO) Looks() uint64 { return y.looks.Load() }

// Detect runs the network on frame (BGR) and returns boxes after NMS.
func (y *YOLO) Detect(frame gocv.Mat) ([]Detection, error) {
	if err := checkFrame(frame); err != nil {
		return nil, fmt.Errorf("yolo: %w", err)
	}
	size := image.Pt(frame.Cols(), frame.Rows())
	sameSize := size == y.lookedSize
	if sameSize && !y.looked.changed(frame) {
		return slices.Clone(y.found), nil
	}
	dets, err := y.detect(frame)
	if err != nil {
		return nil, err
	}
	if sameSize {
		y.looked.adopt() // changed has shrunk this picture already
	} else {
		y.looked.reset(frame, nil)
	}
	y.lookedSize, y.found = size, slices.Clone(dets)
	return dets, nil
}

// detect runs the network.
func (y *YOLO) detect(frame gocv.Mat) ([]Detection, error) {
	y.looks.Add(1)
	size := image.Pt(y.opts.InputSize, y.opts.InputSize)
	blob := gocv.BlobFromImage(frame, 1.0/255, size, gocv.NewScalar(0, 0, 0, 0), true, false)
	defer blob.Close()
	y.net.SetInput(blob, "")
	outs := y.net.ForwardLayers(y.outputs)
	defer func() {
		for i := range outs {
			outs[i].Close()
		}
	}()
	w, h := frame.Cols(), frame.Rows()
	var boxes []image.Rectangle
	var scores []float32
	for i := range outs {
		rows, cols := outs[i].Rows(), outs[i].Cols()
		if cols < 6 {
			return nil, fmt.Errorf("yolo: output %q has %d columns, want at least 6 (x, y, w, h, objectness, class)", y.outputs[i], cols)
		}
		data, err := outs[i].DataPtrFloat32()
		if err != nil {
			return nil, fmt.Errorf("yolo: output %q: %w", y.outputs[i], err)
		}
		for r := 0; r < rows; r++ {
			row := data[r*cols : (r+1)*cols]
			var score float32
			for _, s := range row[5:] { // class scores, already scaled by objectness
				score = max(score, s)
			}
			if score < y.opts.ScoreThreshold {
				continue
			}
			cx, cy := float64(row[0])*float64(w), float64(row[1])*float64(h)
			bw, bh := float64(row[2])*float64(w), float64(row[3])*float64(h)
			box := clipRect(image.Rect(int(cx-bw/2), int(cy-bh/2), int(cx+bw/2), int(cy+bh/2)), w, h)
			if box.Empty() {
				continue
			}
			boxes = append(boxes, box)
			scores = append(scores, score)
		}
	}
	if len(boxes) == 0 {
		return nil, nil
	}
	keep := make([]int, len(boxes))
	for i := range keep {
		keep[i] = -1
	}
	gocv.NMSBoxes(boxes, scores, y.opts.ScoreThreshold, y.opts.NMSThreshold, keep)
	dets := make([]Detection, 0, len(boxes))
	for _, k := range keep {
		if k < 0 {
			break
		}
		dets = append(dets, Detection{Box: boxes[k], Score: scores[k]})
	}
	return dets, nil
}

// Close frees the network.
func (y *YOLO) Close() error {
	y.looked.Close()
	return y.net.Close()
}
