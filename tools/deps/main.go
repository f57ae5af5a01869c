package main

import (
	_ "github.com/bluenviron/gortsplib/v5"
	_ "github.com/chromedp/chromedp"
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/mattn/go-sqlite3"
	_ "github.com/pion/webrtc/v4"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "go.yaml.in/yaml/v3"
	_ "gocv.io/x/gocv"
	_ "golang.org/x/crypto/argon2"
)

func main() {}
