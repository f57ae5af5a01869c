// Package models ships hallwatch's person detector in the binary: the
// Yolo-Fastest 1.1 single-class "body" model (Darknet cfg and weights,
// 1.2 MB, YOLO licence v2 = public domain, see yolo-fastest-1.1-body/LICENSE;
// upstream: dog-qiuqiu/Yolo-Fastest, ModelZoo yolo-fastest-1.1_body). It is
// what detector.kind auto runs when detector.model and detector.weights are
// left empty, so the default works everywhere with no file to install.
package models

import _ "embed" // the model files

// BodyName names the shipped model in logs, errors and the camera status.
const BodyName = "Yolo-Fastest 1.1 body (shipped)"

var (
	//go:embed yolo-fastest-1.1-body/yolo-fastest-1.1_body.cfg
	bodyCfg []byte
	//go:embed yolo-fastest-1.1-body/yolo-fastest-1.1_body.weights
	bodyWeights []byte
)

// Body returns the shipped model's cfg and weights. The slices are shared:
// callers must not modify them.
func Body() (cfg, weights []byte) { return bodyCfg, bodyWeights }
